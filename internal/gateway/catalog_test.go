package gateway

import (
	"net/http"
	"path"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// denyHandler denies every request with the catalog code named by the
// path's last segment, through pipeline.Request.Deny: the path every
// layer's and handler's denial takes to the one renderer.
type denyHandler struct{}

func (denyHandler) Serve(w http.ResponseWriter, r *pipeline.Request) {
	r.Deny(w, verdict.Denied(path.Base(r.HTTP.URL.Path), "test-rule", "Denied by the catalog test."))
}

func init() {
	pipeline.RegisterHandler("catalog-test-deny", func(*pipeline.Build, *yaml.Node) (pipeline.Handler, error) {
		return denyHandler{}, nil
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
  - {id: codes, path: "/codes/{code}", handler: {catalog-test-deny: {}}}
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
