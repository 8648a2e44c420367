package authn

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenInfo is what a verified token says, independent of the consumer
// records (those are looked up per request, so an admin change to the
// consumer applies even to cached tokens).
type tokenInfo struct {
	subject string
	scopes  []string
	roles   []string
	tenant  string
	claims  map[string]any
	// exp is the token's expiry; zero means none.
	exp time.Time
	// until is when the cache entry stops being trusted (introspection's
	// TTL); zero means at exp.
	until time.Time
	// inactive records an introspection "active: false" answer.
	inactive bool
}

// tokenCache maps a SHA-256 of the token to what verifying it found. Keys
// are hashes so the cache never holds a usable token. It is bounded: when
// full, an arbitrary tenth is dropped (map order is random), which is
// cheaper than LRU bookkeeping on every hit.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]*tokenInfo
	max int
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[[32]byte]*tokenInfo), max: max}
}

func tokenHash(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

func (c *tokenCache) get(k [32]byte) *tokenInfo {
	c.mu.RLock()
	t := c.m[k]
	c.mu.RUnlock()
	return t
}

func (c *tokenCache) put(k [32]byte, t *tokenInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		drop := c.max/10 + 1
		for key := range c.m {
			delete(c.m, key)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.m[k] = t
}

func (c *tokenCache) remove(k [32]byte) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
