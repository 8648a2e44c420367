package ratelimit

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// TestExactValues pins the headers, evidence and counter keys byte for
// byte. The keys name Redis entries that outlive a gateway version, so a
// change here resets every client's count.
func TestExactValues(t *testing.T) {
	t.Parallel()
	ipv6 := func(r *pipeline.Request) { r.ClientIP = netip.MustParseAddr("2001:db8::1") }
	ownTenant := func(r *pipeline.Request) { r.Identity.Tenant = "globex" }
	cases := []struct {
		name, cfg    string
		opts         []reqOpt
		policy, rl   string
		evidenceKey  string
		evidence     string
		wantDenyCode string
	}{
		{name: "every key part, IPv6",
			cfg:  `{name: all, key: [consumer, key, route, tenant, ip], limit: 5, window: 1m}`,
			opts: []reqOpt{consumer("c1"), ipv6}, policy: `"all";q=5;w=60`, rl: `"all";r=4;t=12`,
			evidenceKey: "policy all", evidence: "allowed r=4 t=12s key=all@1vsg1px|c=c1|k=k_c1|r=orders|t=acme|ip=2001:db8::1"},
		{name: "identity tenant wins over the route's",
			cfg:  `{name: per-tenant, key: [tenant], limit: 100, window: 1h, burst: 10}`,
			opts: []reqOpt{consumer("c1"), ownTenant}, policy: `"per-tenant";q=100;w=3600`, rl: `"per-tenant";r=9;t=36`,
			evidenceKey: "policy per-tenant", evidence: "allowed r=9 t=36s key=per-tenant@ka68xg|t=globex"},
		{name: "dry run",
			cfg:  `{name: per-ip, limit: 3, window: 1m}`,
			opts: []reqOpt{dryRun}, policy: `"per-ip";q=3;w=60`, rl: `"per-ip";r=2;t=20`,
			evidenceKey: "policy per-ip", evidence: "allowed r=2 t=20s key=per-ip@1eglvtp|ip=198.51.100.7 (dry run: not spent)"},
		{name: "day quota",
			cfg:  `{name: daily, key: [consumer], quota: {limit: 10, per: day, timezone: Europe/Berlin}}`,
			opts: []reqOpt{consumer("c1")}, policy: `"daily";q=10;w=86400`, rl: `"daily";r=9;t=36000`,
			evidenceKey: "policy daily", evidence: "allowed r=9 t=36000s key=daily@gmvn8w|c=c1|2025-06-14"},
		{name: "month quota",
			cfg:  `{name: monthly, key: [route], quota: {limit: 10, per: month}}`,
			opts: nil, policy: `"monthly";q=10;w=2592000`, rl: `"monthly";r=9;t=1425600`,
			evidenceKey: "policy monthly", evidence: "allowed r=9 t=1425600s key=monthly@g5upd9|r=orders|2025-06"},
		{name: "refused",
			cfg:  `{name: none, limit: 1, window: 1m}`,
			opts: []reqOpt{func(r *pipeline.Request) {}}, policy: `"none";q=1;w=60`, rl: `"none";r=0;t=60`,
			evidenceKey: "policy none", evidence: "refused retry=60s t=60s key=none@zd92d9|ip=198.51.100.7", wantDenyCode: "rate_limited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, _ := newEnv(noon)
			l := mustBuild(t, env, "policies: ["+tc.cfg+"]")
			v := l.Evaluate(context.Background(), request(tc.opts...))
			if tc.wantDenyCode != "" {
				// Spend the only unit first, then look at the refusal.
				v = l.Evaluate(context.Background(), request(tc.opts...))
				if v.Code != tc.wantDenyCode {
					t.Fatalf("code %q, want %q", v.Code, tc.wantDenyCode)
				}
			} else if v.Outcome != verdict.Allow {
				t.Fatalf("%+v", v)
			}
			if got := v.Header.Values(HeaderPolicy); len(got) != 1 || got[0] != tc.policy {
				t.Errorf("RateLimit-Policy %q, want %q", got, tc.policy)
			}
			if got := v.Header.Values(HeaderLimit); len(got) != 1 || got[0] != tc.rl {
				t.Errorf("RateLimit %q, want %q", got, tc.rl)
			}
			if len(v.Evidence) != 1 || v.Evidence[0].Key != tc.evidenceKey || v.Evidence[0].Value != tc.evidence {
				t.Errorf("evidence %q\nwant     [{%s %s}]", v.Evidence, tc.evidenceKey, tc.evidence)
			}
		})
	}
}

// TestExactValuesSeveralPolicies pins the lists when several policies
// answer: one header value and one evidence field per policy, in order.
func TestExactValuesSeveralPolicies(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	l := mustBuild(t, env, `
policies:
  - {name: daily, key: [consumer], quota: {limit: 10, per: day}}
  - {name: trial, limit: 1, window: 1s, mode: shadow}
  - {name: per-ip, limit: 3, window: 1m}
`)
	v := l.Evaluate(context.Background(), request(consumer("c1")))
	if v.Outcome != verdict.Allow {
		t.Fatalf("%+v", v)
	}
	for name, want := range map[string]string{
		HeaderPolicy: `"per-ip";q=3;w=60, "daily";q=10;w=86400`,
		HeaderLimit:  `"per-ip";r=2;t=20, "daily";r=9;t=43200`,
	} {
		if got := strings.Join(v.Header.Values(name), ", "); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	var ev []string
	for _, f := range v.Evidence {
		ev = append(ev, f.Key+": "+f.Value)
	}
	want := []string{
		"policy trial: allowed r=0 t=1s key=trial@g05l70|ip=198.51.100.7",
		"policy per-ip: allowed r=2 t=20s key=per-ip@1eglvtp|ip=198.51.100.7",
		"policy daily: allowed r=9 t=43200s key=daily@1fjrzwp|c=c1|2025-06-14",
	}
	if strings.Join(ev, "\n") != strings.Join(want, "\n") {
		t.Errorf("evidence\n%s\nwant\n%s", strings.Join(ev, "\n"), strings.Join(want, "\n"))
	}
}

// TestNotAppliedEvidence pins what the trace says for each missing part.
func TestNotAppliedEvidence(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(noon)
	noRoute := func(r *pipeline.Request) { r.Route = nil }
	noIP := func(r *pipeline.Request) { r.ClientIP = netip.Addr{} }
	for _, tc := range []struct {
		part string
		opts []reqOpt
		want string
	}{
		{"consumer", nil, "not applied: the request has no consumer (it is not authenticated)"},
		{"key", nil, "not applied: the request has no API key"},
		{"route", []reqOpt{noRoute}, "not applied: the request has no route"},
		{"tenant", []reqOpt{noRoute}, "not applied: the request has no tenant"},
		{"ip", []reqOpt{noIP}, "not applied: the request has no client address"},
	} {
		l := mustBuild(t, env, "policies: [{name: p, key: ["+tc.part+"], limit: 1, window: "+time.Minute.String()+"}]")
		v := l.Evaluate(context.Background(), request(tc.opts...))
		if v.Outcome != verdict.Allow || v.Header != nil || field(v, "policy p") != tc.want {
			t.Errorf("%s: %+v, want evidence %q", tc.part, v, tc.want)
		}
	}
}
