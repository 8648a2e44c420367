package demo

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// csrfSecret signs the demo's CSRF tokens; a new one each run.
var csrfSecret = func() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

// The traffic-protection part of the demo: an IP allow list, CSRF and CORS
// for browser-facing routes, and a rate limit.
func init() {
	Register(Extension{
		Name: "traffic",
		Config: func(p Ports) map[string]string {
			return map[string]string{"routes": `  - id: internal
    path: /internal/*
    upstream: demo
    ip:
      allow: [10.0.0.0/8]
  - id: account
    path: /account/*
    upstream: demo
    csrf:
      trusted_origins: ["http://` + p.Gateway + `"]
    cors:
      origins: ["https://app.example.com"]
      methods: [GET, POST]
      headers: [Content-Type, X-Api-Key]
  - id: blocked
    path: /blocked/*
    upstream: demo
    ip:
      deny: [127.0.0.0/8, "::1/128"]
  - id: forms
    path: /forms/*
    methods: [GET, POST]
    upstream: demo
    csrf:
      token: {secret: "` + csrfSecret + `"}
  - id: search
    path: /search
    methods: [GET, POST]
    upstream: demo
    waf: {paranoia: 1}
  - id: limited
    path: /limited
    upstream: demo
    ratelimit:
      policies:
        - {name: per-client, key: [ip], limit: 1, window: 1m}
  - id: shared-count
    path: /shared-count
    upstream: demo
    ratelimit:
      # A Redis that is not there: this route fails closed.
      backend: redis
      redis: {url: "redis://` + strings.TrimPrefix(p.Dead, "http://") + `/0", timeout: 200ms}
      on_backend_error: closed
      policies:
        - {name: shared-per-client, key: [ip], limit: 100, window: 1m}
  - id: daily
    path: /daily
    upstream: demo
    ratelimit:
      policies:
        - {name: daily-per-client, key: [ip], quota: {limit: 1, per: day, timezone: UTC}}
`}
		},
		Examples: func(p Ports) []Example {
			json := [2]string{"Content-Type", "application/json"}
			return []Example{
				{Order: 30, Title: "IP: a route open only to 10.0.0.0/8 (the detail says the address seen)", Method: "GET", Path: "/internal/status", Status: 403, Code: "ip_not_allowed"},
				{Order: 30.5, Title: "IP: a route that denies loopback addresses (the detail says the address seen)", Method: "GET", Path: "/blocked/report", Status: 403, Code: "ip_denied"},
				{Order: 31, Title: "CSRF: a cross-site POST from another origin", Method: "POST", Path: "/account/email", Headers: [][2]string{json, {"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}}, Body: `{"email":"a@b.c"}`, Status: 403, Code: "csrf_origin_mismatch"},
				{Order: 32, Title: "CORS: a preflight from an origin that is not allowed", Method: "OPTIONS", Path: "/account/email", Headers: [][2]string{{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}}, Status: 403, Code: "cors_origin_not_allowed"},
				{Order: 33, Title: "CORS: a preflight asking for a header that is not allowed", Method: "OPTIONS", Path: "/account/email", Headers: [][2]string{{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}, {"Access-Control-Request-Headers", "X-Debug"}}, Status: 403, Code: "cors_header_not_allowed"},
				{Order: 33.5, Title: "CORS: a preflight for a method that is not allowed", Method: "OPTIONS", Path: "/account/email", Headers: [][2]string{{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "DELETE"}}, Status: 403, Code: "cors_method_not_allowed"},
				{Order: 34, Title: "CORS: an allowed preflight, answered by the gateway", Method: "OPTIONS", Path: "/account/email", Headers: [][2]string{{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}}, Status: 204},
				{Order: 36.2, Title: "Quota: the day's one call (the demo's own run already made it)", Method: "GET", Path: "/daily", Status: 200},
				{Order: 36.4, Title: "Quota: the second call of the day (the detail says when it resets)", Method: "GET", Path: "/daily", Status: 429, Code: "quota_exhausted"},
				{Order: 36.5, Title: "Rate limit: the shared counter (Redis) is unreachable and the route fails closed", Method: "GET", Path: "/shared-count", Status: 503, Code: "ratelimit_backend_unavailable"},
				{Order: 36.6, Title: "CSRF token: a same-site POST without the double-submitted token", Method: "POST", Path: "/forms/profile", Headers: [][2]string{json, {"Sec-Fetch-Site", "same-origin"}}, Body: `{}`, Status: 403, Code: "csrf_token_missing"},
				{Order: 36.8, Title: "CSRF token: a token the gateway did not sign (the detail says tampered)", Method: "POST", Path: "/forms/profile", Headers: [][2]string{json, {"Sec-Fetch-Site", "same-origin"}, {"Cookie", "pp_csrf=forged"}, {"X-CSRF-Token", "forged"}}, Body: `{}`, Status: 403, Code: "csrf_token_invalid"},
				{Order: 37, Title: "WAF: an SQL injection in a query parameter (the detail names the CRS rules, not the payload)", Method: "GET", Path: "/search?q=1%27%20OR%20%271%27%3D%271", Status: 403, Code: "waf_blocked"},
				{Order: 38, Title: "WAF: prose that merely mentions select and drop passes", Method: "POST", Path: "/search", Headers: [][2]string{{"Content-Type", "application/json"}}, Body: `{"comment":"Please select a date and drop me a line, O'Brien."}`, Status: 200},
				{Order: 35, Title: "Rate limit: the first call of the minute (the demo's own run already made it)", Method: "GET", Path: "/limited", Status: 200},
				{Order: 36, Title: "Rate limit: the second call within the minute", Method: "GET", Path: "/limited", Status: 429, Code: "rate_limited"},
			}
		},
	})
}
