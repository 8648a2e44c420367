package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/trace"
)

// Gateway serves requests with the current runtime and swaps it on reload.
type Gateway struct {
	env       *pipeline.Env
	cur       atomic.Pointer[runtime]
	writer    *trace.Writer
	observers []func(*trace.Record)
	onSwap    []func(*config.Config)
	// load re-reads the config for Reload; nil when the config is fixed.
	load     func() (*config.Config, error)
	reloadMu sync.Mutex
	// grace bounds how long a retired runtime waits for its requests.
	grace time.Duration
	// draining is set when the gateway stops: new requests are refused
	// with 503 shutting_down while the running ones finish.
	draining atomic.Bool
}

// Drain makes the gateway refuse new requests (503 shutting_down, with
// Connection: close) while those already running finish. Server.Shutdown
// calls it before it stops the listeners.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Options configure a Gateway.
type Options struct {
	Env *pipeline.Env
	// Writer receives trace records; nil disables the call log.
	Writer *trace.Writer
	// Load reads the config again on Reload.
	Load func() (*config.Config, error)
}

// New builds a gateway from cfg; an invalid config is an error.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	g := &Gateway{env: opts.Env, writer: opts.Writer, load: opts.Load, grace: 30 * time.Second}
	if g.env == nil {
		g.env = pipeline.NewEnv(nil, nil)
	}
	if cfg.Server.ShutdownGrace > 0 {
		g.grace = cfg.Server.ShutdownGrace
	}
	rt, err := build(cfg, g.env)
	if err != nil {
		return nil, err
	}
	g.cur.Store(rt)
	return g, nil
}

// Validate builds (and releases) a runtime, reporting every config error.
func Validate(cfg *config.Config, env *pipeline.Env) error {
	rt, err := build(cfg, env)
	if err != nil {
		return err
	}
	rt.close()
	return nil
}

// Observe adds a function called with every finished request's record
// (metrics, alerts). It must be quick and must not block.
func (g *Gateway) Observe(f func(*trace.Record)) { g.observers = append(g.observers, f) }

// OnSwap adds a function called with each new config after a successful
// reload, for features configured outside the pipeline (alerts, retention).
func (g *Gateway) OnSwap(f func(*config.Config)) { g.onSwap = append(g.onSwap, f) }

// Config is the config currently serving.
func (g *Gateway) Config() *config.Config { return g.cur.Load().cfg }

// Writer is the trace writer (nil when the call log is off).
func (g *Gateway) Writer() *trace.Writer { return g.writer }

func (g *Gateway) acquire() *runtime {
	for {
		rt := g.cur.Load()
		if rt.acquire() {
			return rt
		}
	}
}

func (g *Gateway) proxyFn(rt *runtime, w http.ResponseWriter, pr *pipeline.Request, rte *route, extra http.Header) {
	rt.proxy(w, pr, rte, extra)
}

// ErrNoConfigFile is returned by Reload when the gateway runs an embedded
// config.
var ErrNoConfigFile = errors.New("this gateway runs an embedded config; there is no file to reload")

// Reload re-reads the config, builds and validates the whole new runtime,
// and swaps it in atomically. On any error the old runtime keeps serving
// and the error says why. Requests in flight finish on the runtime they
// started with; the old one is released once they are done.
func (g *Gateway) Reload(ctx context.Context) error {
	if g.load == nil {
		return ErrNoConfigFile
	}
	cfg, err := g.load()
	if err != nil {
		g.env.Logger.Error("config reload rejected; keeping the running config", "err", err)
		return fmt.Errorf("new config rejected, the running config stays: %w", err)
	}
	return g.Swap(cfg)
}

// Swap installs cfg as the running config (see Reload).
func (g *Gateway) Swap(cfg *config.Config) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	rt, err := build(cfg, g.env)
	if err != nil {
		g.env.Logger.Error("config reload rejected; keeping the running config", "err", err)
		return fmt.Errorf("new config rejected, the running config stays: %w", err)
	}
	old := g.cur.Swap(rt)
	go old.retire(g.grace)
	for _, f := range g.onSwap {
		f(cfg)
	}
	g.env.Logger.Info("config reloaded", "routes", len(cfg.Routes))
	if stale := restartOnly(old.cfg, cfg); len(stale) > 0 {
		g.env.Logger.Warn("config reloaded, but these sections changed and take effect only after a restart", "sections", stale)
	}
	return nil
}

// restartOnly names the sections that differ between two configs and
// that a reload cannot apply: they are bound when the process starts.
func restartOnly(old, cur *config.Config) []string {
	var out []string
	if !reflect.DeepEqual(old.Listeners, cur.Listeners) {
		out = append(out, "listeners")
	}
	if !reflect.DeepEqual(old.Admin, cur.Admin) {
		out = append(out, "admin")
	}
	if old.Store.Driver != cur.Store.Driver || old.Store.DSN != cur.Store.DSN || old.Store.Queue != cur.Store.Queue {
		out = append(out, "store (driver, dsn, queue)")
	}
	if !reflect.DeepEqual(old.Server, cur.Server) {
		out = append(out, "server")
	}
	return out
}

// Close releases the running runtime (after in-flight requests end).
func (g *Gateway) Close() {
	if rt := g.cur.Load(); rt != nil {
		rt.retire(g.grace)
	}
}

// UpstreamHealth reports each upstream target's health.
func (g *Gateway) UpstreamHealth() map[string][]map[string]any {
	rt := g.cur.Load()
	out := map[string][]map[string]any{}
	for name, p := range rt.pools {
		out[name] = p.health()
	}
	return out
}
