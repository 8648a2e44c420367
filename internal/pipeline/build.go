package pipeline

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/store"
)

// Env holds what outlives one config: the store, the logger, the clock and
// long-lived shared resources (connection pools) that reloads reuse.
type Env struct {
	Logger *slog.Logger
	Store  *store.Store
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu     sync.Mutex
	shared map[string]any
}

// NewEnv returns an Env with the wall clock and the given logger and store.
func NewEnv(logger *slog.Logger, st *store.Store) *Env {
	if logger == nil {
		logger = slog.Default()
	}
	return &Env{Logger: logger, Store: st, Now: time.Now}
}

// Shared returns the resource under key, creating it once. Resources that
// must survive reloads (a Redis client, a JWKS cache) live here.
func (e *Env) Shared(key string, create func() (any, error)) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.shared[key]; ok {
		return v, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	if e.shared == nil {
		e.shared = map[string]any{}
	}
	e.shared[key] = v
	return v, nil
}

// RouteInfo is what layers may know about the route a request matched.
type RouteInfo struct {
	ID       string
	Tenant   string
	Service  string
	Pattern  string
	Upstream string
	Handler  string
	// Format is the denial body shape for this route (problem or OpenAI).
	Format uint8
}

// Build is handed to factories: where in the config the node is, the route
// it belongs to (nil for global policies), and the environment.
type Build struct {
	Env   *Env
	Path  string
	Route *RouteInfo
	// Global is the whole decoded config, for layers that need top-level
	// sections (e.g. consumers defined declaratively).
	Global *config.Config
}

// Decode decodes node into out strictly: unknown fields and wrong types are
// errors naming the config path and line.
func (b *Build) Decode(node *yaml.Node, out any) error {
	return config.DecodeNode(node, out, b.Path)
}

// Errorf returns a config error for node, prefixed with its path and line.
func (b *Build) Errorf(node *yaml.Node, field, format string, args ...any) error {
	path := b.Path
	if field != "" {
		path += "." + field
	}
	return config.NodeError(node, path, fmt.Sprintf(format, args...))
}

var (
	sectionMu sync.RWMutex
	sections  = map[string][]SectionCheck{}
)

// SectionCheck validates a feature's own top-level section. It runs with
// every build (start, `config validate`, reload), so a reload whose
// section is wrong is refused and the running config stays.
type SectionCheck func(node *yaml.Node) error

// RegisterSection declares a top-level config section a feature package
// decodes itself (e.g. "consumers", "ai"), so that a typo in a section
// name is an error rather than silently ignored. Checks, if given, run on
// the section whenever a config is built.
func RegisterSection(name string, checks ...SectionCheck) {
	sectionMu.Lock()
	defer sectionMu.Unlock()
	sections[name] = append(sections[name], checks...)
}

// CheckSection runs the checks registered for a section.
func CheckSection(name string, node *yaml.Node) []error {
	sectionMu.RLock()
	checks := sections[name]
	sectionMu.RUnlock()
	var es []error
	for _, c := range checks {
		if err := c(node); err != nil {
			es = append(es, err)
		}
	}
	return es
}

// Sections lists the registered top-level sections.
func Sections() []string {
	sectionMu.RLock()
	defer sectionMu.RUnlock()
	out := make([]string, 0, len(sections))
	for n := range sections {
		out = append(out, n)
	}
	return out
}

// SectionKnown reports whether a top-level section is registered.
func SectionKnown(name string) bool {
	sectionMu.RLock()
	defer sectionMu.RUnlock()
	_, ok := sections[name]
	return ok
}

// ConsumerResolver finds a consumer's identity by id, for dry runs that
// simulate a consumer without a key (`pinpoint try --as`). The identity
// package sets it; nil means no consumer store is linked in.
var ConsumerResolver func(env *Env, cfg *config.Config, id string) (*Identity, error)
