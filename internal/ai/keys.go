package ai

import (
	"math/rand/v2"
	"sync"
	"time"
)

// keyHealth remembers provider keys taken out of rotation after a 401 or
// 403. It outlives reloads (shared through pipeline.Env) so that a reload
// does not put a rejected key straight back.
type keyHealth struct {
	mu      sync.Mutex
	ejected map[string]time.Time
}

func newKeyHealth() *keyHealth { return &keyHealth{ejected: map[string]time.Time{}} }

func (h *keyHealth) healthy(id string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.ejected[id]
	if !ok {
		return true
	}
	if now.After(until) {
		delete(h.ejected, id)
		return true
	}
	return false
}

// eject takes a key out until the given time; it reports whether the key
// was in rotation (so the rejection is logged once, not per request).
func (h *keyHealth) eject(id string, until time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, was := h.ejected[id]
	h.ejected[id] = until
	return !was
}

// pickKey chooses a healthy key not tried yet in this request, weighted
// by its weight. ok is false when none is left.
func (g *Gateway) pickKey(p *Provider, tried map[string]bool, now time.Time) (providerKey, bool) {
	if len(p.keys) == 0 {
		if p.keyless && !tried[p.Name+"#"] {
			return providerKey{id: ""}, true
		}
		return providerKey{}, false
	}
	total := 0
	var cands [8]int
	idx := cands[:0]
	for i, k := range p.keys {
		if tried[p.Name+"#"+k.id] || !g.health.healthy(p.Name+"#"+k.id, now) {
			continue
		}
		idx = append(idx, i)
		total += k.weight
	}
	if len(idx) == 0 {
		return providerKey{}, false
	}
	n := rand.IntN(total)
	for _, i := range idx {
		n -= p.keys[i].weight
		if n < 0 {
			return p.keys[i], true
		}
	}
	return p.keys[idx[len(idx)-1]], true
}
