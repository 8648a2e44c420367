package consumer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"net/http/httptest"

	"pinpoint/internal/config"
	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
	"pinpoint/internal/verdict"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func setup(t *testing.T, cfgSrc string, global *config.Config) (*Layer, *identity.Repo, *pipeline.Env) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := pipeline.NewEnv(nil, st)
	now := t0
	env.Now = func() time.Time { return now }
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(cfgSrc), &n); err != nil {
		t.Fatal(err)
	}
	l, err := New(&pipeline.Build{Env: env, Path: "routes[0].consumer", Route: &pipeline.RouteInfo{ID: "r1", Tenant: "t1", Service: "orders"}, Global: global}, n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.(*Layer).Close() })
	return l.(*Layer), identity.NewRepo(st, env.Now), env
}

func refresh(t *testing.T, env *pipeline.Env) {
	live, _ := identity.SharedLive(env)
	if err := live.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func req(consumer, tenant string) *pipeline.Request {
	r := &pipeline.Request{HTTP: httptest.NewRequest("POST", "/orders", nil), Route: &pipeline.RouteInfo{ID: "r1", Tenant: "t1", Service: "orders"}}
	if consumer != "" {
		r.Identity = &pipeline.Identity{ConsumerID: consumer, Tenant: tenant, Method: "key"}
	}
	return r
}

func TestConsumerCodes(t *testing.T) {
	t.Parallel()
	l, repo, env := setup(t, "require_subscription: true", nil)
	ctx := context.Background()
	for _, id := range []string{"ok", "susp", "none", "pend", "rej", "rev"} {
		if _, err := repo.CreateConsumer(ctx, identity.NewConsumer{ID: id, Tenant: "t1"}); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(c, status, reason string) {
		s, err := repo.Apply(ctx, c, "orders")
		if err != nil {
			t.Fatal(err)
		}
		if status == identity.SubRevoked {
			if _, err := repo.Decide(ctx, s.ID, identity.SubApproved, "ops", ""); err != nil {
				t.Fatal(err)
			}
		}
		if status != identity.SubPending {
			if _, err := repo.Decide(ctx, s.ID, status, "ops", reason); err != nil {
				t.Fatal(err)
			}
		}
	}
	decide("ok", identity.SubApproved, "")
	decide("susp", identity.SubApproved, "")
	decide("pend", identity.SubPending, "")
	decide("rej", identity.SubRejected, "no business case given")
	decide("rev", identity.SubRevoked, "contract ended")
	if _, err := repo.SetSuspended(ctx, "susp", true, "invoice #7 overdue"); err != nil {
		t.Fatal(err)
	}
	refresh(t, env)
	tests := []struct {
		name         string
		r            *pipeline.Request
		outcome      verdict.Outcome
		code         string
		detail, hint string
	}{
		{"anonymous", req("", ""), verdict.Skip, "", "", ""},
		{"approved", req("ok", "t1"), verdict.Allow, "", "", ""},
		{"suspended", req("susp", "t1"), verdict.Deny, "consumer_suspended", "this consumer is suspended since 2030-01-02T03:04:05Z: invoice #7 overdue", "Contact the API's operator"},
		{"tenant", req("ok", "t2"), verdict.Deny, "tenant_mismatch", `your credential belongs to tenant "t2"; this route is served for a different tenant`, "tenant that owns"},
		{"no tenant", req("ok", ""), verdict.Deny, "tenant_mismatch", "belongs to no tenant", ""},
		{"required", req("none", "t1"), verdict.Deny, "subscription_required", `needs an approved subscription to service "orders", and you have none`, "pinpoint subscriptions apply --consumer none --service orders"},
		{"pending", req("pend", "t1"), verdict.Deny, "subscription_pending", `is waiting for approval since 2030-01-02T03:04:05Z`, "Wait for approval"},
		{"rejected", req("rej", "t1"), verdict.Deny, "subscription_rejected", `was rejected at 2030-01-02T03:04:05Z: no business case given`, "owner"},
		{"revoked", req("rev", "t1"), verdict.Deny, "subscription_revoked", `was revoked at 2030-01-02T03:04:05Z: contract ended`, "owner"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := l.Evaluate(ctx, tc.r).Resolved()
			if v.Outcome != tc.outcome || v.Code != tc.code {
				t.Fatalf("got %s %s (%s), want %s %s", v.Outcome, v.Code, v.Detail, tc.outcome, tc.code)
			}
			if tc.code != "" && v.Status != 403 {
				t.Errorf("status %d, want 403", v.Status)
			}
			if !strings.Contains(v.Detail, tc.detail) || !strings.Contains(v.Hint, tc.hint) {
				t.Errorf("detail %q / hint %q, want %q / %q", v.Detail, v.Hint, tc.detail, tc.hint)
			}
			if len(v.Header) != 0 {
				t.Errorf("a 403 carries headers %v", v.Header)
			}
		})
	}
}

func TestStaticConsumersFromConfig(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte(`
routes: []
consumers:
  - id: cfg-app
    tenant: t1
    suspended: "security review"
  - id: cfg-ok
    tenant: t1
    subscriptions: [orders]
`))
	if err != nil {
		t.Fatal(err)
	}
	l, _, _ := setup(t, "require_subscription: true", cfg)
	if v := l.Evaluate(context.Background(), req("cfg-app", "t1")); v.Code != "consumer_suspended" || !strings.HasSuffix(v.Detail, ": security review") {
		t.Fatalf("config-suspended consumer: %s %q", v.Code, v.Detail)
	}
	if v := l.Evaluate(context.Background(), req("cfg-ok", "t1")); v.Outcome != verdict.Allow {
		t.Fatalf("config-subscribed consumer: %s %q", v.Code, v.Detail)
	}
}
