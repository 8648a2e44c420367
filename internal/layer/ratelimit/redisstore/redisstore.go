// Package redisstore is the shared rate-limit backend: every decision is
// one EVALSHA of a Lua script that runs GCRA (or a quota counter)
// atomically inside Redis with Redis's own clock, so several gateway nodes
// share one count and their clocks do not matter.
package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"pinpoint/internal/layer/ratelimit/limit"
)

//go:embed decide.lua
var decideSrc string

// script is shared: go-redis sends EVALSHA and falls back to EVAL (loading
// the script) only when the server answers NOSCRIPT.
var script = redis.NewScript(decideSrc)

// Store is the Redis backend.
type Store struct {
	client redis.Scripter
	prefix string
	// cooldown: after a failure, fail fast for this long instead of making
	// every request wait for a dead server's timeout.
	cooldown time.Duration
	downAt   atomic.Int64
	now      func() time.Time
}

var _ limit.Store = (*Store)(nil)

// New returns a store over client; keys are prefixed with prefix.
func New(client redis.Scripter, prefix string, cooldown time.Duration) *Store {
	return &Store{client: client, prefix: prefix, cooldown: cooldown, now: time.Now}
}

// ErrCoolingDown is returned while the store skips Redis after a failure.
var ErrCoolingDown = errors.New("redis failed recently; not retrying yet")

// Preload loads the script so that the first decision is already one
// EVALSHA. Failure is not fatal: Run loads it on NOSCRIPT.
func (s *Store) Preload(ctx context.Context) error {
	return script.Load(ctx, s.client).Err()
}

// Allow implements limit.Store.
func (s *Store) Allow(ctx context.Context, key string, l limit.Limit) (limit.Decision, error) {
	if s.cooldown > 0 {
		if at := s.downAt.Load(); at != 0 && s.now().UnixNano()-at < int64(s.cooldown) {
			return limit.Decision{}, ErrCoolingDown
		}
	}
	peek := "0"
	if l.Peek {
		peek = "1"
	}
	var args []any
	if l.Kind == limit.Quota {
		args = []any{"q", l.Max, l.WindowEnd.UnixMilli(), peek}
	} else {
		args = []any{"r", l.Interval.Microseconds(), l.Burst, peek}
	}
	res, err := script.Run(ctx, s.client, []string{s.prefix + key}, args...).Int64Slice()
	if err != nil {
		if s.cooldown > 0 {
			s.downAt.Store(s.now().UnixNano())
		}
		return limit.Decision{}, fmt.Errorf("redis rate limit: %w", err)
	}
	s.downAt.Store(0)
	if len(res) != 3 {
		return limit.Decision{}, fmt.Errorf("redis rate limit: script returned %d values, want 3", len(res))
	}
	if l.Kind == limit.Quota {
		// The window end is known here; Redis only counts.
		_, d := limit.QuotaDecision(res[1], s.now(), limit.Limit{Kind: limit.Quota, Max: l.Max, WindowEnd: l.WindowEnd})
		if (res[0] == 1) != d.Allowed {
			return limit.Decision{}, errors.New("redis rate limit: quota script and gateway disagree")
		}
		return d, nil
	}
	us := time.Microsecond
	d := limit.Decision{Allowed: res[0] == 1}
	if d.Allowed {
		d.Remaining = res[1]
		d.ResetAfter = time.Duration(res[2]) * us
	} else {
		d.RetryAfter = time.Duration(res[1]) * us
		d.ResetAfter = time.Duration(res[2]) * us
	}
	return d, nil
}

// Options are the client settings a gateway uses for its limiter: short
// timeouts, because a limiter that waits seconds for Redis is worse than
// one that fails over to the route's on_backend_error choice.
func Options(url string, timeout time.Duration) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	opt.DialTimeout = 2 * timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.MaxRetries = 0
	// go-redis retries a failed dial five times by default, 100ms apart:
	// half a second per request while Redis is down.
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = 10 * time.Millisecond
	opt.ContextTimeoutEnabled = true
	return opt, nil
}
