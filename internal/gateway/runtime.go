package gateway

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/clientip"
	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// builtLayer is a layer instance in a route's pipeline with its mode.
type builtLayer struct {
	name  string
	layer pipeline.Layer
	// shadow turns the layer's denials into recorded shadow denials.
	shadow bool
}

// route is a configured route with its built pipeline.
type route struct {
	cfg         *config.Route
	info        *pipeline.RouteInfo
	layers      []builtLayer
	handler     pipeline.Handler
	pool        *pool
	stripPrefix string
	// routeStep is the route layer's verdict for the trace, built once:
	// its evidence (the pattern) is shared, read-only, by every request.
	routeStep verdict.Verdict
}

// runtime is everything built from one config. It is swapped atomically
// on reload; requests hold the runtime they started with until they end.
type runtime struct {
	cfg      *config.Config
	router   *Router
	routes   []*route
	pools    map[string]*pool
	clientIP *clientip.Resolver
	// trustedIDSources may set the incoming request id.
	trustedIDSources []netip.Prefix
	idHeader         string
	redact           *redactor
	closers          []pipeline.Closer

	inflight atomic.Int64
	retired  atomic.Bool
}

// RegisterSection declares a top-level config section (see
// pipeline.RegisterSection).
func RegisterSection(name string, checks ...pipeline.SectionCheck) {
	pipeline.RegisterSection(name, checks...)
}

// splitMode removes the generic "mode" key from a layer section and
// returns it: enforce (default), shadow or off.
func splitMode(n *yaml.Node, path string) (*yaml.Node, string, error) {
	if n == nil || n.Kind != yaml.MappingNode {
		return n, "enforce", nil
	}
	cp := *n
	cp.Content = nil
	mode := "enforce"
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "mode" {
			mode = n.Content[i+1].Value
			switch mode {
			case "enforce", "shadow", "off":
			default:
				return nil, "", config.NodeError(n.Content[i+1], path+".mode", fmt.Sprintf("must be enforce, shadow or off, got %q", mode))
			}
			continue
		}
		cp.Content = append(cp.Content, n.Content[i], n.Content[i+1])
	}
	return &cp, mode, nil
}

func layerNameError(key *yaml.Node, path, name string) error {
	names := append(pipeline.LayerNames(), "upstream", "handler", "id", "host", "path", "methods", "tenant", "service", "strip_prefix")
	msg := fmt.Sprintf("unknown field or layer %q", name)
	if s := config.Suggest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (layers: " + strings.Join(pipeline.LayerNames(), ", ") + ")"
	}
	return config.NodeError(key, path, msg)
}

// build makes a runtime from config. Every layer validates its own section;
// all errors are collected so one validation run shows every problem.
func build(cfg *config.Config, env *pipeline.Env) (*runtime, error) {
	rt := &runtime{cfg: cfg, pools: map[string]*pool{}}
	var es config.Errors
	fail := func(err error) {
		if ce, ok := err.(config.Errors); ok {
			es = append(es, ce...)
			return
		}
		es = append(es, err)
	}
	var err error
	if rt.clientIP, err = clientip.New(cfg.ClientIP); err != nil {
		fail(err)
	}
	for _, s := range cfg.RequestID.TrustedSources {
		if p, err := config.ParsePrefix(s); err == nil {
			rt.trustedIDSources = append(rt.trustedIDSources, p)
		}
	}
	rt.idHeader = http.CanonicalHeaderKey(cfg.RequestID.Header)
	if rt.idHeader == "" {
		rt.idHeader = "X-Request-Id"
	}
	rt.redact = newRedactor(cfg.Redact)
	for name := range cfg.Sections {
		if !pipeline.SectionKnown(name) {
			names := append([]string{"listeners", "admin", "store", "server", "request_id", "client_ip", "redact", "upstreams", "global", "routes"}, pipeline.Sections()...)
			msg := fmt.Sprintf("unknown top-level section %q", name)
			if s := config.Suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			n := cfg.Sections[name]
			fail(config.NodeError(&n, name, msg))
			continue
		}
		n := cfg.Sections[name]
		for _, err := range pipeline.CheckSection(name, &n) {
			fail(err)
		}
	}
	for name, u := range cfg.Upstreams {
		p, err := newPool(name, u, env.Logger)
		if err != nil {
			fail(err)
			continue
		}
		rt.pools[name] = p
	}
	for gname, gnode := range cfg.Global {
		if _, ok := pipeline.LayerFactory(gname); !ok {
			n := gnode
			fail(layerNameError(&n, "global", gname))
		}
	}
	for i, rc := range cfg.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		r := &route{cfg: rc, pool: rt.pools[rc.Upstream]}
		r.info = &pipeline.RouteInfo{ID: rc.ID, Tenant: rc.Tenant, Service: rc.Service, Pattern: rc.Path, Upstream: rc.Upstream}
		r.routeStep = verdict.Verdict{Rule: rc.ID}.With("pattern", rc.Path)
		if rc.StripPrefix {
			lit := rc.Path
			if j := strings.IndexAny(lit, "{*"); j >= 0 {
				lit = lit[:j]
			}
			r.stripPrefix = strings.TrimSuffix(lit, "/")
		}
		for name := range rc.Layers {
			if _, ok := pipeline.LayerFactory(name); !ok {
				n := rc.Layers[name]
				fail(layerNameError(&n, path, name))
			}
		}
		for kind, node := range rc.Handler {
			r.info.Handler = kind
			if kind == "ai" {
				r.info.Format = uint8(verdict.OpenAI)
			}
			f, ok := pipeline.HandlerFactoryFor(kind)
			if !ok {
				msg := fmt.Sprintf("unknown handler %q", kind)
				if s := config.Suggest(kind, pipeline.HandlerNames()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				n := node
				fail(config.NodeError(&n, path+".handler", msg))
				continue
			}
			n := node
			h, err := f(&pipeline.Build{Env: env, Path: path + ".handler." + kind, Route: r.info, Global: cfg}, &n)
			if err != nil {
				fail(err)
				continue
			}
			r.handler = h
			if c, ok := h.(pipeline.Closer); ok {
				rt.closers = append(rt.closers, c)
			}
		}
		for _, name := range pipeline.Order {
			f, ok := pipeline.LayerFactory(name)
			if !ok {
				continue
			}
			lpath := path + "." + name
			node, has := rc.Layers[name]
			if !has {
				node, has = cfg.Global[name]
				lpath = "global." + name
			}
			if !has {
				continue
			}
			n, mode, err := splitMode(&node, lpath)
			if err != nil {
				fail(err)
				continue
			}
			if mode == "off" {
				continue
			}
			l, err := f(&pipeline.Build{Env: env, Path: lpath, Route: r.info, Global: cfg}, n)
			if err != nil {
				fail(err)
				continue
			}
			if l == nil {
				continue
			}
			r.layers = append(r.layers, builtLayer{name: name, layer: l, shadow: mode == "shadow"})
			if c, ok := l.(pipeline.Closer); ok {
				rt.closers = append(rt.closers, c)
			}
		}
		rt.routes = append(rt.routes, r)
	}
	if len(es) > 0 {
		rt.close()
		return nil, es
	}
	rt.router = newRouter(rt.routes)
	return rt, nil
}

// acquire marks a request as using rt; it fails once rt is retired so
// the caller loads the new runtime instead.
func (rt *runtime) acquire() bool {
	rt.inflight.Add(1)
	if rt.retired.Load() {
		rt.inflight.Add(-1)
		return false
	}
	return true
}

func (rt *runtime) release() { rt.inflight.Add(-1) }

// retire waits for in-flight requests to finish (up to grace), then
// releases the runtime's resources.
func (rt *runtime) retire(grace time.Duration) {
	rt.retired.Store(true)
	deadline := time.Now().Add(grace)
	for rt.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	rt.close()
}

func (rt *runtime) close() {
	for _, c := range rt.closers {
		_ = c.Close()
	}
	for _, p := range rt.pools {
		p.close()
	}
}

func (rt *runtime) requestID(r *http.Request, peer netip.Addr) string {
	if in := r.Header.Get(rt.idHeader); in != "" && len(rt.trustedIDSources) > 0 {
		for _, p := range rt.trustedIDSources {
			if p.Contains(peer) {
				if validID(in) {
					return in
				}
				break
			}
		}
	}
	return newID()
}
