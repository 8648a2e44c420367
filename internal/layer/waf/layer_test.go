package waf

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"paranoia: 5", "routes[0].waf.paranoia: paranoia must be 1, 2, 3 or 4"},
		{"inbound_threshold: -1", "inbound_threshold must be at least 1"},
		{"body_limit: 100MB", "body_limit must be between"},
		{"paranoya: 2", `unknown field "paranoya" (did you mean "paranoia"?)`},
		{"exclude:\n  - rule: 0", "exclude[0].rule: rule must be a CRS rule id"},
		{"exclude:\n  - rule: 942100\n    target: 'ARGS:a\" \"deny'", "exclude[0].target: target"},
		{"exclude:\n  - rule: 942100\n    target: FOO:bar", "must start with a variable such as ARGS"},
		{"allowed_methods: [get]", `"get" is not an HTTP method`},
	} {
		_, err := buildErr(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want it to contain %q", tc.src, err, tc.want)
		}
		var ce *config.Error
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%q: error %T is not a config error with a line", tc.src, err)
		} else if err != nil && ce.Line == 0 {
			t.Errorf("%q: error has no line: %v", tc.src, err)
		}
	}
}

func TestBlockedVerdictNamesRulesNotPayload(t *testing.T) {
	t.Parallel()
	l := build(t, "{}")
	payload := "1' UNION SELECT password, email, created_at FROM users WHERE 1=1--"
	v := eval(l, req(http.MethodPost, "/v1/comments", "application/json", nestJSON("items.0.note", payload)))
	res := v.Resolved()
	if v.Outcome != verdict.Deny || v.Code != "waf_blocked" || res.Status != 403 || res.Layer != "waf" {
		t.Fatalf("got %v %s %d %s, want deny waf_blocked 403 waf", v.Outcome, v.Code, res.Status, res.Layer)
	}
	if !strings.Contains(v.Detail, "SQL injection") || !detailNamesRule.MatchString(v.Detail) {
		t.Errorf("detail %q does not name the SQL injection rules", v.Detail)
	}
	if strings.Contains(v.Detail, "UNION") || strings.Contains(res.Hint, "UNION") {
		t.Errorf("detail or hint reveals the payload: %q / %q", v.Detail, res.Hint)
	}
	if strings.Contains(v.Detail, "949110") {
		t.Errorf("detail names the anomaly-evaluation rule instead of the attack rules: %q", v.Detail)
	}
	if !strings.Contains(v.Rule, "942") {
		t.Errorf("rule %q is not an SQL injection rule id", v.Rule)
	}
	ev := evidenceText(v)
	for _, want := range []string{"ARGS:json.items.0.note", "anomaly_score=", "UNION SELECT"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if strings.Contains(ev, payload) {
		t.Errorf("evidence holds the whole payload instead of a short excerpt:\n%s", ev)
	}
	if !strings.Contains(res.Hint, "942") || !strings.Contains(res.Hint, "ARGS:json.items.0.note") {
		t.Errorf("hint %q does not suggest the targeted exclusion", res.Hint)
	}
}

func TestHeaderEvidenceUsesCanonicalHeaderName(t *testing.T) {
	t.Parallel()
	l := build(t, "{}")
	v := eval(l, req(http.MethodGet, "/", "", "", "User-Agent", "<script>alert(1)</script>"))
	if v.Outcome != verdict.Deny {
		t.Fatalf("got %v, want deny", v.Outcome)
	}
	if ev := evidenceText(v); !strings.Contains(ev, "REQUEST_HEADERS:User-Agent") {
		t.Errorf("evidence does not name REQUEST_HEADERS:User-Agent:\n%s", ev)
	}
}

func TestExclusions(t *testing.T) {
	t.Parallel()
	attack := func(field string) *pipeline.Request {
		return req(http.MethodPost, "/v1/c", "application/x-www-form-urlencoded", field+"=1%27+or+1%3D1--")
	}
	for _, tc := range []struct {
		name, cfg, field string
		want             verdict.Outcome
	}{
		{"no exclusion", "{}", "comment", verdict.Deny},
		{"by id", "exclude: [{rule: 942100}]", "comment", verdict.Allow},
		{"by target on that target", "exclude: [{rule: 942100, target: 'ARGS:comment'}]", "comment", verdict.Allow},
		{"by target on another field", "exclude: [{rule: 942100, target: 'ARGS:comment'}]", "title", verdict.Deny},
		{"other rule id", "exclude: [{rule: 941100}]", "comment", verdict.Deny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := eval(build(t, tc.cfg), attack(tc.field))
			if v.Outcome != tc.want {
				t.Fatalf("got %v (%s), want %v", v.Outcome, v.Detail, tc.want)
			}
		})
	}
}

func TestDetectionOnlyShadowsTheDenial(t *testing.T) {
	t.Parallel()
	l := build(t, "detection_only: true")
	v := eval(l, req(http.MethodGet, "/?q=%3Cscript%3Ealert(1)%3C/script%3E", "", ""))
	if v.Outcome != verdict.ShadowDeny || v.Code != "waf_blocked" {
		t.Fatalf("got %v %s, want shadow_deny waf_blocked", v.Outcome, v.Code)
	}
	if !strings.Contains(evidenceText(v), "ARGS:q") {
		t.Errorf("shadow denial lacks evidence:\n%s", evidenceText(v))
	}
	if v := eval(l, req(http.MethodGet, "/?q=shoes", "", "")); v.Outcome != verdict.Allow {
		t.Errorf("benign request in detection-only mode: got %v", v.Outcome)
	}
}

// failingBody fails mid-read, as a client that drops the connection does.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }
func (failingBody) Close() error             { return nil }

func TestInternalErrorFailsClosed(t *testing.T) {
	t.Parallel()
	l := build(t, "{}")
	hr := httptest.NewRequest(http.MethodPost, "/v1/c", nil)
	hr.Body = failingBody{}
	hr.ContentLength = 20
	hr.Header.Set("Content-Type", "application/json")
	v := eval(l, &pipeline.Request{HTTP: hr, ID: "x", ClientIP: netip.MustParseAddr("192.0.2.1")})
	res := v.Resolved()
	if v.Outcome != verdict.Error || v.Code != "waf_error" || res.Status != 500 {
		t.Fatalf("got %v %s %d, want error waf_error 500", v.Outcome, v.Code, res.Status)
	}
	if v.Detail == "" || !strings.Contains(evidenceText(v), "connection reset") {
		t.Errorf("detail %q / evidence %q do not explain the failure", v.Detail, evidenceText(v))
	}
	closed := build(t, "{}")
	_ = closed.Close()
	if v := eval(closed, req(http.MethodGet, "/", "", "")); v.Outcome != verdict.Error || v.Code != "waf_error" {
		t.Errorf("closed layer: got %v %s, want error waf_error", v.Outcome, v.Code)
	}
}

func TestBodyOverLimitIsRefused(t *testing.T) {
	t.Parallel()
	l := build(t, "body_limit: 1KB")
	big := `{"text":"` + strings.Repeat("a", 2000) + `"}`
	v := eval(l, req(http.MethodPost, "/v1/c", "application/json", big))
	if v.Outcome != verdict.Deny || v.Code != "body_too_large" || !strings.Contains(v.Detail, "1KB") {
		t.Fatalf("got %v %s %q, want deny body_too_large naming 1KB", v.Outcome, v.Code, v.Detail)
	}
	// Without a Content-Length the size is only known once read.
	r := req(http.MethodPost, "/v1/c", "application/json", big)
	r.HTTP.ContentLength = -1
	if v := eval(l, r); v.Code != "body_too_large" {
		t.Errorf("chunked body over the limit: got %v %s", v.Outcome, v.Code)
	}
	if v := eval(l, req(http.MethodPost, "/v1/c", "application/json", `{"text":"short"}`)); v.Outcome != verdict.Allow {
		t.Errorf("small body: got %v %s", v.Outcome, v.Detail)
	}
}

func TestBodyStillReachesUpstream(t *testing.T) {
	t.Parallel()
	l := build(t, "{}")
	r := req(http.MethodPost, "/v1/c", "application/json", `{"name":"O'Brien"}`)
	if v := eval(l, r); v.Outcome != verdict.Allow {
		t.Fatalf("got %v %s", v.Outcome, v.Detail)
	}
	b, err := io.ReadAll(r.HTTP.Body)
	if err != nil || string(b) != `{"name":"O'Brien"}` {
		t.Errorf("body after inspection = %q, %v", b, err)
	}
}

func TestMalformedJSONIsRefused(t *testing.T) {
	t.Parallel()
	l := build(t, "{}")
	v := eval(l, req(http.MethodPost, "/v1/c", "application/json", `{"name": "x",`))
	if v.Outcome != verdict.Deny || v.Code != "malformed_body" || v.Resolved().Status != 400 {
		t.Fatalf("got %v %s %d, want deny malformed_body 400", v.Outcome, v.Code, v.Resolved().Status)
	}
}

func TestEnginesAreSharedAndReleased(t *testing.T) {
	t.Parallel()
	// A setting no other test uses, so the reference count is this test's.
	cfg := "inbound_threshold: 97\nexclude: [{rule: 920350}]"
	a, err := buildErr(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildErr(cfg + "\ndetection_only: true\nbody_limit: 2MB")
	if err != nil {
		t.Fatal(err)
	}
	if a.eng != b.eng {
		t.Fatal("routes whose Coraza settings are identical got separate engines")
	}
	key := a.eng.key
	_ = a.Close()
	enginesMu.Lock()
	_, live := engines[key]
	enginesMu.Unlock()
	if !live {
		t.Fatal("engine released while a route still uses it")
	}
	_ = b.Close()
	enginesMu.Lock()
	_, live = engines[key]
	enginesMu.Unlock()
	if live {
		t.Fatal("engine not released after the last route closed")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestExcerptRedacts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value, want string }{
		{"REQUEST_HEADERS:Authorization", "Bearer abc", "[redacted]"},
		{"REQUEST_COOKIES:session", "x' or 1=1", "[redacted]"},
		{"ARGS:json.user.password", "' or 1=1--", "[redacted]"},
		{"ARGS:card", "4111111111111111", "4111############"},
		{"ARGS:q", "a\nb\x00", `a\x0ab\x00`},
		{"ARGS:q", strings.Repeat("x", 100), strings.Repeat("x", 40) + "…"},
	} {
		if got := excerpt(tc.name, tc.value); got != tc.want {
			t.Errorf("excerpt(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestFoldOrbits(t *testing.T) {
	t.Parallel()
	// The scanner folds exactly these two runes to ASCII; any other
	// non-ASCII rune whose case-fold orbit held an ASCII letter would make
	// the prefilter unsound for (?i) patterns.
	want := map[rune]byte{0x212A: 'k', 0x017F: 's'}
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		b, ok := asciiFoldOf(r)
		if w, special := want[r]; ok != special || ok && b != w {
			t.Errorf("rune %U folds to ASCII %q (%v); the scanner folds only U+212A and U+017F", r, b, ok)
		}
	}
}
