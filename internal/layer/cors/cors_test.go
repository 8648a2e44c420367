package cors

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

func build(t *testing.T, src string) (pipeline.Layer, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Build{Env: pipeline.NewEnv(nil, nil), Path: "routes[0].cors"}
	return New(b, n.Content[0])
}

func mustBuild(t *testing.T, src string) pipeline.Layer {
	t.Helper()
	l, err := build(t, src)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func run(l pipeline.Layer, method string, hdr map[string]string) verdict.Verdict {
	req := httptest.NewRequest(method, "https://api.example.com/v1/orders", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return l.Evaluate(context.Background(), &pipeline.Request{HTTP: req})
}

const policy = `
origins: [https://app.example.com, "https://*.example.org"]
methods: [GET, POST, PUT]
headers: [Content-Type, X-Api-Key]
expose_headers: [RateLimit]
credentials: true
max_age: 10m
`

func TestPreflight(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, policy)
	cases := []struct {
		name    string
		hdr     map[string]string
		outcome verdict.Outcome
		code    string
		detail  string
		headers map[string]string
	}{
		{name: "allowed", hdr: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, x-api-key"},
			outcome: verdict.Answer, headers: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET, POST, PUT", "Access-Control-Allow-Headers": "content-type, x-api-key",
				"Access-Control-Max-Age": "600", "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}},
		{name: "wildcard origin, no headers asked", hdr: map[string]string{"Origin": "https://shop.example.org", "Access-Control-Request-Method": "GET"},
			outcome: verdict.Answer, headers: map[string]string{"Access-Control-Allow-Origin": "https://shop.example.org", "Access-Control-Allow-Headers": ""}},
		{name: "origin refused", hdr: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
			outcome: verdict.Deny, code: "cors_origin_not_allowed",
			detail:  "The origin https://evil.example is not allowed to call this route from a browser.",
			headers: map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}},
		{name: "http vs https refused", hdr: map[string]string{"Origin": "http://app.example.com", "Access-Control-Request-Method": "GET"},
			outcome: verdict.Deny, code: "cors_origin_not_allowed",
			detail: "The origin http://app.example.com is not allowed to call this route from a browser."},
		{name: "method refused", hdr: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"},
			outcome: verdict.Deny, code: "cors_method_not_allowed",
			detail:  "A page from https://app.example.com asked to use method DELETE, which this route's CORS policy does not allow.",
			headers: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}},
		{name: "header refused", hdr: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-requested-with"},
			outcome: verdict.Deny, code: "cors_header_not_allowed",
			detail:  "A page from https://app.example.com asked to send header x-requested-with, which this route's CORS policy does not allow.",
			headers: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := run(l, http.MethodOptions, tc.hdr)
			if v.Outcome != tc.outcome {
				t.Fatalf("outcome %v, want %v: %+v", v.Outcome, tc.outcome, v)
			}
			res := v.Resolved()
			if tc.outcome == verdict.Answer && res.Status != http.StatusNoContent {
				t.Errorf("status %d, want 204", res.Status)
			}
			if tc.code != "" {
				if res.Code != tc.code || res.Status != 403 || res.Layer != "cors" || res.Detail != tc.detail {
					t.Errorf("got %q %d %q %q\nwant %q 403 cors %q", res.Code, res.Status, res.Layer, res.Detail, tc.code, tc.detail)
				}
			}
			for k, want := range tc.headers {
				if got := strings.Join(v.Header.Values(k), ", "); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestActualRequests(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, policy)
	v := run(l, http.MethodPost, map[string]string{"Origin": "https://app.example.com"})
	if v.Outcome != verdict.Allow {
		t.Fatalf("allowed origin: %+v", v)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin",
		"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "Pinpoint-Request-Id, RateLimit",
	} {
		if got := v.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// A disallowed origin is not refused; it gets no CORS headers, so the
	// browser withholds the response from the page.
	v = run(l, http.MethodGet, map[string]string{"Origin": "https://evil.example"})
	if v.Outcome != verdict.Allow || v.Header.Get("Access-Control-Allow-Origin") != "" || v.Header.Get("Vary") != "Origin" {
		t.Errorf("disallowed origin: %+v", v)
	}

	// No Origin: nothing to do.
	if v := run(l, http.MethodGet, nil); v.Outcome != verdict.Skip {
		t.Errorf("no origin: %v", v.Outcome)
	}
	// OPTIONS without Access-Control-Request-Method is not a preflight.
	if v := run(l, http.MethodOptions, map[string]string{"Origin": "https://app.example.com"}); v.Outcome != verdict.Allow {
		t.Errorf("plain OPTIONS: %v", v.Outcome)
	}
}

func TestStarOriginAndHeaders(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, `{origins: ["*"], headers: ["*"]}`)
	v := run(l, http.MethodOptions, map[string]string{"Origin": "https://any.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-anything"})
	if v.Outcome != verdict.Answer || v.Header.Get("Access-Control-Allow-Origin") != "*" || v.Header.Get("Access-Control-Allow-Headers") != "x-anything" {
		t.Errorf("star policy preflight: %+v", v)
	}
	if v.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials header on a star policy")
	}
	// Default headers allow Content-Type only.
	d := mustBuild(t, `origins: [https://app.example.com]`)
	v = run(d, http.MethodOptions, map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if v.Outcome != verdict.Answer || v.Header.Get("Access-Control-Max-Age") != "" {
		t.Errorf("default policy: %+v", v)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`{}`:                                  "routes[0].cors.origins: required",
		`{origins: ["*"], credentials: true}`: `cannot be true with origins "*"`,
		`{origins: [app.example.com]}`:        `"app.example.com" is not an origin`,
		`{origins: ["https://a.example.com/path"]}`:                "no path",
		`{origins: [https://a.example.com], max_age: 600}`:         "into time.Duration",
		`{origins: [https://a.example.com], max_age: 500ms}`:       "below one second: write a duration like 10m",
		`{origins: [https://a.example.com], methods: ["GET,PUT"]}`: `invalid method "GET,PUT"`,
		`{origins: [https://a.example.com], headers: ["X A"]}`:     `invalid header name "X A"`,
		`{origins: [https://a.example.com], orgins: []}`:           `unknown field "orgins"`,
	} {
		_, err := build(t, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}

func BenchmarkActual(b *testing.B) {
	var n yaml.Node
	_ = yaml.Unmarshal([]byte(policy), &n)
	l, err := New(&pipeline.Build{Env: pipeline.NewEnv(nil, nil)}, n.Content[0])
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	r := &pipeline.Request{HTTP: req}
	b.ReportAllocs()
	for b.Loop() {
		if l.Evaluate(context.Background(), r).Outcome != verdict.Allow {
			b.Fatal("not allowed")
		}
	}
}
