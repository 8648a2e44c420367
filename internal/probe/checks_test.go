package probe

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func jwtFor(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func TestJWTExpiredSaidPlainly(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tok := jwtFor(map[string]any{"exp": now.Add(-2 * time.Hour).Unix(), "iss": "https://idp.test", "aud": []string{"api"}, "scope": "orders:read"})
	r := &Request{Method: "POST", URL: "https://api.test/x", Header: http.Header{"Authorization": {"Bearer " + tok}}}
	c := &collector{}
	j := checkCredentials(c, r, now, time.Time{})
	if j == nil || len(c.findings) != 1 || c.findings[0].Title != "The token expired 2 hours ago" {
		t.Fatalf("findings %+v", c.findings)
	}
	// With the server's Date an hour ahead the skew is shown.
	c = &collector{}
	checkCredentials(c, r, now, now.Add(time.Hour))
	if !strings.Contains(strings.Join(c.findings[0].Evidence, " "), "server clock differs from yours by 1 hours") {
		t.Errorf("skew not shown: %v", c.findings[0].Evidence)
	}
	// nbf in the future.
	tok = jwtFor(map[string]any{"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(10 * time.Minute).Unix()})
	r.Header.Set("Authorization", "Bearer "+tok)
	c = &collector{}
	checkCredentials(c, r, now, time.Time{})
	if len(c.findings) != 1 || c.findings[0].ID != "token.not_yet_valid" {
		t.Fatalf("nbf: %+v", c.findings)
	}
}

func TestWWWAuthenticateInsufficientScope(t *testing.T) {
	chs := ParseWWWAuthenticate([]string{`Bearer realm="api", error="insufficient_scope", scope="orders:write orders:read", Basic realm="legacy"`})
	if len(chs) != 2 || chs[0].Params["error"] != "insufficient_scope" || chs[0].Params["scope"] != "orders:write orders:read" || chs[1].Scheme != "Basic" {
		t.Fatalf("%+v", chs)
	}
	tok, _ := DecodeJWT(jwtFor(map[string]any{"scp": []string{"orders:read"}}))
	resp := &Response{Status: 403, Header: http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="orders:write orders:read"`}}}
	c := &collector{}
	checkWWWAuthenticate(c, resp, tok)
	if len(c.findings) != 1 || c.findings[0].Title != "The token lacks scope orders:write" {
		t.Fatalf("%+v", c.findings)
	}
}

func TestRequestChecks(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"json as form", []string{"https://x.test/a", "-d", `{"a":1}`}, "request.json_as_form"},
		{"invalid json", []string{"https://x.test/a", "-H", "Content-Type: application/json", "-d", `{'a':1}`}, "request.json_invalid"},
		{"multipart without boundary", []string{"https://x.test/a", "-H", "Content-Type: multipart/form-data", "-d", "x"}, "request.multipart_no_boundary"},
		{"jwt without bearer", []string{"https://x.test/a", "-H", "Authorization: eyJhbGciOiJIUzI1NiJ9.e30.sig"}, "request.auth_no_scheme"},
		{"basic not base64", []string{"https://x.test/a", "-H", "Authorization: Basic user:pw"}, "request.basic_not_base64"},
		{"key with newline", []string{"https://x.test/a", "-H", "X-Api-Key: abc123\n"}, "request.secret_pasted_badly"},
		{"quoted bearer", []string{"https://x.test/a", "-H", `Authorization: "Bearer abc"`}, "request.secret_pasted_badly"},
		{"empty bearer", []string{"https://x.test/a", "-H", "Authorization: Bearer "}, "request.auth_empty"},
		{"csrf cookie without token", []string{"https://x.test/a", "-b", "csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345", "-d", "a=1"}, "csrf.token_missing"},
		{"django token mismatch", []string{"https://x.test/a", "-b", "csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345", "-H", "X-CSRFToken: ZZZZEfGhIjKlMnOpQrStUvWxYz012345", "-d", "a=1"}, "csrf.token_mismatch"},
		{"origin null", []string{"https://x.test/a", "-H", "Origin: null", "-d", "a=1"}, "request.origin_null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseArgs(tc.args, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := &collector{}
			checkRequest(c, r)
			if !c.has(tc.want) {
				t.Fatalf("want %s, got %+v", tc.want, c.findings)
			}
		})
	}
	// A clean JSON POST with a bearer token raises nothing.
	r, _ := ParseArgs([]string{"https://x.test/a", "--json", `{"a":1}`, "-H", "Authorization: Bearer abc.def.ghi"}, ParseOptions{})
	c := &collector{}
	checkRequest(c, r)
	if len(c.findings) != 0 {
		t.Fatalf("clean request flagged: %+v", c.findings)
	}
}

// Django's masked token (salt + shifted secret) matches its cookie.
func TestDjangoMaskedTokenMatches(t *testing.T) {
	secret := "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	salt := "zyxwvutsrqponmlkjihgfedcba987654"
	masked := make([]byte, 32)
	for i := 0; i < 32; i++ {
		x := strings.IndexByte(djangoChars, secret[i])
		y := strings.IndexByte(djangoChars, salt[i])
		masked[i] = djangoChars[(x+y)%len(djangoChars)]
	}
	ok, how := csrfMatch("csrftoken", secret, salt+string(masked))
	if !ok || how == "" {
		t.Fatalf("masked token should match: %v %s", ok, how)
	}
	if ok, _ := csrfMatch("csrftoken", secret, salt+strings.Repeat("a", 32)); ok {
		t.Fatal("wrong token matched")
	}
}

func TestMasking(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer sk_live_abcdefghijklmnop"}, "Cookie": {"sessionid=verysecretvalue; theme=dark"}, "Accept": {"*/*"}}
	got := strings.Join(MaskedHeaders(h), "\n")
	for _, secret := range []string{"sk_live_abcdefghijklmnop", "verysecretvalue"} {
		if strings.Contains(got, secret) {
			t.Fatalf("secret shown: %s", got)
		}
	}
	if !strings.Contains(got, "Authorization: Bearer sk_l…(24 chars)") || !strings.Contains(got, "Accept: */*") {
		t.Fatalf("masked form: %s", got)
	}
	if b := maskBody([]byte(`{"user":"a","password":"hunter22"}`)); strings.Contains(b, "hunter22") {
		t.Fatalf("password shown: %s", b)
	}
	if b := maskBody([]byte("user=a&password=hunter22&x=1")); strings.Contains(b, "hunter22") || !strings.Contains(b, "x=1") {
		t.Fatalf("form password: %s", b)
	}
}

func TestLogsQuoteTheDecidingLine(t *testing.T) {
	cases := []struct {
		file, method, path, id, quote string
	}{
		{"testdata/logs/modsec_error.log", "POST", "/api/search", "log.modsecurity", `[id "949110"]`},
		{"testdata/logs/modsec_audit.log", "POST", "/api/search", "log.modsecurity", "Access denied with code 403"},
		{"testdata/logs/nginx_error.log", "POST", "/admin/users", "log.nginx_deny", "access forbidden by rule"},
		{"testdata/logs/nginx_error.log", "POST", "/api/orders", "log.nginx_limit_req", `limiting requests, excess: 1.000 by zone "api"`},
		{"testdata/logs/nginx_error.log", "GET", "/files/", "log.nginx_autoindex", "is forbidden"},
		{"testdata/logs/apache_error.log", "POST", "/admin/save", "log.apache_require", "AH01630: client denied by server configuration"},
		{"testdata/logs/django.log", "POST", "/api/orders", "log.django_csrf", "Forbidden (CSRF token missing or incorrect.)"},
	}
	for _, tc := range cases {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		hits := MatchLog(tc.file, data, tc.method, tc.path)
		c := &collector{}
		analyseLogs(c, hits, []string{tc.file}, tc.path)
		f := ranked(c.findings)
		if len(f) == 0 || f[0].ID != tc.id || !strings.Contains(strings.Join(f[0].Evidence, "\n"), tc.quote) {
			t.Errorf("%s %s: got %+v", tc.file, tc.path, f)
		}
	}
	// The CRS anomaly total is named together with the rules that matched.
	data, _ := os.ReadFile("testdata/logs/modsec_error.log")
	c := &collector{}
	analyseLogs(c, MatchLog("e", data, "POST", "/api/search"), []string{"e"}, "/api/search")
	if ev := strings.Join(c.findings[0].Evidence, " "); !strings.Contains(ev, "942") {
		t.Errorf("SQLi rules not listed: %s", ev)
	}
	// A path the log never saw says so.
	c = &collector{}
	analyseLogs(c, MatchLog("e", data, "POST", "/nowhere"), []string{"e"}, "/nowhere")
	if len(c.findings) != 0 || c.steps[0].Status != Warn {
		t.Errorf("unrelated path: %+v", c.steps)
	}
}

// End to end offline: the ModSecurity fixture plus its log gives the CRS
// rule as the top cause, in text and JSON, with exit code 1.
func TestReportOfflineWithLog(t *testing.T) {
	var out bytes.Buffer
	o := Options{Args: []string{"-X", "POST", "http://127.0.0.1:18083/api/search", "-d", "q=1' OR '1'='1"},
		ResponseFile: "testdata/fixtures/modsecurity_crs.http", LogFiles: []string{"testdata/logs/modsec_error.log"},
		Out: &out, Err: &bytes.Buffer{}, Env: func(string) string { return "" }}
	err := Run(context.Background(), o)
	var ee *ExitError
	if !asExit(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v", err)
	}
	text := out.String()
	for _, want := range []string{"Diagnosis (most likely first)", "ModSecurity/CRS denied the request", "Checklist", "logs        pass"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("colour without a terminal")
	}
	out.Reset()
	o.JSON = true
	_ = Run(context.Background(), o)
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != OutcomeCauseFound || rep.Diagnosis[0].ID != "log.modsecurity" || len(rep.Sent) != 0 {
		t.Fatalf("json report: %+v", rep.Diagnosis)
	}
}

func TestExitCodes(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}"
	unknown := "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno"
	for _, tc := range []struct {
		raw  string
		code int
	}{{ok, 0}, {unknown, 2}} {
		f, err := os.CreateTemp(t.TempDir(), "resp")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString(tc.raw)
		f.Close()
		rep, err := Probe(context.Background(), Options{Args: []string{"https://x.test/a"}, ResponseFile: f.Name(), Env: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.ExitCode != tc.code {
			t.Errorf("%q: exit %d, want %d (%+v)", tc.raw[:15], rep.ExitCode, tc.code, rep.Diagnosis)
		}
	}
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	if ok {
		*target = e
	}
	return ok
}
