package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"pinpoint/internal/config"
	"pinpoint/internal/h1server"
	_ "pinpoint/internal/layer/request"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/trace"
)

// memSink keeps trace records in memory for assertions.
type memSink struct {
	mu   sync.Mutex
	recs []*trace.Record
}

func (m *memSink) WriteBatch(_ context.Context, recs []*trace.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memSink) byID(id string) *trace.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

type testGW struct {
	g      *Gateway
	srv    testServer
	sink   *memSink
	writer *trace.Writer
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestGateway builds a gateway from YAML where {{UP}} is replaced by
// the upstream's URL.
func newTestGateway(t *testing.T, yamlText string, upstream string) *testGW {
	t.Helper()
	yamlText = strings.ReplaceAll(yamlText, "{{UP}}", upstream)
	cfg, err := config.Parse([]byte(yamlText))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	sink := &memSink{}
	w := trace.NewWriter(sink, 1024, quietLogger())
	g, err := New(cfg, Options{Env: pipeline.NewEnv(quietLogger(), nil), Writer: w})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	// The gateway is served the way plain listeners serve it in
	// production: by the builtin HTTP/1.1 server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &h1server.Server{Handler: g, ErrorLog: quietLogger()}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		_ = hs.Close()
		w.Close()
		g.Close()
	})
	return &testGW{g: g, srv: testServer{URL: "http://" + ln.Addr().String()}, sink: sink, writer: w}
}

// testServer is where a test gateway listens.
type testServer struct{ URL string }

func (tg *testGW) record(t *testing.T, id string) *trace.Record {
	t.Helper()
	tg.writer.Flush()
	r := tg.sink.byID(id)
	if r == nil {
		t.Fatalf("no trace record for request %s", id)
	}
	return r
}

func do(t *testing.T, method, url, contentType, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// problem decodes a problem+json body and checks every required member.
func problem(t *testing.T, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, body)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	for _, k := range []string{"type", "title", "status", "detail", "instance", "request_id", "layer", "code", "hint"} {
		if _, ok := p[k]; !ok {
			t.Errorf("problem body lacks %q: %s", k, body)
		}
	}
	if p["request_id"] != resp.Header.Get("Pinpoint-Request-Id") {
		t.Errorf("body request_id %v != header %q", p["request_id"], resp.Header.Get("Pinpoint-Request-Id"))
	}
	if got := resp.Header.Get("Pinpoint-Denied-By"); got != "gateway" {
		t.Errorf("Pinpoint-Denied-By = %q, want gateway", got)
	}
	if int(p["status"].(float64)) != resp.StatusCode {
		t.Errorf("body status %v != response status %d", p["status"], resp.StatusCode)
	}
	if p["type"] != "/_pinpoint/denials/"+p["code"].(string) {
		t.Errorf("type %v does not name the code %v", p["type"], p["code"])
	}
	return p
}

// echoUpstream answers 200 with what it received.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(b),
			"xff": r.Header.Get("X-Forwarded-For"), "xfproto": r.Header.Get("X-Forwarded-Proto"), "xfhost": r.Header.Get("X-Forwarded-Host"),
			"forwarded": r.Header.Get("Forwarded"), "request_id": r.Header.Get("Pinpoint-Request-Id"),
			"connection": r.Header.Get("Connection"), "keepalive": r.Header.Get("Keep-Alive"), "custom_hop": r.Header.Get("X-Hop"),
		})
	}))
	t.Cleanup(s.Close)
	return s
}
