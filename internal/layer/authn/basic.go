package authn

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// basicAuth checks consumer passwords. bcrypt makes each check cost tens
// of milliseconds, by design; a verified (user, password) pair is cached by
// its SHA-256 together with the bcrypt hash it matched, so a password
// change (new hash) invalidates the entry at once.
type basicAuth struct {
	ttl time.Duration
	mu  sync.RWMutex
	ok  map[[32]byte]basicEntry
}

type basicEntry struct {
	hash  string
	until time.Time
}

const basicCacheMax = 10000

func newBasicAuth(c *BasicConfig) *basicAuth {
	ttl := c.CacheTTL
	if ttl <= 0 {
		ttl = DefaultBasicCacheTTL
	}
	return &basicAuth{ttl: ttl, ok: map[[32]byte]basicEntry{}}
}

func (l *Layer) basicFail(detail string) verdict.Verdict {
	return verdict.Denied("basic_auth_failed", "authn", detail).
		WithHeader("WWW-Authenticate", `Basic realm="`+l.realm+`", charset="UTF-8"`)
}

// checkBasic verifies "Authorization: Basic". An unknown user and a wrong
// password get the same answer and take the same time, so neither the
// detail nor the timing tells which usernames exist.
func (l *Layer) checkBasic(r *pipeline.Request, cred string) verdict.Verdict {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return l.basicFail("the Basic credential is not base64 of user:password")
	}
	user, pw, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return l.basicFail("the Basic credential has no user:password separator")
	}
	c := l.dir.Consumer(user)
	if c == nil || c.PasswordHash == "" {
		identity.BurnPasswordCheck(pw)
		return l.basicFail("the username or password is wrong").With("user", user)
	}
	now := l.now()
	key := sha256.Sum256([]byte(user + "\x00" + pw))
	b := l.basic
	b.mu.RLock()
	e, hit := b.ok[key]
	b.mu.RUnlock()
	if !hit || e.hash != c.PasswordHash || !now.Before(e.until) {
		if !identity.PasswordMatches(pw, c.PasswordHash) {
			return l.basicFail("the username or password is wrong").With("user", user)
		}
		b.mu.Lock()
		if len(b.ok) >= basicCacheMax {
			clear(b.ok)
		}
		b.ok[key] = basicEntry{hash: c.PasswordHash, until: now.Add(b.ttl)}
		b.mu.Unlock()
	}
	if v, stop := l.suspended(c); stop {
		return v
	}
	r.Identity = identityFor(c, "basic")
	return verdict.Pass().With("consumer", c.ID)
}
