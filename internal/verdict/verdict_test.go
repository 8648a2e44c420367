package verdict

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/denials.md from the catalog")

func TestDocsMatchCatalog(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "denials.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/verdict -update)", err)
	}
	if string(got) != want {
		t.Fatal("docs/denials.md is out of date with the catalog; run: go test ./internal/verdict -update")
	}
}

func TestCatalogIsComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range All() {
		if seen[e.Code] {
			t.Errorf("code %s listed twice", e.Code)
		}
		seen[e.Code] = true
		if e.Layer == "" || e.Title == "" || e.Meaning == "" || e.Fix == "" || len(e.Causes) == 0 {
			t.Errorf("code %s lacks a layer, title, meaning, cause or fix", e.Code)
		}
		if e.Status < 400 || e.Status > 599 {
			t.Errorf("code %s has status %d", e.Code, e.Status)
		}
		if e.Status == 401 && e.Layer != "authn" {
			t.Errorf("401 code %s outside authn", e.Code)
		}
	}
}

func TestWriteProblem(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/orders/7", nil)
	w := httptest.NewRecorder()
	v := Denied("missing_scope", "scopes.POST", `needs "orders:write" <b>`).WithHeader("WWW-Authenticate", `Bearer error="insufficient_scope", scope="orders:write"`)
	Write(w, r, v, "req-1", Problem)
	if w.Code != 403 {
		t.Fatalf("status %d", w.Code)
	}
	h := w.Header()
	if h.Get("Content-Type") != "application/problem+json" || h.Get(HeaderRequestID) != "req-1" || h.Get(HeaderDeniedBy) != "gateway" ||
		h.Get("WWW-Authenticate") != `Bearer error="insufficient_scope", scope="orders:write"` {
		t.Fatalf("headers %v", h)
	}
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "/_pinpoint/denials/missing_scope", "title": "Missing scope", "status": 403.0, "detail": `needs "orders:write" <b>`,
		"instance": "/orders/7", "request_id": "req-1", "layer": "authz", "code": "missing_scope", "rule": "scopes.POST"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %v, want %v", k, p[k], v)
		}
	}
	if p["hint"] == "" {
		t.Error("no hint")
	}
}

func TestWriteOpenAIEnvelope(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	Write(w, httptest.NewRequest("POST", "/v1/chat/completions", nil), Denied("budget_exhausted", "daily", "Daily budget of $5.00 used up; resets at 00:00 UTC."), "req-2", OpenAI)
	var env struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if w.Code != 429 || env.Error["type"] != "rate_limit_error" || env.Error["code"] != "budget_exhausted" || env.Error["request_id"] != "req-2" ||
		env.Error["layer"] != "ai" || !strings.Contains(env.Error["message"].(string), "Daily budget") {
		t.Fatalf("envelope %d %v", w.Code, env.Error)
	}
}

func TestHeadGetsNoBody(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	Write(w, httptest.NewRequest(http.MethodHead, "/x", nil), Denied("no_route", "", "x"), "id", Problem)
	if w.Body.Len() != 0 || w.Code != 404 {
		t.Fatalf("HEAD: %d body %q", w.Code, w.Body.String())
	}
}

// FuzzAppendString: the hand-written JSON string encoder round-trips
// through encoding/json for any input.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te\`, "ctl\x00\x1f\n", "<b>&</b>", "\u2028\u2029", "bad\xffutf8", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want && !strings.Contains(s, "\uFFFD") {
			// Each invalid byte becomes its own U+FFFD.
			if len([]rune(got)) < len([]rune(want)) {
				t.Fatalf("round trip %q -> %q", s, got)
			}
		}
	})
}

func BenchmarkWriteProblem(b *testing.B) {
	r := httptest.NewRequest("POST", "/orders", nil)
	v := Denied("unsupported_media_type", "content_types", "Content-Type text/plain is not accepted here; send one of: application/json.")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		Write(w, r, v, "01jd0000000000000000000000", Problem)
	}
}

// The type URI is written without building it; a code that is not plain
// JSON must still come out escaped, in both formats.
func TestTypeURIEscaped(t *testing.T) {
	for _, code := range []string{"ip_denied", `odd"<code>\`} {
		v := Verdict{Outcome: Deny, Code: code, Status: 403, Layer: "ip"}
		var problem struct {
			Type string `json:"type"`
		}
		b := AppendProblem(nil, v, "req1", "/x")
		if err := json.Unmarshal(b, &problem); err != nil {
			t.Fatalf("code %q: %v in %s", code, err, b)
		}
		var openAI struct {
			Error struct {
				TypeURI string `json:"type_uri"`
			} `json:"error"`
		}
		o := AppendOpenAI(nil, v, "req1")
		if err := json.Unmarshal(o, &openAI); err != nil {
			t.Fatalf("code %q: %v in %s", code, err, o)
		}
		if problem.Type != TypeURI(code) || openAI.Error.TypeURI != TypeURI(code) {
			t.Errorf("code %q: type %q and type_uri %q, want %q", code, problem.Type, openAI.Error.TypeURI, TypeURI(code))
		}
		if code != "ip_denied" && (strings.Contains(string(b), `odd"`) || strings.Contains(string(o), "<code>")) {
			t.Errorf("code %q was not escaped: %s %s", code, b, o)
		}
	}
}

// Every code with answer headers is in the catalog.
func TestAnswerHeadersNameCatalogCodes(t *testing.T) {
	for code := range answerHeaders {
		if _, ok := Lookup(code); !ok {
			t.Errorf("answerHeaders names %q, which the catalog lacks", code)
		}
	}
}
