package memory

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pinpoint/internal/layer/ratelimit/limit"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2025, 6, 14, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func TestRateBurstAndRefill(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := New(c.now)
	l := limit.Limit{Interval: time.Second, Burst: 5}
	ctx := context.Background()
	for i := range 5 {
		if d, _ := s.Allow(ctx, "k", l); !d.Allowed || d.Remaining != int64(4-i) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d, _ := s.Allow(ctx, "k", l)
	if d.Allowed || d.RetryAfter != time.Second || d.ResetAfter != 5*time.Second {
		t.Fatalf("6th: %+v", d)
	}
	if d, _ := s.Allow(ctx, "other", l); !d.Allowed {
		t.Fatal("keys are not independent")
	}
	c.add(time.Second)
	if d, _ := s.Allow(ctx, "k", l); !d.Allowed {
		t.Fatalf("after refill: %+v", d)
	}
	if d, _ := s.Allow(ctx, "k", l); d.Allowed {
		t.Fatal("refill gave more than one")
	}
}

func TestPeekDoesNotSpend(t *testing.T) {
	t.Parallel()
	s := New(newClock().now)
	ctx := context.Background()
	for _, l := range []limit.Limit{
		{Interval: time.Second, Burst: 1, Peek: true},
		{Kind: limit.Quota, Max: 1, WindowEnd: time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC), Peek: true},
	} {
		for range 3 {
			if d, _ := s.Allow(ctx, "p"+strconv.Itoa(int(l.Kind)), l); !d.Allowed {
				t.Fatalf("peek %v refused: %+v", l.Kind, d)
			}
		}
	}
	if s.Len() != 0 {
		t.Errorf("peek stored %d entries", s.Len())
	}
}

func TestQuotaWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := New(c.now)
	ctx := context.Background()
	end := c.now().Add(time.Hour)
	l := limit.Limit{Kind: limit.Quota, Max: 3, WindowEnd: end}
	for i := range 3 {
		if d, _ := s.Allow(ctx, "q", l); !d.Allowed || d.Remaining != int64(2-i) || d.ResetAfter != time.Hour {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	if d, _ := s.Allow(ctx, "q", l); d.Allowed || d.RetryAfter != time.Hour {
		t.Fatalf("over quota: %+v", d)
	}
	// After the window the same key starts from zero.
	c.add(time.Hour)
	l.WindowEnd = end.Add(time.Hour)
	if d, _ := s.Allow(ctx, "q", l); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("new window: %+v", d)
	}
}

// TestCallerClock checks that a decision uses the caller's reading of the
// clock when it passes one, and the store's own clock otherwise.
func TestCallerClock(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := New(c.now) // never advanced: only Limit.Now moves time
	ctx := context.Background()
	l := limit.Limit{Interval: time.Second, Burst: 1, Now: c.now()}
	if d, _ := s.Allow(ctx, "k", l); !d.Allowed {
		t.Fatalf("first: %+v", d)
	}
	if d, _ := s.Allow(ctx, "k", l); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("second at the same instant: %+v", d)
	}
	l.Now = l.Now.Add(time.Second)
	if d, _ := s.Allow(ctx, "k", l); !d.Allowed {
		t.Fatalf("a second later by the caller's clock: %+v", d)
	}
	// Without Now the store's frozen clock is a second behind: refused.
	l.Now = time.Time{}
	if d, _ := s.Allow(ctx, "k", l); d.Allowed || d.RetryAfter != 2*time.Second {
		t.Fatalf("by the store's clock: %+v", d)
	}
}

func TestSweepDropsExpired(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := New(c.now)
	ctx := context.Background()
	l := limit.Limit{Interval: time.Millisecond, Burst: 1}
	for i := range 5000 {
		_, _ = s.Allow(ctx, strconv.Itoa(i), l)
	}
	if s.Len() != 5000 {
		t.Fatalf("len %d", s.Len())
	}
	c.add(time.Minute)
	for i := range 4 * shardCount * sweepEvery {
		_, _ = s.Allow(ctx, "live"+strconv.Itoa(i%10), l)
	}
	if n := s.Len(); n > 10 {
		t.Errorf("%d entries left after sweeping, want at most the 10 live keys", n)
	}
}

func TestConcurrentExact(t *testing.T) {
	t.Parallel()
	s := New(newClock().now) // frozen clock: no refill during the test
	l := limit.Limit{Interval: time.Second, Burst: 100}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if d, _ := s.Allow(context.Background(), "shared", l); d.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Errorf("admitted %d, want exactly 100", admitted.Load())
	}
}

func BenchmarkAllow(b *testing.B) {
	s := New(nil)
	l := limit.Limit{Interval: time.Microsecond, Burst: 1 << 20}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "consumer:" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = s.Allow(ctx, keys[i&1023], l)
			i++
		}
	})
}
