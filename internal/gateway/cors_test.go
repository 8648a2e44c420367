package gateway

import (
	"net/http"
	"testing"

	_ "pinpoint/internal/layer/cors"
	_ "pinpoint/internal/layer/ratelimit"
)

// A preflight reaches the cors layer of a route whose methods do not list
// OPTIONS, and headers from several layers accumulate on the answer.
func TestPreflightRoutingAndHeaderMerging(t *testing.T) {
	t.Parallel()
	cfg := baseConfig + `
  - id: browser
    path: /app/orders
    methods: [POST]
    upstream: app
    cors: {origins: ["https://app.example.com"], methods: [POST], headers: [Content-Type]}
    ratelimit:
      policies: [{name: per-ip, key: [ip], limit: 100, window: 1m}]
`
	tg := newTestGateway(t, cfg, echoUpstream(t).URL)
	resp, body := do(t, "OPTIONS", tg.srv.URL+"/app/orders", "", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = do(t, "OPTIONS", tg.srv.URL+"/app/orders", "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if p := problem(t, resp, body); resp.StatusCode != 403 || p["code"] != "cors_origin_not_allowed" {
		t.Fatalf("refused preflight: %d %v", resp.StatusCode, p["code"])
	}
	// A plain OPTIONS (not a preflight) is still a 405 with Allow.
	resp, _ = do(t, "OPTIONS", tg.srv.URL+"/app/orders", "", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("plain OPTIONS: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The actual request carries CORS and RateLimit headers together.
	resp, _ = do(t, "POST", tg.srv.URL+"/app/orders", "application/json", "{}", "Origin", "https://app.example.com")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") == "" || resp.Header.Get("RateLimit") == "" || len(resp.Header.Values("Vary")) == 0 {
		t.Fatalf("actual request headers: %d %v", resp.StatusCode, resp.Header)
	}
}
