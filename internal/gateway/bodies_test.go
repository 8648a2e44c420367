package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A route that asks for it logs capped, redacted request and response
// bodies; other routes log none, and the upstream still gets the whole body.
func TestLogBodiesCappedAndRedacted(t *testing.T) {
	t.Parallel()
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"access_token":"tok-SECRET-1234","note":"`+strings.Repeat("z", 300)+`"}`)
	}))
	defer up.Close()
	cfg := `
upstreams:
  app: {targets: [{url: "{{UP}}"}]}
routes:
  - {id: logged, path: /logged, upstream: app, log_bodies: 128}
  - {id: quiet, path: /quiet, upstream: app}
`
	tg := newTestGateway(t, cfg, up.URL)
	body := `{"user":"ann","password":"hunter2-secret","card_number":"4111111111111111","pad":"` + strings.Repeat("y", 200) + `"}`
	resp, _ := do(t, "POST", tg.srv.URL+"/logged", "application/json", body)
	if got != body {
		t.Fatalf("upstream got a cut body: %d bytes of %d", len(got), len(body))
	}
	rec := tg.record(t, resp.Header.Get("Pinpoint-Request-Id"))
	reqLog, _ := rec.Extra["request_body"].(string)
	respLog, _ := rec.Extra["response_body"].(string)
	if !strings.Contains(reqLog, `"user":"ann"`) || strings.Contains(reqLog, "hunter2") || strings.Contains(reqLog, "4111111111111111") || len(reqLog) > 160 {
		t.Errorf("request body log: %q", reqLog)
	}
	if !strings.Contains(respLog, `"ok":true`) || strings.Contains(respLog, "tok-SECRET") || len(respLog) > 160 {
		t.Errorf("response body log: %q", respLog)
	}
	if _, ok := rec.Extra["request_body_tee"]; ok {
		t.Error("internal tee leaked into the record")
	}
	resp, _ = do(t, "POST", tg.srv.URL+"/quiet", "application/json", body)
	rec = tg.record(t, resp.Header.Get("Pinpoint-Request-Id"))
	if rec.Extra["request_body"] != nil || rec.Extra["response_body"] != nil {
		t.Errorf("a route without log_bodies logged bodies: %v", rec.Extra)
	}
}
