package ratelimit

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newEnv(at time.Time) (*pipeline.Env, *clock) {
	c := &clock{t: at}
	env := pipeline.NewEnv(nil, nil)
	env.Now = c.now
	return env, c
}

var noon = time.Date(2025, 6, 14, 12, 0, 0, 0, time.UTC) // 14:00 in Berlin

func build(t testing.TB, env *pipeline.Env, src string) (*Layer, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Build{Env: env, Path: "routes[0].ratelimit", Route: &pipeline.RouteInfo{ID: "orders"}}
	l, err := New(b, n.Content[0])
	if err != nil {
		return nil, err
	}
	return l.(*Layer), nil
}

func mustBuild(t testing.TB, env *pipeline.Env, src string) *Layer {
	t.Helper()
	l, err := build(t, env, src)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type reqOpt func(*pipeline.Request)

func consumer(id string) reqOpt {
	return func(r *pipeline.Request) { r.Identity = &pipeline.Identity{ConsumerID: id, KeyID: "k_" + id} }
}
func dryRun(r *pipeline.Request) { r.DryRun = true }

func request(opts ...reqOpt) *pipeline.Request {
	r := &pipeline.Request{
		HTTP:     httptest.NewRequest("GET", "/v1/orders", nil),
		Route:    &pipeline.RouteInfo{ID: "orders", Tenant: "acme"},
		ClientIP: netip.MustParseAddr("198.51.100.7"),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func field(v verdict.Verdict, key string) string {
	for _, f := range v.Evidence {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	env, clk := newEnv(noon)
	l := mustBuild(t, env, `
policies:
  - {name: per-ip, key: [ip], limit: 3, window: 1m}
`)
	ctx := context.Background()
	for i, want := range []string{`"per-ip";r=2;t=20`, `"per-ip";r=1;t=40`, `"per-ip";r=0;t=60`} {
		v := l.Evaluate(ctx, request())
		if v.Outcome != verdict.Allow {
			t.Fatalf("request %d: %+v", i, v)
		}
		if got := v.Header.Get(HeaderLimit); got != want {
			t.Errorf("request %d RateLimit %q, want %q", i, got, want)
		}
		if got := v.Header.Get(HeaderPolicy); got != `"per-ip";q=3;w=60` {
			t.Errorf("RateLimit-Policy %q", got)
		}
	}
	v := l.Evaluate(ctx, request()).Resolved()
	if v.Outcome != verdict.Deny || v.Code != "rate_limited" || v.Status != 429 || v.Layer != "ratelimit" || v.Rule != "per-ip" {
		t.Fatalf("4th: %+v", v)
	}
	const detail = `Rate limit "per-ip" (3 requests per 1m) exceeded; retry in 20s, the full limit is back in 1m.`
	if v.Detail != detail {
		t.Errorf("detail %q\nwant   %q", v.Detail, detail)
	}
	for k, want := range map[string]string{"Retry-After": "20", HeaderLimit: `"per-ip";r=0;t=60`, HeaderPolicy: `"per-ip";q=3;w=60`} {
		if got := v.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(field(v, "policy per-ip"), "refused retry=20s t=60s key=per-ip@") {
		t.Errorf("evidence %q", field(v, "policy per-ip"))
	}
	// Another address has its own budget; time refills this one.
	other := request()
	other.ClientIP = netip.MustParseAddr("2001:db8::1")
	if v := l.Evaluate(ctx, other); v.Outcome != verdict.Allow {
		t.Errorf("other address refused: %+v", v)
	}
	clk.add(20 * time.Second)
	if v := l.Evaluate(ctx, request()); v.Outcome != verdict.Allow {
		t.Errorf("after 20s: %+v", v)
	}
}

func TestStatus403AndBurst(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	l := mustBuild(t, env, `
status: 403
policies:
  - {name: writes, key: [consumer, route], limit: 60, window: 1h, burst: 2}
`)
	ctx := context.Background()
	for range 2 {
		if v := l.Evaluate(ctx, request(consumer("c1"))); v.Outcome != verdict.Allow {
			t.Fatalf("%+v", v)
		}
	}
	v := l.Evaluate(ctx, request(consumer("c1"))).Resolved()
	if v.Code != "rate_limited" || v.Status != 403 {
		t.Fatalf("got %q %d, want rate_limited 403", v.Code, v.Status)
	}
	if want := `Rate limit "writes" (60 requests per 1h, bursts of 2) exceeded; retry in 1m, the full limit is back in 2m.`; v.Detail != want {
		t.Errorf("detail %q", v.Detail)
	}
	if v.Header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", v.Header.Get("Retry-After"))
	}
	if v := l.Evaluate(ctx, request(consumer("c2"))); v.Outcome != verdict.Allow {
		t.Errorf("other consumer refused: %+v", v)
	}
}

func TestQuota(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cfg, policy, detail string
		at                        time.Time
	}{
		{name: "day in Berlin", at: noon,
			cfg:    `{name: daily, key: [consumer], quota: {limit: 2, per: day, timezone: Europe/Berlin}}`,
			policy: `"daily";q=2;w=86400`,
			detail: `Quota "daily" (2 requests per day, Europe/Berlin) is used up; it resets at 2025-06-15T00:00:00+02:00 (in 10h).`},
		{name: "month in UTC", at: noon,
			cfg:    `{name: monthly, key: [tenant], quota: {limit: 2, per: month}}`,
			policy: `"monthly";q=2;w=2592000`,
			detail: `Quota "monthly" (2 requests per month, UTC) is used up; it resets at 2025-07-01T00:00:00Z (in 396h).`},
		{name: "daylight saving day is 23h", at: time.Date(2025, 3, 30, 10, 0, 0, 0, time.UTC),
			cfg:    `{name: daily, key: [ip], quota: {limit: 2, per: day, timezone: Europe/Berlin}}`,
			policy: `"daily";q=2;w=82800`,
			detail: `Quota "daily" (2 requests per day, Europe/Berlin) is used up; it resets at 2025-03-31T00:00:00+02:00 (in 12h).`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, clk := newEnv(tc.at)
			l := mustBuild(t, env, "policies: ["+tc.cfg+"]")
			ctx := context.Background()
			for range 2 {
				v := l.Evaluate(ctx, request(consumer("c1")))
				if v.Outcome != verdict.Allow || v.Header.Get(HeaderPolicy) != tc.policy {
					t.Fatalf("%+v", v)
				}
			}
			v := l.Evaluate(ctx, request(consumer("c1"))).Resolved()
			if v.Code != "quota_exhausted" || v.Status != 429 || v.Detail != tc.detail {
				t.Fatalf("got %q %d %q\nwant quota_exhausted 429 %q", v.Code, v.Status, v.Detail, tc.detail)
			}
			reset := v.Header.Get("Retry-After")
			if !strings.HasSuffix(v.Header.Get(HeaderLimit), ";r=0;t="+reset) {
				t.Errorf("RateLimit %q does not match Retry-After %s", v.Header.Get(HeaderLimit), reset)
			}
			// The next window starts from zero.
			secs, err := strconv.Atoi(reset)
			if err != nil {
				t.Fatalf("Retry-After %q", reset)
			}
			clk.add(time.Duration(secs) * time.Second)
			if v := l.Evaluate(ctx, request(consumer("c1"))); v.Outcome != verdict.Allow {
				t.Errorf("after reset: %+v", v)
			}
		})
	}
}
