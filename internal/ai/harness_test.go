package ai

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/ai/mock"
	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
)

// fixture is a handler over a mock provider.
type fixture struct {
	t    testing.TB
	mock *mock.Server
	srv  *httptest.Server
	env  *pipeline.Env
	cfg  *config.Config
}

// newFixture starts a mock provider and compiles aiYAML, in which {{mock}}
// stands for the mock's URL.
func newFixture(t testing.TB, aiYAML string) *fixture {
	t.Helper()
	m := mock.NewServer()
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, mock: m, srv: srv, env: pipeline.NewEnv(nil, nil)}
	f.cfg = &config.Config{Sections: map[string]yaml.Node{"ai": *node(t, strings.ReplaceAll(aiYAML, "{{mock}}", srv.URL))}}
	return f
}

func node(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return doc.Content[0]
}

// handler builds a route handler from its handler config.
func (f *fixture) handler(handlerYAML string) *Handler {
	f.t.Helper()
	h, err := f.build(handlerYAML)
	if err != nil {
		f.t.Fatalf("building handler: %v", err)
	}
	return h
}

func (f *fixture) build(handlerYAML string) (*Handler, error) {
	fac, ok := pipeline.HandlerFactoryFor("ai")
	if !ok {
		f.t.Fatal("ai handler not registered")
	}
	b := &pipeline.Build{Env: f.env, Path: "routes[0].handler.ai", Route: &pipeline.RouteInfo{ID: "ai", Handler: "ai"}, Global: f.cfg}
	h, err := fac(b, node(f.t, handlerYAML))
	if err != nil {
		return nil, err
	}
	return h.(*Handler), nil
}

// result is one answered request.
type result struct {
	*httptest.ResponseRecorder
	req *pipeline.Request
}

func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body.String())
	}
	return v
}

// errorObject returns the OpenAI envelope's error object.
func (r result) errorObject(t testing.TB) map[string]any {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body.String())
	}
	return e
}

// events splits an SSE body into its data payloads.
func (r result) events(t testing.TB) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(r.Body.Bytes()))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

var acme = &pipeline.Identity{ConsumerID: "acme", ConsumerName: "Acme", KeyID: "key_acme", Method: "key"}

func serve(h *Handler, method, path, body string, id *pipeline.Identity) result {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var hr *http.Request
	if rd != nil {
		hr = httptest.NewRequest(method, path, rd)
	} else {
		hr = httptest.NewRequest(method, path, nil)
	}
	hr.Header.Set("Content-Type", "application/json")
	r := &pipeline.Request{HTTP: hr, ID: "req-test", Route: &pipeline.RouteInfo{ID: "ai", Handler: "ai"}, Identity: id}
	w := httptest.NewRecorder()
	h.Serve(w, r)
	return result{w, r}
}

// chatBody builds a chat request body.
func chatBody(model, user string, extra string) string {
	m, _ := json.Marshal(model)
	u, _ := json.Marshal(user)
	s := `{"model":` + string(m) + `,"messages":[{"role":"user","content":` + string(u) + `}]`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

// baseConfig has one provider of each wire format on the mock.
const baseConfig = `
providers:
  - name: openai
    kind: openai
    base_url: {{mock}}/openai/v1
    api_key: sk-test-openai
  - name: claude
    kind: anthropic
    base_url: {{mock}}/anthropic
    api_key: sk-ant-test
  - name: gemini
    kind: gemini
    base_url: {{mock}}/gemini
    api_key: gm-test
  - name: mistral
    kind: mistral
    base_url: {{mock}}/mistral/v1
    api_key: mi-test
  - name: azure
    kind: azure
    base_url: {{mock}}/azure
    api_version: 2024-10-21
    api_key: az-test
aliases:
  fast:
    model: openai/gpt-4o-mini-error-429
    fallbacks: [claude/claude-3-5-haiku-latest]
  flaky-stream:
    model: openai/gpt-4o-mini-cut
    fallbacks: [claude/claude-3-5-haiku-latest]
prices:
  openai/gpt-4o-mini-error-429: {input: 1, output: 1}
  openai/gpt-4o-mini-cut: {input: 0.15, output: 0.6}
  openai/gpt-4o-mini-nousage: {input: 0.15, output: 0.6}
`
