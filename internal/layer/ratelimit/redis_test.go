package ratelimit

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

const redisURL = "redis://127.0.0.1:6379/0"

// needRedis skips without a local Redis, and fails when CI is set.
func needRedis(tb testing.TB) {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("Redis at 127.0.0.1:6379 is required in CI: %v", err)
		}
		tb.Skipf("no Redis at 127.0.0.1:6379: %v", err)
	}
}

func redisConfig(tb testing.TB, url, extra string) string {
	return fmt.Sprintf(`
backend: redis
redis: {url: %q, prefix: "pinpoint-test:%s:%d:"}
%s
policies:
  - {name: per-ip, key: [ip], limit: 40, window: 1h}
`, url, tb.Name(), time.Now().UnixNano(), extra)
}

// TestRedisTwoGatewaysShareOneCount builds the layer twice from separate
// environments (as two gateway processes would, each with its own Redis
// client) and runs them concurrently: together they admit the limit.
func TestRedisTwoGatewaysShareOneCount(t *testing.T) {
	t.Parallel()
	needRedis(t)
	cfg := redisConfig(t, redisURL, "")
	var nodes []*Layer
	for range 2 {
		env := pipeline.NewEnv(nil, nil)
		nodes = append(nodes, mustBuild(t, env, cfg))
	}
	if nodes[0].store == nodes[1].store {
		t.Fatal("the two gateways share a store object; the test would prove nothing")
	}
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					v := n.Evaluate(context.Background(), request())
					switch {
					case v.Outcome == verdict.Allow:
						admitted.Add(1)
					case v.Code == "rate_limited":
						refused.Add(1)
					default:
						t.Errorf("unexpected verdict %+v", v)
					}
				}
			}()
		}
	}
	wg.Wait()
	if admitted.Load() != 40 || refused.Load() != 80 {
		t.Errorf("admitted %d refused %d, want 40 and 80", admitted.Load(), refused.Load())
	}
}

func TestRedisClientSharedPerURL(t *testing.T) {
	t.Parallel()
	env := pipeline.NewEnv(nil, nil)
	a := mustBuild(t, env, redisConfig(t, redisURL, ""))
	b := mustBuild(t, env, redisConfig(t, redisURL, ""))
	c := mustBuild(t, env, redisConfig(t, "redis://127.0.0.1:6379/1", ""))
	client := func(l *Layer) any {
		v, _ := env.Shared("redis:"+map[*Layer]string{a: redisURL, b: redisURL, c: "redis://127.0.0.1:6379/1"}[l], func() (any, error) {
			return nil, fmt.Errorf("client was not created by the layer")
		})
		return v
	}
	if client(a) == nil || client(a) != client(b) {
		t.Error("two routes with one URL do not share a client")
	}
	if client(c) == nil || client(c) == client(a) {
		t.Error("a different URL shares a client")
	}
}

func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "redis://" + ln.Addr().String() + "/0"
	_ = ln.Close()

	closed := mustBuild(t, pipeline.NewEnv(nil, nil), redisConfig(t, url, ""))
	v := closed.Evaluate(context.Background(), request()).Resolved()
	if v.Outcome != verdict.Error || v.Code != "ratelimit_backend_unavailable" || v.Status != 503 {
		t.Fatalf("closed: %+v", v)
	}
	open := mustBuild(t, pipeline.NewEnv(nil, nil), redisConfig(t, url, "on_backend_error: open"))
	v = open.Evaluate(context.Background(), request())
	if v.Outcome != verdict.Allow || v.Header.Get(HeaderFailOpen) != "fail-open" || v.Header.Get(HeaderLimit) != "" {
		t.Fatalf("open: %+v", v)
	}
}
