package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pinpoint/internal/layer/ratelimit/limit"
)

const addr = "127.0.0.1:6379"

// client connects to the local Redis. Without it the test skips, unless
// CI is set: then a missing Redis is a failure, not a silent pass.
func client(tb testing.TB) *redis.Client {
	tb.Helper()
	opt, err := Options("redis://"+addr+"/0", time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("Redis at %s is required in CI: %v", addr, err)
		}
		tb.Skipf("no Redis at %s: %v", addr, err)
	}
	return c
}

// prefix is unique per test so parallel runs never share keys.
func prefix(tb testing.TB) string {
	return fmt.Sprintf("pinpoint-test:%s:%d:", tb.Name(), time.Now().UnixNano())
}

// TestTwoNodesShareOneCount runs two independent limiters, each with its
// own client (as two gateway nodes would), hammering the same key
// concurrently: together they admit exactly the limit.
func TestTwoNodesShareOneCount(t *testing.T) {
	t.Parallel()
	p := prefix(t)
	nodes := []*Store{New(client(t), p, 0), New(client(t), p, 0)}
	for _, tc := range []struct {
		name string
		l    limit.Limit
	}{
		// An hour per token: nothing refills while the test runs.
		{"rate", limit.Limit{Interval: time.Hour, Burst: 50}},
		{"quota", limit.Limit{Kind: limit.Quota, Max: 50, WindowEnd: time.Now().Add(time.Hour)}},
	} {
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for _, n := range nodes {
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 30 {
						d, err := n.Allow(context.Background(), tc.name, tc.l)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							admitted.Add(1)
						}
					}
				}()
			}
		}
		wg.Wait()
		if got := admitted.Load(); got != 50 {
			t.Errorf("%s: two nodes admitted %d, want exactly 50", tc.name, got)
		}
	}
}

func TestRateDecision(t *testing.T) {
	t.Parallel()
	s := New(client(t), prefix(t), 0)
	ctx := context.Background()
	l := limit.Limit{Interval: time.Minute, Burst: 3}
	for i := range 3 {
		d, err := s.Allow(ctx, "k", l)
		if err != nil || !d.Allowed || d.Remaining != int64(2-i) {
			t.Fatalf("request %d: %+v %v", i, d, err)
		}
	}
	d, err := s.Allow(ctx, "k", l)
	if err != nil || d.Allowed {
		t.Fatalf("4th: %+v %v", d, err)
	}
	// Retry in about one interval, full reset in about three.
	if d.RetryAfter < 59*time.Second || d.RetryAfter > time.Minute || d.ResetAfter < 179*time.Second || d.ResetAfter > 3*time.Minute {
		t.Errorf("retry %v reset %v", d.RetryAfter, d.ResetAfter)
	}
}

func TestPeekDoesNotSpend(t *testing.T) {
	t.Parallel()
	c := client(t)
	p := prefix(t)
	s := New(c, p, 0)
	ctx := context.Background()
	for _, l := range []limit.Limit{
		{Interval: time.Minute, Burst: 1, Peek: true},
		{Kind: limit.Quota, Max: 1, WindowEnd: time.Now().Add(time.Hour), Peek: true},
	} {
		key := fmt.Sprint("k", l.Kind)
		for range 3 {
			if d, err := s.Allow(ctx, key, l); err != nil || !d.Allowed {
				t.Fatalf("peek %v: %+v %v", l.Kind, d, err)
			}
		}
		if n, _ := c.Exists(ctx, p+key).Result(); n != 0 {
			t.Errorf("peek %v wrote the key", l.Kind)
		}
	}
}

func TestQuotaExpiresAtWindowEnd(t *testing.T) {
	t.Parallel()
	c := client(t)
	p := prefix(t)
	s := New(c, p, 0)
	ctx := context.Background()
	end := time.Now().Add(90 * time.Minute)
	l := limit.Limit{Kind: limit.Quota, Max: 2, WindowEnd: end}
	for i := range 2 {
		if d, err := s.Allow(ctx, "q", l); err != nil || !d.Allowed || d.Remaining != int64(1-i) {
			t.Fatalf("request %d: %+v %v", i, d, err)
		}
	}
	d, err := s.Allow(ctx, "q", l)
	if err != nil || d.Allowed || d.RetryAfter < 89*time.Minute {
		t.Fatalf("over quota: %+v %v", d, err)
	}
	at, err := c.PExpireTime(ctx, p+"q").Result()
	if err != nil || at.Milliseconds() != end.UnixMilli() {
		t.Errorf("expire time %v (%v), want %v", at, err, end.UnixMilli())
	}
}

// commandCounter records every command a client sends.
type commandCounter struct {
	mu    sync.Mutex
	names []string
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, "pipeline")
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestOneRoundTripPerDecision: every decision, admitted or refused, rate
// or quota, is exactly one EVALSHA.
func TestOneRoundTripPerDecision(t *testing.T) {
	t.Parallel()
	c := client(t)
	s := New(c, prefix(t), 0)
	ctx := context.Background()
	if err := s.Preload(ctx); err != nil {
		t.Fatal(err)
	}
	cc := &commandCounter{}
	c.AddHook(cc)
	for i := range 10 {
		l := limit.Limit{Interval: time.Minute, Burst: 3}
		if i%2 == 1 {
			l = limit.Limit{Kind: limit.Quota, Max: 3, WindowEnd: time.Now().Add(time.Hour)}
		}
		if _, err := s.Allow(ctx, fmt.Sprint("k", l.Kind), l); err != nil {
			t.Fatal(err)
		}
	}
	if len(cc.names) != 10 {
		t.Fatalf("10 decisions sent %d commands: %v", len(cc.names), cc.names)
	}
	for _, n := range cc.names {
		if n != "evalsha" {
			t.Fatalf("commands %v, want only evalsha", cc.names)
		}
	}
}

func TestUnreachableAndCooldown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	opt, err := Options("redis://"+dead, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	s := New(c, "x:", time.Minute)
	l := limit.Limit{Interval: time.Second, Burst: 1}
	_, err = s.Allow(context.Background(), "k", l)
	if err == nil || errors.Is(err, ErrCoolingDown) || !strings.Contains(err.Error(), "redis rate limit") {
		t.Fatalf("first error %v", err)
	}
	start := time.Now()
	if _, err := s.Allow(context.Background(), "k", l); !errors.Is(err, ErrCoolingDown) {
		t.Fatalf("second error %v, want cooldown", err)
	}
	if time.Since(start) > 10*time.Millisecond {
		t.Error("cooldown did not fail fast")
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	opt, err := Options("redis://127.0.0.1:6379/3", 0)
	if err != nil || opt.DB != 3 || opt.ReadTimeout != 100*time.Millisecond || opt.MaxRetries != 0 {
		t.Errorf("%+v %v", opt, err)
	}
	if _, err := Options("http://x", 0); err == nil {
		t.Error("bad URL accepted")
	}
}

func BenchmarkAllow(b *testing.B) {
	s := New(client(b), prefix(b), 0)
	ctx := context.Background()
	if err := s.Preload(ctx); err != nil {
		b.Fatal(err)
	}
	l := limit.Limit{Interval: time.Microsecond, Burst: 1 << 30}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Allow(ctx, "bench", l); err != nil {
			b.Fatal(err)
		}
	}
}
