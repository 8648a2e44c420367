package authz

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func build(t testing.TB, src string) (*Layer, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	l, err := New(&pipeline.Build{Env: pipeline.NewEnv(nil, nil), Path: "routes[0].authz"}, n.Content[0])
	if err != nil {
		return nil, err
	}
	return l.(*Layer), nil
}

func mustBuild(t testing.TB, src string) *Layer {
	t.Helper()
	l, err := build(t, src)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type caller struct {
	scopes, roles []string
	bearer        bool
	id            string
	meta          map[string]any
}

func req(method, body string, c *caller) *pipeline.Request {
	r := httptest.NewRequest(method, "/orders", strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	pr := &pipeline.Request{HTTP: r, Route: &pipeline.RouteInfo{ID: "orders", Tenant: "t1", Service: "orders"}}
	if c != nil {
		if c.bearer {
			r.Header.Set("Authorization", "Bearer x.y.z")
		}
		pr.Identity = &pipeline.Identity{ConsumerID: c.id, Scopes: c.scopes, Roles: c.roles, Metadata: c.meta}
	}
	return pr
}

const routeCfg = `
scopes: {all_of: [orders:read]}
methods:
  POST: {scopes: {all_of: [orders:write]}, roles: {any_of: [writer, admin]}}
  DELETE: {scopes: {any_of: [orders:admin, ops]}}
policies:
  - name: owner-only
    methods: [POST]
    expr: request.body.owner_id == consumer.id
  - name: pro-plan
    methods: [POST]
    expr: consumer.metadata.plan == "pro"
    message: "bulk orders need the pro plan"
  - name: no-huge-orders
    mode: shadow
    expr: request.method != "POST" || int(request.body.quantity) <= 100
`

func TestAuthzCodes(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, routeCfg)
	writer := func(bearer bool) *caller {
		return &caller{id: "c1", scopes: []string{"orders:read", "orders:write"}, roles: []string{"writer"}, bearer: bearer, meta: map[string]any{"plan": "pro"}}
	}
	free := writer(false)
	free.meta = map[string]any{"plan": "free"}
	noMeta := writer(false)
	noMeta.meta = nil
	tests := []struct {
		name    string
		r       *pipeline.Request
		outcome verdict.Outcome
		code    string
		detail  string
		header  string
		ev      map[string]string
	}{
		{"read ok", req("GET", "", &caller{scopes: []string{"orders:read"}}), verdict.Allow, "", "", "", nil},
		{"missing scope bearer", req("POST", `{"owner_id":"c1"}`, &caller{scopes: []string{"orders:read"}, roles: []string{"writer"}, bearer: true}), verdict.Deny, "missing_scope",
			`this request needs scope "orders:write"; the credential has "orders:read"`, `Bearer error="insufficient_scope", scope="orders:write"`, nil},
		{"missing scope key", req("POST", `{}`, &caller{scopes: []string{"orders:read"}}), verdict.Deny, "missing_scope",
			`needs scope "orders:write"`, "", nil},
		{"missing two scopes", req("GET", "", &caller{}), verdict.Deny, "missing_scope",
			`needs scope "orders:read"; the credential has no scopes`, "", nil},
		{"any-of scope", req("DELETE", "", &caller{scopes: []string{"orders:read"}, bearer: true}), verdict.Deny, "missing_scope",
			`needs one of the scopes "orders:admin", "ops"`, `Bearer error="insufficient_scope", scope="orders:admin ops"`, nil},
		{"anonymous", req("GET", "", nil), verdict.Deny, "missing_scope", "and the request is not authenticated", "", nil},
		{"role", req("POST", `{"owner_id":"c1"}`, &caller{scopes: []string{"orders:read", "orders:write"}, roles: []string{"reader"}}), verdict.Deny, "role_forbidden",
			`needs one of the roles "writer", "admin"`, "", nil},
		{"owner ok", req("POST", `{"owner_id":"c1","quantity":3}`, writer(true)), verdict.Allow, "", "", "", nil},
		{"not owner", req("POST", `{"owner_id":"c2","quantity":3}`, writer(true)), verdict.Deny, "policy_denied",
			`the request was denied by policy "owner-only"`, "", map[string]string{"request.body.owner_id": `"c2"`, "consumer.id": `"c1"`, "policy": "owner-only"}},
		{"plan", req("POST", `{"owner_id":"c1"}`, free), verdict.Deny, "policy_denied", "bulk orders need the pro plan", "",
			map[string]string{"consumer.metadata.plan": `"free"`}},
		{"missing body field", req("POST", `{"quantity":3}`, writer(false)), verdict.Deny, "policy_error",
			`policy "owner-only" reads the field "owner_id", which this request does not have`, "", map[string]string{"error": "no such key: owner_id"}},
		{"missing metadata", req("POST", `{"owner_id":"c1"}`, noMeta), verdict.Deny, "policy_error",
			`policy "pro-plan" reads the field "plan"`, "", nil},
		{"body not json", req("POST", `{"owner_id":`, writer(false)), verdict.Deny, "policy_error",
			`policy "owner-only" reads the request body, which is not valid JSON`, "", nil},
		{"shadow", req("POST", `{"owner_id":"c1","quantity":500}`, writer(false)), verdict.ShadowDeny, "policy_denied",
			`policy "no-huge-orders"`, "", map[string]string{"request.body.quantity": "500"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := l.Evaluate(context.Background(), tc.r).Resolved()
			if v.Outcome != tc.outcome || v.Code != tc.code {
				t.Fatalf("got %s %s (%q), want %s %s", v.Outcome, v.Code, v.Detail, tc.outcome, tc.code)
			}
			if tc.code != "" && v.Status != 403 {
				t.Errorf("status %d", v.Status)
			}
			if !strings.Contains(v.Detail, tc.detail) {
				t.Errorf("detail %q, want %q", v.Detail, tc.detail)
			}
			if got := http.Header(v.Header).Get("WWW-Authenticate"); got != tc.header {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.header)
			}
			for k, want := range tc.ev {
				found := false
				for _, f := range v.Evidence {
					found = found || f.Key == k && f.Value == want
				}
				if !found {
					t.Errorf("evidence %s=%s missing from %+v", k, want, v.Evidence)
				}
			}
		})
	}
}

func TestPolicyCompileErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"policies: [{name: p, expr: 'request.bdy.owner_id == consumer.id'}]": `policy "p" does not compile`,
		"policies: [{name: p, expr: 'consumer.idd == \"x\"'}]":               "undefined field 'idd'",
		"policies: [{name: p, expr: 'consumer.id'}]":                         "a policy must yield bool",
		"policies: [{name: p, expr: 'request.method == '}]":                  "does not compile",
		"policies: [{expr: 'true'}]":                                         "name the policy",
		"policies: [{name: p, expr: 'true', mode: audit}]":                   "want enforce or shadow",
		"methods: {FETCH: {scopes: {all_of: [a]}}}":                          `"FETCH" is not an HTTP method`,
		"scopes: {all_of: ['a b']}":                                          "without spaces",
		"scopes: {alll_of: [a]}":                                             `unknown field "alll_of"`,
	} {
		_, err := build(t, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
	if _, err := build(t, "policies: [{name: p, expr: 'request.bdy == 1'}]"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("compile error does not name the line: %v", err)
	}
}
