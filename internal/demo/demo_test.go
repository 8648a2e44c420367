package demo

import (
	"strings"
	"testing"

	"pinpoint/internal/identity"
	"pinpoint/internal/verdict"
)

// notInDemo lists the catalog codes the demo does not print a curl for,
// each with the reason. Every other code must have an example, so a new
// code cannot be added without the demo showing it or saying why not.
// (Every code's rendering is checked over HTTP by the gateway's
// TestEveryCatalogCodeRendersTheContract, and each layer's tests check
// that it produces its codes.)
var notInDemo = map[string]string{
	"internal_error":            "needs a bug: a panic in the gateway (TestPanicIsInternalError)",
	"shutting_down":             "needs the gateway to be stopping (TestDrainingGatewayRefusesNewRequests)",
	"waf_error":                 "needs the WAF itself to fail, which a request cannot cause",
	"authn_backend_unavailable": "needs an unreachable JWKS or introspection endpoint",
	"provider_error":            "needs a model provider that fails",
	"token_inactive":            "needs an OAuth introspection server",
	"token_not_yet_valid":       "needs a token minted with a future nbf; token_expired shows the time checks",
	"token_wrong_issuer":        "needs a second issuer's keys; token_wrong_audience shows the claim checks",
	"basic_auth_failed":         "the demo's secure route takes keys and JWTs, not Basic",
	"ip_not_allowed_for_key":    "needs a key bound to other addresses; ip_not_allowed and ip_denied show the address checks",
	"tenant_mismatch":           "needs a second tenant's consumer",
	"subscription_required":     "needs a consumer without a subscription",
	"subscription_pending":      "needs a subscription awaiting approval",
	"subscription_rejected":     "needs a rejected subscription",
	"subscription_revoked":      "needs a revoked subscription",
	"role_forbidden":            "the demo's route authorizes by scope and policy; missing_scope and policy_denied show it",
	"policy_error":              "needs a CEL policy that fails at run time",
	"token_limit_exceeded":      "needs an AI route with a token rate limit",
	"template_variable_missing": "template_variable_unknown shows the template checks",
}

func TestEveryCodeIsInTheDemoOrSaysWhyNot(t *testing.T) {
	saved := creds
	creds = identity.DemoCredentials{ReadKey: "pp_x", WriteKey: "pp_y", JWT: "a.b.c"}
	defer func() { creds = saved }()
	shown := map[string]bool{}
	for _, e := range Examples(Ports{Gateway: "127.0.0.1:1", AIMock: "http://127.0.0.1:2"}) {
		if e.Code == "" {
			continue
		}
		if _, ok := verdict.Lookup(e.Code); !ok {
			t.Errorf("example %q promises %q, which the catalog lacks", e.Title, e.Code)
		}
		shown[e.Code] = true
	}
	for _, entry := range verdict.All() {
		why, excused := notInDemo[entry.Code]
		switch {
		case shown[entry.Code] && excused:
			t.Errorf("%s is in the demo; drop it from notInDemo", entry.Code)
		case !shown[entry.Code] && !excused:
			t.Errorf("%s has no demo example and no reason in notInDemo", entry.Code)
		case excused && strings.TrimSpace(why) == "":
			t.Errorf("%s: empty reason", entry.Code)
		}
	}
	for code := range notInDemo {
		if _, ok := verdict.Lookup(code); !ok {
			t.Errorf("notInDemo names %q, which the catalog lacks", code)
		}
	}
}
