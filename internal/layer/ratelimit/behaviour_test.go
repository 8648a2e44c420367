package ratelimit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/layer/ratelimit/limit"
	"pinpoint/internal/verdict"
)

func TestMissingKeyPart(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	l := mustBuild(t, env, `policies: [{name: per-consumer, key: [consumer], limit: 1, window: 1m}]`)
	v := l.Evaluate(context.Background(), request())
	if v.Outcome != verdict.Allow || v.Header != nil {
		t.Fatalf("%+v", v)
	}
	if got := field(v, "policy per-consumer"); got != "not applied: the request has no consumer (it is not authenticated)" {
		t.Errorf("evidence %q", got)
	}
}

func TestDryRunDoesNotSpend(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	l := mustBuild(t, env, `policies: [{name: one, limit: 1, window: 1m}, {name: q, quota: {limit: 1, per: day}}]`)
	ctx := context.Background()
	for range 3 {
		v := l.Evaluate(ctx, request(dryRun))
		if v.Outcome != verdict.Allow || !strings.HasSuffix(field(v, "policy one"), "(dry run: not spent)") {
			t.Fatalf("dry run: %+v", v)
		}
	}
	if v := l.Evaluate(ctx, request()); v.Outcome != verdict.Allow {
		t.Fatalf("budget was spent by dry runs: %+v", v)
	}
	// Now spent: a dry run reports the refusal it would make.
	if v := l.Evaluate(ctx, request(dryRun)); v.Code != "rate_limited" {
		t.Errorf("dry run after spending: %+v", v)
	}
}

func TestShadowPolicy(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	l := mustBuild(t, env, `
policies:
  - {name: strict-trial, limit: 1, window: 1m, mode: shadow}
  - {name: normal, limit: 10, window: 1m}
`)
	ctx := context.Background()
	if v := l.Evaluate(ctx, request()); v.Outcome != verdict.Allow {
		t.Fatalf("first: %+v", v)
	}
	v := l.Evaluate(ctx, request())
	if v.Outcome != verdict.ShadowDeny || v.Code != "rate_limited" || v.Rule != "strict-trial" {
		t.Fatalf("second: %+v", v)
	}
	// Headers describe only enforced policies.
	if got := strings.Join(v.Header.Values(HeaderPolicy), ", "); got != `"normal";q=10;w=60` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if v.Header.Get("Retry-After") != "" {
		t.Error("shadow denial set Retry-After")
	}
}

func TestRatesRunBeforeQuotas(t *testing.T) {
	t.Parallel()
	env, clk := newEnv(noon)
	l := mustBuild(t, env, `
policies:
  - {name: daily, quota: {limit: 2, per: day}}
  - {name: burst, limit: 60, window: 1m, burst: 1}
`)
	ctx := context.Background()
	v := l.Evaluate(ctx, request())
	if v.Outcome != verdict.Allow {
		t.Fatalf("%+v", v)
	}
	if got := strings.Join(v.Header.Values(HeaderLimit), ", "); got != `"burst";r=0;t=1, "daily";r=1;t=43200` {
		t.Errorf("RateLimit %q", got)
	}
	if v := l.Evaluate(ctx, request()); v.Code != "rate_limited" {
		t.Fatalf("burst: %+v", v)
	}
	// The refused request did not spend quota: one unit is still left.
	clk.add(time.Minute)
	if v := l.Evaluate(ctx, request()); v.Outcome != verdict.Allow || !strings.Contains(strings.Join(v.Header.Values(HeaderLimit), ","), `"daily";r=0`) {
		t.Errorf("quota spent by a refused request: %+v", v)
	}
}

// failing is a backend that cannot be reached.
type failing struct{}

func (failing) Allow(context.Context, string, limit.Limit) (limit.Decision, error) {
	return limit.Decision{}, errors.New("dial tcp 10.0.0.9:6379: connection refused")
}

func TestBackendError(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	closed := mustBuild(t, env, `policies: [{name: p, limit: 1, window: 1m}]`)
	closed.store, closed.backend = failing{}, "redis"
	v := closed.Evaluate(context.Background(), request()).Resolved()
	if v.Outcome != verdict.Error || v.Code != "ratelimit_backend_unavailable" || v.Status != 503 || v.Rule != "p" {
		t.Fatalf("closed: %+v", v)
	}
	if v.Header.Get("Retry-After") != "1" {
		t.Errorf("closed Retry-After %q", v.Header.Get("Retry-After"))
	}
	if !strings.Contains(v.Detail, "unreachable") || strings.Contains(v.Detail, "10.0.0.9") {
		t.Errorf("closed detail %q", v.Detail)
	}
	if !strings.Contains(field(v, "error"), "connection refused") {
		t.Errorf("error evidence %q", field(v, "error"))
	}

	open := mustBuild(t, env, `{on_backend_error: open, policies: [{name: p, limit: 1, window: 1m}]}`)
	open.store = failing{}
	v = open.Evaluate(context.Background(), request())
	if v.Outcome != verdict.Allow || v.Header.Get(HeaderFailOpen) != "fail-open" {
		t.Fatalf("open: %+v", v)
	}
	if !strings.HasPrefix(field(v, "policy p"), "fail-open: ") {
		t.Errorf("open evidence %q", field(v, "policy p"))
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	for src, want := range map[string]string{
		`{}`:                                 "routes[0].ratelimit.policies: required",
		`policies: [{limit: 1, window: 1m}]`: "policies[0].name: required",
		`policies: [{name: a, limit: 1, window: 1m}, {name: a, limit: 2, window: 1m}]`:                    `duplicate policy name "a"`,
		`policies: [{name: a, window: 1m}]`:                                                               "policies[0].limit: must be positive",
		`policies: [{name: a, limit: 1}]`:                                                                 "policies[0].window: must be at least 1s",
		`policies: [{name: a, limit: 1, window: 1m, key: [user]}]`:                                        `unknown key "user"`,
		`policies: [{name: a, limit: 1, window: 1m, quota: {limit: 1, per: day}}]`:                        "either limit/window/burst (a rate) or quota",
		`policies: [{name: a, quota: {limit: 1, per: week}}]`:                                             "must be day or month",
		`policies: [{name: a, quota: {limit: 1, per: day, timezone: Mars/Base}}]`:                         `unknown time zone "Mars/Base"`,
		`policies: [{name: a, limit: 1, window: 1m, mode: log}]`:                                          "must be enforce or shadow",
		`{status: 503, policies: [{name: a, limit: 1, window: 1m}]}`:                                      "status: must be 429 or 403",
		`{on_backend_error: maybe, policies: [{name: a, limit: 1, window: 1m}]}`:                          "must be open or closed",
		`{backend: etcd, policies: [{name: a, limit: 1, window: 1m}]}`:                                    "must be memory or redis",
		`{backend: redis, policies: [{name: a, limit: 1, window: 1m}]}`:                                   "redis.url: required",
		`{backend: redis, redis: {url: "http://:secret@x"}, policies: [{name: a, limit: 1, window: 1m}]}`: "not a redis:// or rediss:// URL",
		`{redis: {url: "redis://x"}, policies: [{name: a, limit: 1, window: 1m}]}`:                        "set only with backend: redis",
		`policies: [{name: "a\"b", limit: 1, window: 1m}]`:                                                "quotes, backslashes and | are not allowed",
		`policies: [{name: a, limit: 1, window: 1m, burts: 2}]`:                                           `unknown field "burts"`,
	} {
		_, err := build(t, env, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error reveals the URL's password", src)
		}
	}
}

func TestHumanWait(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "1s", 1500 * time.Millisecond: "2s", time.Minute: "1m", 125 * time.Second: "2m5s",
		time.Hour: "1h", 11*time.Hour + 59*time.Minute + 30*time.Second: "12h", 11*time.Hour + 58*time.Minute + 30*time.Second: "11h59m",
	} {
		if got := humanWait(d); got != want {
			t.Errorf("humanWait(%v) = %q, want %q", d, got, want)
		}
	}
}
