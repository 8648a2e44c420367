package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/verdict"
)

// Layer is one policy check. Evaluate must not write a response and must
// not block on anything slower than the check itself. When r.DryRun is set
// it must not change state (no rate-limit tokens spent, no last-used times).
type Layer interface {
	// Name is the layer name from Order (e.g. "ip").
	Name() string
	Evaluate(ctx context.Context, r *Request) verdict.Verdict
}

// Handler answers a route itself instead of proxying it (AI endpoints,
// prompt templates, the demo upstream). It runs after every layer allowed.
type Handler interface {
	Serve(w http.ResponseWriter, r *Request)
}

// Closer is implemented by layers and handlers that hold resources (a WAF
// instance, a connection pool); they are closed when a reload retires them.
type Closer interface{ Close() error }

// Factory builds a layer from its config node. It validates the config and
// returns a clear error (naming the field) rather than failing at runtime.
type Factory func(b *Build, node *yaml.Node) (Layer, error)

// HandlerFactory builds a route handler from its config node.
type HandlerFactory func(b *Build, node *yaml.Node) (Handler, error)

var (
	regMu     sync.RWMutex
	factories = map[string]Factory{}
	handlers  = map[string]HandlerFactory{}
)

// Register makes a layer buildable under name; name must appear in Order.
// Layer packages call it from init; internal/layers imports them all.
func Register(name string, f Factory) {
	if orderIndex(name) < 0 {
		panic(fmt.Sprintf("pipeline: layer %q is not in pipeline.Order", name))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := factories[name]; dup {
		panic(fmt.Sprintf("pipeline: layer %q registered twice", name))
	}
	factories[name] = f
}

// RegisterHandler makes a route handler kind buildable under name.
func RegisterHandler(name string, f HandlerFactory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := handlers[name]; dup {
		panic(fmt.Sprintf("pipeline: handler %q registered twice", name))
	}
	handlers[name] = f
}

// LayerFactory returns the factory registered under name.
func LayerFactory(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := factories[name]
	return f, ok
}

// HandlerFactoryFor returns the handler factory registered under name.
func HandlerFactoryFor(name string) (HandlerFactory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := handlers[name]
	return f, ok
}

// LayerNames lists registered layers in pipeline order.
func LayerNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for _, n := range Order {
		if _, ok := factories[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// HandlerNames lists registered handler kinds, sorted.
func HandlerNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(handlers))
	for n := range handlers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
