package waf

import (
	"fmt"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
)

// engine is one built Coraza WAF and the number of layers using it.
// Building CRS takes about a second and tens of megabytes, so routes with
// identical engine settings share one, and a reload that keeps the settings
// keeps the engine: the new pipeline acquires it before the old one
// releases it.
type engine struct {
	key  string
	waf  coraza.WAF
	refs int
}

var (
	enginesMu sync.Mutex
	engines   = map[string]*engine{}
)

// acquire returns the engine for c, building it on first use. The lock is
// held while building so that concurrent route builds with the same
// settings build once.
func acquire(c Config) (*engine, error) {
	key := c.engineKey()
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if e, ok := engines[key]; ok {
		e.refs++
		return e, nil
	}
	w, err := newCorazaWAF(c)
	if err != nil {
		return nil, err
	}
	e := &engine{key: key, waf: w, refs: 1}
	engines[key] = e
	return e, nil
}

// release drops one reference and closes the WAF when it was the last, so
// a reload that changes the settings frees the old rule set.
func (e *engine) release() error {
	enginesMu.Lock()
	e.refs--
	last := e.refs == 0
	if last {
		delete(engines, e.key)
	}
	enginesMu.Unlock()
	if !last {
		return nil
	}
	if c, ok := e.waf.(experimental.WAFCloser); ok {
		return c.Close()
	}
	return nil
}

// newCorazaWAF builds CRS with the config's directives. opts adjust the
// Coraza config (the rule profiler attaches its clock this way).
func newCorazaWAF(c Config, opts ...func(coraza.WAFConfig) coraza.WAFConfig) (coraza.WAF, error) {
	wc := coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(directives(c))
	for _, o := range opts {
		wc = o(wc)
	}
	w, err := coraza.NewWAF(wc)
	if err != nil {
		return nil, fmt.Errorf("building the Core Rule Set: %w", err)
	}
	// Build the prefilter automaton now, with the rules' new literals,
	// rather than on the first request.
	reg.scanner()
	return w, nil
}
