package authn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"pinpoint/internal/pipeline"
)

// jwksSource fetches and caches an issuer's JSON Web Key Set. It lives in
// Env.Shared so reloads keep the fetched keys, and it refreshes at most
// once per minRefresh however many unknown kids arrive: a flood of tokens
// with made-up kids must not turn into a flood of requests to the issuer.
type jwksSource struct {
	url        string
	hc         *http.Client
	minRefresh time.Duration
	maxAge     time.Duration

	cur atomic.Pointer[fetchedSet]

	mu          sync.Mutex
	lastAttempt time.Time
	fetches     atomic.Int64
}

type fetchedSet struct {
	set *jose.JSONWebKeySet
	at  time.Time
}

func sharedJWKS(env *pipeline.Env, url string, minRefresh, maxAge time.Duration) (*jwksSource, error) {
	key := fmt.Sprintf("authn.jwks|%s|%s|%s", url, minRefresh, maxAge)
	v, err := env.Shared(key, func() (any, error) {
		return &jwksSource{url: url, hc: &http.Client{Timeout: 5 * time.Second}, minRefresh: minRefresh, maxAge: maxAge}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*jwksSource), nil
}

// keys returns the current set, fetching it when absent or older than
// maxAge (a failed refresh of a stale set keeps the stale one).
func (s *jwksSource) keys(ctx context.Context, now time.Time) (*jose.JSONWebKeySet, error) {
	cur := s.cur.Load()
	if cur != nil && now.Sub(cur.at) < s.maxAge {
		return cur.set, nil
	}
	_, err := s.refresh(ctx, now)
	if cur = s.cur.Load(); cur != nil {
		return cur.set, nil
	}
	return nil, err
}

// refresh fetches the set unless one was attempted within minRefresh; it
// reports whether it fetched.
func (s *jwksSource) refresh(ctx context.Context, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.minRefresh {
		return false, nil
	}
	s.lastAttempt = now
	s.fetches.Add(1)
	set, err := s.fetch(ctx)
	if err != nil {
		return false, err
	}
	s.cur.Store(&fetchedSet{set: set, at: now})
	return true, nil
}

func (s *jwksSource) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS %s: status %d", s.url, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", s.url, err)
	}
	return &set, nil
}
