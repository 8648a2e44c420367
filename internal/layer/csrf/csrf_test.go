package csrf

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

const secret = "0123456789abcdef0123456789abcdef-test-secret"

var t0 = time.Date(2025, 6, 14, 12, 0, 0, 0, time.UTC)

func build(t *testing.T, src string, now time.Time) (*Layer, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	env := pipeline.NewEnv(nil, nil)
	env.Now = func() time.Time { return now }
	l, err := New(&pipeline.Build{Env: env, Path: "routes[0].csrf"}, n.Content[0])
	if err != nil {
		return nil, err
	}
	return l.(*Layer), nil
}

func mustBuild(t *testing.T, src string, now time.Time) *Layer {
	t.Helper()
	l, err := build(t, src, now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func eval(l *Layer, req *http.Request) verdict.Verdict {
	return l.Evaluate(context.Background(), &pipeline.Request{HTTP: req})
}

func post(hdr map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/v1/orders", strings.NewReader(`{}`))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req
}

const originOnly = `
trusted_origins: [https://app.example.com, "https://*.partner.example"]
exempt_when_header: [Authorization, X-API-Key]
`

func TestOriginCheck(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, originOnly, t0)
	cases := []struct {
		name   string
		method string
		hdr    map[string]string
		deny   bool
		detail string
	}{
		{name: "same-origin", hdr: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://api.example.com"}},
		{name: "user navigation", hdr: map[string]string{"Sec-Fetch-Site": "none"}},
		{name: "cross-site from trusted origin", hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}},
		{name: "same-site from trusted wildcard", hdr: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://eu.partner.example"}},
		{name: "cross-site from untrusted origin", hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, deny: true,
			detail: "The request came from origin https://evil.example (Sec-Fetch-Site: cross-site), which is not a trusted origin for this route."},
		{name: "same-site is not same-origin", hdr: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}, deny: true,
			detail: "The request came from origin https://blog.example.com (Sec-Fetch-Site: same-site), which is not a trusted origin for this route."},
		{name: "cross-site without Origin", hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, deny: true,
			detail: "The browser marked this POST request as cross-site (Sec-Fetch-Site) and sent no Origin header, so it cannot come from a trusted origin."},
		{name: "old browser, Origin matches Host", hdr: map[string]string{"Origin": "https://api.example.com"}},
		{name: "old browser, foreign Origin", hdr: map[string]string{"Origin": "http://evil.example"}, deny: true,
			detail: "The request came from origin http://evil.example (Sec-Fetch-Site: not sent), which is not a trusted origin for this route."},
		{name: "old browser, trusted Origin", hdr: map[string]string{"Origin": "https://app.example.com"}},
		{name: "no browser headers (curl)", hdr: nil},
		{name: "safe method passes cross-site", method: http.MethodGet, hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{name: "HEAD passes", method: http.MethodHead, hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{name: "OPTIONS passes", method: http.MethodOptions, hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{name: "DELETE is checked", method: http.MethodDelete, hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, deny: true,
			detail: "The request came from origin https://evil.example (Sec-Fetch-Site: cross-site), which is not a trusted origin for this route."},
		{name: "credential header without cookie is exempt", hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "X-Api-Key": "pp_x"}},
		{name: "credential header with cookie is checked", hdr: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "Authorization": "Bearer x", "Cookie": "session=1"}, deny: true,
			detail: "The request came from origin https://evil.example (Sec-Fetch-Site: cross-site), which is not a trusted origin for this route."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := post(tc.hdr)
			if tc.method != "" {
				req.Method = tc.method
			}
			v := eval(l, req)
			if !tc.deny {
				if v.Outcome.Stops() {
					t.Fatalf("refused: %+v", v)
				}
				return
			}
			res := v.Resolved()
			if res.Outcome != verdict.Deny || res.Code != "csrf_origin_mismatch" || res.Status != 403 || res.Layer != "csrf" {
				t.Fatalf("got %v %q %d %q", res.Outcome, res.Code, res.Status, res.Layer)
			}
			if res.Detail != tc.detail {
				t.Errorf("detail %q\nwant   %q", res.Detail, tc.detail)
			}
		})
	}
}

const tokenCfg = `
trusted_origins: [https://app.example.com]
token:
  secret: ` + secret + `
  session_cookie: session
  ttl: 1h
`

// issue gets a token the way a browser does: a GET, then the Set-Cookie.
func issue(t *testing.T, l *Layer, session string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: session})
	}
	v := eval(l, req)
	if v.Outcome != verdict.Allow {
		t.Fatalf("GET outcome %v", v.Outcome)
	}
	sc := v.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "pp_csrf=") || !strings.HasSuffix(sc, "; Path=/; Max-Age=3600; SameSite=Lax; Secure") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	return strings.TrimPrefix(sc[:strings.IndexByte(sc, ';')], "pp_csrf=")
}

func withToken(session, cookie, header string) *http.Request {
	req := post(map[string]string{"Sec-Fetch-Site": "same-origin"})
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: session})
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "pp_csrf", Value: cookie})
	}
	if header != "" {
		req.Header.Set("X-Csrf-Token", header)
	}
	return req
}

func TestToken(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, tokenCfg, t0)
	tok := issue(t, l, "s1")
	other := issue(t, l, "s2")
	later := mustBuild(t, tokenCfg, t0.Add(61*time.Minute))
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	cases := []struct {
		name   string
		l      *Layer
		req    *http.Request
		code   string
		reason string
		detail string
	}{
		{name: "valid", l: l, req: withToken("s1", tok, tok)},
		{name: "nothing sent", l: l, req: withToken("s1", "", ""), code: "csrf_token_missing",
			detail: "This route requires a CSRF token: neither the pp_csrf cookie nor the X-Csrf-Token header (or form field csrf_token) was sent."},
		{name: "cookie without header", l: l, req: withToken("s1", tok, ""), code: "csrf_token_missing",
			detail: "This route requires a CSRF token: the pp_csrf cookie was sent, but not its value in the X-Csrf-Token header or form field csrf_token."},
		{name: "header without cookie", l: l, req: withToken("s1", "", tok), code: "csrf_token_missing",
			detail: "This route requires a CSRF token: the token was sent in the header X-Csrf-Token, but the pp_csrf cookie it must match was not."},
		{name: "header differs from cookie", l: l, req: withToken("s1", tok, other), code: "csrf_token_invalid", reason: "mismatch",
			detail: "The CSRF token in the header X-Csrf-Token does not match the pp_csrf cookie."},
		{name: "another session", l: l, req: withToken("s2", tok, tok), code: "csrf_token_invalid", reason: "wrong_session",
			detail: "The CSRF token was issued for another session (the session cookie changed, e.g. after logging in again); reload the page to get a fresh one."},
		{name: "expired", l: later, req: withToken("s1", tok, tok), code: "csrf_token_invalid", reason: "expired",
			detail: "The CSRF token expired at 2025-06-14T13:00:00Z (tokens are valid for 1h0m0s); reload the page to get a fresh one."},
		{name: "tampered", l: l, req: withToken("s1", tampered, tampered), code: "csrf_token_invalid", reason: "tampered",
			detail: "The CSRF token was altered or was not issued by this gateway (its signature does not verify)."},
		{name: "garbage", l: l, req: withToken("s1", "x", "x"), code: "csrf_token_invalid", reason: "tampered",
			detail: "The CSRF token was altered or was not issued by this gateway (its signature does not verify)."},
		{name: "origin checked before token", l: l, req: func() *http.Request {
			r := withToken("s1", tok, tok)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.Header.Set("Origin", "https://evil.example")
			return r
		}(), code: "csrf_origin_mismatch",
			detail: "The request came from origin https://evil.example (Sec-Fetch-Site: cross-site), which is not a trusted origin for this route."},
	}
	hints := map[string]string{
		"nothing sent":          "Load a page of this site with GET first (it sets the pp_csrf cookie), then send the cookie's value in the X-Csrf-Token header.",
		"header without cookie": "Make sure the browser sends the pp_csrf cookie (same site, path and Secure settings), or reload the page.",
		"tampered":              "Reload the page to get a fresh token; the detail says which check failed.",
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if want, ok := hints[tc.name]; ok {
				if got := tc.l.Evaluate(context.Background(), &pipeline.Request{HTTP: tc.req.Clone(context.Background())}).Resolved().Hint; got != want {
					t.Errorf("hint %q\nwant %q", got, want)
				}
			}
			v := tc.l.Evaluate(context.Background(), &pipeline.Request{HTTP: tc.req})
			if tc.code == "" {
				if v.Outcome != verdict.Allow {
					t.Fatalf("refused: %+v", v)
				}
				return
			}
			res := v.Resolved()
			if res.Outcome != verdict.Deny || res.Code != tc.code || res.Status != 403 || res.Detail != tc.detail {
				t.Errorf("got %v %q %d %q\nwant deny %q 403 %q", res.Outcome, res.Code, res.Status, res.Detail, tc.code, tc.detail)
			}
			if tc.reason != "" {
				if got := field(v, "reason"); got != tc.reason {
					t.Errorf("reason %q, want %q", got, tc.reason)
				}
			}
			for _, f := range v.Evidence {
				if strings.Contains(f.Value, tok) {
					t.Errorf("token leaked into evidence %s", f.Key)
				}
			}
		})
	}
}

func field(v verdict.Verdict, key string) string {
	for _, f := range v.Evidence {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func TestTokenReissue(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, tokenCfg, t0)
	tok := issue(t, l, "s1")
	get := func(l *Layer, session, cookie string) verdict.Verdict {
		req := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: session})
		req.AddCookie(&http.Cookie{Name: "pp_csrf", Value: cookie})
		return eval(l, req)
	}
	if v := get(l, "s1", tok); v.Header.Get("Set-Cookie") != "" {
		t.Error("a fresh, valid token was replaced")
	}
	if v := get(l, "s2", tok); v.Header.Get("Set-Cookie") == "" {
		t.Error("a token of another session was not replaced")
	}
	half := mustBuild(t, tokenCfg, t0.Add(31*time.Minute))
	if v := get(half, "s1", tok); v.Header.Get("Set-Cookie") == "" {
		t.Error("a token past half its life was not replaced")
	}
	if v := get(l, "s1", "garbage"); v.Header.Get("Set-Cookie") == "" {
		t.Error("an invalid token was not replaced")
	}
	// HEAD and exempt requests get no cookie.
	req := httptest.NewRequest(http.MethodHead, "/", nil)
	if v := eval(l, req); v.Header.Get("Set-Cookie") != "" || v.Outcome != verdict.Skip {
		t.Errorf("HEAD: %+v", v)
	}
}

func TestFormField(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, tokenCfg, t0)
	tok := issue(t, l, "s1")

	form := url.Values{"name": {"x"}, "csrf_token": {tok}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	req.AddCookie(&http.Cookie{Name: "pp_csrf", Value: tok})
	pr := &pipeline.Request{HTTP: req}
	if v := l.Evaluate(context.Background(), pr); v.Outcome != verdict.Allow {
		t.Fatalf("urlencoded form: %+v", v)
	}
	// The body is still there for the upstream.
	if b, _ := pr.Body(); string(b) != form {
		t.Errorf("body after check = %q", b)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("title", "hello")
	_ = mw.WriteField("csrf_token", tok)
	_ = mw.Close()
	req = httptest.NewRequest(http.MethodPost, "https://api.example.com/", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	req.AddCookie(&http.Cookie{Name: "pp_csrf", Value: tok})
	if v := eval(l, req); v.Outcome != verdict.Allow {
		t.Fatalf("multipart form: %+v", v)
	}

	req = httptest.NewRequest(http.MethodPost, "https://api.example.com/", strings.NewReader("csrf_token="+url.QueryEscape(tok[:10])))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	req.AddCookie(&http.Cookie{Name: "pp_csrf", Value: tok})
	v := eval(l, req)
	if v.Code != "csrf_token_invalid" || !strings.Contains(v.Detail, "form field csrf_token does not match") {
		t.Errorf("truncated form token: %+v", v)
	}
}

func TestUnboundTokens(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, "token: {secret: "+secret+", cookie: XSRF-TOKEN, header: X-XSRF-TOKEN, insecure_cookie: true, same_site: strict}", t0)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	v := eval(l, req)
	sc := v.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "XSRF-TOKEN=") || !strings.HasSuffix(sc, "; Path=/; Max-Age=43200; SameSite=Strict") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	tok := strings.TrimPrefix(sc[:strings.IndexByte(sc, ';')], "XSRF-TOKEN=")
	req = post(map[string]string{"X-Xsrf-Token": tok})
	req.AddCookie(&http.Cookie{Name: "XSRF-TOKEN", Value: tok})
	req.AddCookie(&http.Cookie{Name: "session", Value: "whatever"})
	if v := eval(l, req); v.Outcome != verdict.Allow {
		t.Errorf("unbound token refused: %+v", v)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`token: {secret: short}`:                                   "routes[0].csrf.token.secret: must be at least 32 bytes (got 5)",
		`trusted_origins: ["*"]`:                                   "would trust every site",
		`trusted_origins: [example.com]`:                           "is not an origin",
		`exempt_when_header: [Cookie]`:                             "Cookie cannot exempt",
		`token: {secret: ` + secret + `, ttl: 10s}`:                "too short",
		`token: {secret: ` + secret + `, same_site: none}`:         "must be lax or strict",
		`token: {secret: ` + secret + `, cookie: "a b"}`:           "invalid cookie name",
		`token: {secret: ` + secret + `, session_cookie: pp_csrf}`: "must differ from token.cookie",
		`trusted_orgins: []`:                                       `unknown field "trusted_orgins"`,
	} {
		_, err := build(t, src, t0)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error reveals the secret", src)
		}
	}
}
