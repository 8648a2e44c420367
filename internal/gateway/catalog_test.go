package gateway

import (
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// testHandler denies every request with the catalog code named by the
// path's last segment, through pipeline.Request.Deny: the path every
// layer's and handler's denial takes to the one renderer. With panics set
// it panics instead, standing for a bug anywhere in the request path.
type testHandler struct {
	Panics bool `yaml:"panics"`
}

func (h testHandler) Serve(w http.ResponseWriter, r *pipeline.Request) {
	if h.Panics {
		panic("secret-looking internal state 0xdeadbeef")
	}
	r.Deny(w, verdict.Denied(path.Base(r.HTTP.URL.Path), "test-rule", "Denied by the catalog test."))
}

func init() {
	pipeline.RegisterHandler("catalog-test", func(_ *pipeline.Build, node *yaml.Node) (pipeline.Handler, error) {
		var h testHandler
		err := node.Decode(&h)
		return h, err
	})
}

// Every code of the catalog, answered over HTTP by the gateway, carries
// the whole denial contract: the catalog's status, a problem document
// with every member and the catalog's type, title and layer, the request
// id in body and header, Pinpoint-Denied-By: gateway and no-store. (Which
// layer produces which code, with its own headers, is tested by each
// layer's tests and by demo --check, TestDemoCheckPasses.)
func TestEveryCatalogCodeRendersTheContract(t *testing.T) {
	t.Parallel()
	tg := newTestGateway(t, `
routes:
  - {id: codes, path: "/codes/{code}", handler: {catalog-test: {}}}
`, "http://127.0.0.1:1")
	entries := verdict.All()
	if len(entries) < 50 {
		t.Fatalf("catalog has %d codes; expected the whole catalog", len(entries))
	}
	for _, e := range entries {
		resp, body := do(t, "GET", tg.srv.URL+"/codes/"+e.Code, "", "")
		if resp.StatusCode != e.Status {
			t.Errorf("%s: status %d, want %d", e.Code, resp.StatusCode, e.Status)
			continue
		}
		p := problem(t, resp, body)
		if p["code"] != e.Code || p["title"] != e.Title || p["layer"] != e.Layer || p["rule"] != "test-rule" {
			t.Errorf("%s: problem %v, want code, title %q, layer %q, rule test-rule", e.Code, p, e.Title, e.Layer)
		}
		if p["detail"] != "Denied by the catalog test." || p["hint"] != e.Fix {
			t.Errorf("%s: detail %v / hint %v, want the verdict's detail and the catalog's fix", e.Code, p["detail"], p["hint"])
		}
		if p["instance"] != "/codes/"+e.Code {
			t.Errorf("%s: instance %v", e.Code, p["instance"])
		}
		if cc, nosniff := resp.Header.Get("Cache-Control"), resp.Header.Get("X-Content-Type-Options"); cc != "no-store" || nosniff != "nosniff" {
			t.Errorf("%s: Cache-Control %q, X-Content-Type-Options %q", e.Code, cc, nosniff)
		}
		rec := tg.record(t, p["request_id"].(string))
		if rec.Code != e.Code || rec.Status != e.Status || rec.DeniedBy != "gateway" {
			t.Errorf("%s: trace record code %q status %d denied by %q", e.Code, rec.Code, rec.Status, rec.DeniedBy)
		}
	}
}

// A panic is a 500 internal_error with the whole contract; the panic's
// text stays in the trace, never in the caller's answer.
func TestPanicIsInternalError(t *testing.T) {
	t.Parallel()
	tg := newTestGateway(t, `
routes:
  - {id: buggy, path: /buggy, handler: {catalog-test: {panics: true}}}
`, "http://127.0.0.1:1")
	resp, body := do(t, "POST", tg.srv.URL+"/buggy", "application/json", "{}")
	p := wantDenial(t, resp, body, 500, "internal_error", "gateway")
	if strings.Contains(string(body), "deadbeef") {
		t.Errorf("the panic's text reached the caller: %s", body)
	}
	rec := tg.record(t, p["request_id"].(string))
	if rec.Code != "internal_error" || !strings.Contains(fmt.Sprint(rec.Steps), "deadbeef") {
		t.Errorf("trace record lacks the code or the panic: %+v", rec)
	}
	// The gateway goes on serving.
	if resp, _ := do(t, "GET", tg.srv.URL+"/nowhere", "", ""); resp.StatusCode != 404 {
		t.Errorf("after the panic: status %d, want 404", resp.StatusCode)
	}
}

// Once every target is ejected, the answer is 503 no_healthy_upstream
// (not a 502 per request, and never a 403).
func TestAllTargetsEjectedIsNoHealthyUpstream(t *testing.T) {
	t.Parallel()
	dead := closedPort(t)
	tg := newTestGateway(t, `
upstreams:
  app:
    targets: [{url: "http://`+dead+`"}]
    passive_health: {failures: 1, eject: 1m}
    timeouts: {connect: 500ms}
routes:
  - {id: app, path: /app, upstream: app}
`, "http://127.0.0.1:1")
	resp, body := do(t, "GET", tg.srv.URL+"/app", "", "")
	if resp.StatusCode != 502 || problem(t, resp, body)["code"] != "upstream_unreachable" {
		t.Fatalf("first request: %d %s, want 502 upstream_unreachable", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", tg.srv.URL+"/app", "", "")
	if resp.StatusCode != 503 {
		t.Fatalf("second request: status %d, want 503: %s", resp.StatusCode, body)
	}
	p := problem(t, resp, body)
	if p["code"] != "no_healthy_upstream" || p["layer"] != "upstream" || !strings.Contains(p["detail"].(string), `"app"`) {
		t.Fatalf("problem %v", p)
	}
	if strings.Contains(string(body), dead) {
		t.Errorf("the target's address reached the caller: %s", body)
	}
	if rec := tg.record(t, p["request_id"].(string)); rec.Code != "no_healthy_upstream" || rec.Status != 503 {
		t.Errorf("trace record %+v", rec)
	}
}

// A stopping gateway refuses new requests with 503 shutting_down, tells
// the client to close and retry, and records it.
func TestDrainingGatewayRefusesNewRequests(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, `
routes:
  - {id: app, path: /app, upstream: default}
upstreams:
  default: {targets: [{url: "{{UP}}"}]}
`, up.URL)
	if resp, body := do(t, "GET", tg.srv.URL+"/app", "", ""); resp.StatusCode != 200 {
		t.Fatalf("before draining: %d %s", resp.StatusCode, body)
	}
	tg.g.Drain()
	resp, body := do(t, "GET", tg.srv.URL+"/app", "", "")
	p := wantDenial(t, resp, body, 503, "shutting_down", "gateway")
	if !resp.Close || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Connection close %v, Retry-After %q; want close and 1", resp.Close, resp.Header.Get("Retry-After"))
	}
	if rec := tg.record(t, p["request_id"].(string)); rec.Code != "shutting_down" {
		t.Errorf("trace record %+v", rec)
	}
}

// Server.Shutdown drains the gateway before it stops the listeners.
func TestServerShutdownDrainsTheGateway(t *testing.T) {
	cfg, err := config.Parse([]byte("listeners: [{addr: \"127.0.0.1:0\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := &drainRecorder{}
	s, err := Listen(cfg, d, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown()
	if !d.drained {
		t.Error("Shutdown did not drain the handler")
	}
}

type drainRecorder struct {
	http.Handler
	drained bool
}

func (d *drainRecorder) Drain() { d.drained = true }

// closedPort returns a loopback host:port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// wantDenial checks the status, the problem contract (problem) and the
// code and layer of a gateway denial, and returns the problem.
func wantDenial(t *testing.T, resp *http.Response, body []byte, status int, code, layer string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	p := problem(t, resp, body)
	if p["code"] != code || p["layer"] != layer {
		t.Fatalf("problem %v, want code %s, layer %s", p, code, layer)
	}
	return p
}
