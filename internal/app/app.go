package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"pinpoint/internal/admin"
	"pinpoint/internal/calllog"
	"pinpoint/internal/config"
	"pinpoint/internal/gateway"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

// App is a running gateway with its store and admin API.
type App struct {
	Config  *config.Config
	Env     *pipeline.Env
	Store   *store.Store
	Log     *calllog.Log
	Writer  *trace.Writer
	Gateway *gateway.Gateway
	Admin   *admin.Server
	Server  *gateway.Server
	// AdminAddr is the bound admin address ("" when off).
	AdminAddr string
	// AdminToken is set when the app generated the token itself.
	AdminToken string
	Logger     *slog.Logger

	adminSrv *http.Server
	adminLn  net.Listener
	closers  []func()
}

// Hook runs when an app has been assembled, before it serves; it may add
// observers, admin endpoints and background work (register cleanups with
// OnClose).
type Hook func(ctx context.Context, a *App) error

var (
	hookMu sync.Mutex
	hooks  []Hook
)

// OnStart registers a hook; feature packages call it from init.
func OnStart(h Hook) {
	hookMu.Lock()
	defer hookMu.Unlock()
	hooks = append(hooks, h)
}

// OnClose registers a cleanup run when the app stops.
func (a *App) OnClose(f func()) { a.closers = append(a.closers, f) }

// Options tune Start.
type Options struct {
	Logger *slog.Logger
	// Load re-reads the config on reload (nil for an embedded config).
	Load func() (*config.Config, error)
	// AdminToken overrides the config's admin token.
	AdminToken string
	// Prepare runs after the store opens and before the gateway is built
	// (the demo seeds its data here).
	Prepare func(ctx context.Context, st *store.Store) error
}

// Start opens the store, builds the gateway and binds every listener.
func Start(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	a := &App{Config: cfg, Logger: logger}
	st, err := store.Open(ctx, cfg.Store.Driver, cfg.Store.DSN)
	if err != nil {
		return nil, err
	}
	a.Store = st
	a.OnClose(func() { st.Close() })
	if opts.Prepare != nil {
		if err := opts.Prepare(ctx, st); err != nil {
			a.Close()
			return nil, err
		}
	}
	a.Env = pipeline.NewEnv(logger, st)
	a.Log = calllog.New(st)
	a.Writer = trace.NewWriter(a.Log, cfg.Store.Queue, logger)
	a.Gateway, err = gateway.New(cfg, gateway.Options{Env: a.Env, Writer: a.Writer, Load: opts.Load})
	if err != nil {
		a.Writer.Close()
		a.Close()
		return nil, err
	}
	if cfg.Admin.Addr != "off" {
		token := opts.AdminToken
		if token == "" {
			token = cfg.Admin.Token
		}
		if token == "" && cfg.Admin.TokenHash == "" {
			token = admin.NewToken()
			a.AdminToken = token
		}
		a.Admin, err = admin.New(a.Env, gatewayAdapter{g: a.Gateway, env: a.Env}, token, cfg.Admin.TokenHash)
		if err != nil {
			a.shutdownCore()
			return nil, err
		}
		a.Admin.Extra["gateway"] = a.Gateway
		a.Admin.Extra["calllog"] = a.Log
		a.Admin.Extra["writer"] = a.Writer
	}
	hookMu.Lock()
	hs := append([]Hook(nil), hooks...)
	hookMu.Unlock()
	for _, h := range hs {
		if err := h(ctx, a); err != nil {
			a.shutdownCore()
			return nil, err
		}
	}
	a.Server, err = gateway.Listen(cfg, a.Gateway, logger)
	if err != nil {
		a.shutdownCore()
		return nil, err
	}
	if a.Admin != nil {
		addr := cfg.Admin.Addr
		if addr == "" {
			addr = "127.0.0.1:9901"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			a.Server.Shutdown()
			a.shutdownCore()
			return nil, fmt.Errorf("admin listener: %w", err)
		}
		a.adminLn = ln
		a.AdminAddr = ln.Addr().String()
		a.adminSrv = &http.Server{Handler: a.Admin, ReadHeaderTimeout: 10 * time.Second}
	}
	return a, nil
}

func (a *App) shutdownCore() {
	if a.Gateway != nil {
		a.Gateway.Close()
	}
	if a.Writer != nil {
		a.Writer.Close()
	}
	a.Close()
}

// Close runs cleanups in reverse order.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Run serves until ctx ends or SIGINT/SIGTERM arrives; SIGHUP and a change
// of the config file reload the config. Shutdown lets in-flight requests
// finish, then writes the queued trace records.
func (a *App) Run(ctx context.Context, watchFile string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if a.adminSrv != nil {
		go func() {
			if err := a.adminSrv.Serve(a.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Logger.Error("admin API stopped", "err", err)
			}
		}()
	}
	go func() {
		var lastMod time.Time
		if watchFile != "" {
			if fi, err := os.Stat(watchFile); err == nil {
				lastMod = fi.ModTime()
			}
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				a.Logger.Info("SIGHUP: reloading config")
				_ = a.Gateway.Reload(ctx)
			case <-tick.C:
				if watchFile == "" {
					continue
				}
				fi, err := os.Stat(watchFile)
				if err != nil || !fi.ModTime().After(lastMod) {
					continue
				}
				lastMod = fi.ModTime()
				a.Logger.Info("config file changed: reloading", "file", watchFile)
				_ = a.Gateway.Reload(ctx)
			}
		}
	}()
	err := a.Server.Serve(ctx)
	if a.adminSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.adminSrv.Shutdown(sctx)
		cancel()
	}
	a.Gateway.Close()
	a.Writer.Close()
	a.Close()
	return err
}

// gatewayAdapter gives the admin API what it needs of the gateway.
type gatewayAdapter struct {
	g   *gateway.Gateway
	env *pipeline.Env
}

func (ga gatewayAdapter) Reload(ctx context.Context) error { return ga.g.Reload(ctx) }

func (ga gatewayAdapter) Simulate(ctx context.Context, r *http.Request, o admin.SimulateOptions) (any, error) {
	var id *pipeline.Identity
	if o.AsConsumer != "" {
		if pipeline.ConsumerResolver == nil {
			id = &pipeline.Identity{ConsumerID: o.AsConsumer, Method: "simulated"}
		} else {
			var err error
			if id, err = pipeline.ConsumerResolver(ga.env, ga.g.Config(), o.AsConsumer); err != nil {
				return nil, err
			}
		}
	}
	if o.From != "" {
		r.RemoteAddr = net.JoinHostPort(o.From, "0")
	}
	return ga.g.Simulate(ctx, r, id), nil
}
