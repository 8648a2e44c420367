package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const baseConfig = `
upstreams:
  app: {targets: [{url: "{{UP}}"}], retries: 2}
routes:
  - id: orders-create
    path: /orders
    methods: [POST]
    upstream: app
    request: {max_body: 64, content_types: [application/json], json: true}
  - id: orders-read
    path: /orders/{id}
    methods: [GET]
    upstream: app
  - id: api
    path: /api/*
    upstream: app
`

func TestDenialCodes(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, baseConfig, up.URL)
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		code, layer                  string
		detailHas                    string
		header                       [2]string
	}{
		{"no route", "POST", "/order", "application/json", `{}`, 404, "no_route", "route", "No route matches POST /order", [2]string{}},
		{"method not allowed", "DELETE", "/orders", "", "", 405, "method_not_allowed", "route", "allowed: POST", [2]string{"Allow", "POST"}},
		{"body too large", "POST", "/orders", "application/json", `{"note":"` + strings.Repeat("a", 100) + `"}`, 413, "body_too_large", "request", "at most 64 bytes", [2]string{}},
		{"unsupported media type", "POST", "/orders", "text/plain", `{}`, 415, "unsupported_media_type", "request", "Content-Type text/plain is not accepted", [2]string{"Accept-Post", "application/json"}},
		{"missing content type", "POST", "/orders", "", `{}`, 415, "unsupported_media_type", "request", "Content-Type none", [2]string{}},
		{"malformed json", "POST", "/orders", "application/json", "{\"a\": 1,\n \"b\": }", 400, "malformed_body", "request", "line 2, column 7", [2]string{}},
		{"truncated json", "POST", "/orders", "application/json", `{"a": [1, 2`, 400, "malformed_body", "request", "ends too early", [2]string{}},
		{"trailing data", "POST", "/orders", "application/json", `{"a": 1} x`, 400, "malformed_body", "request", "unexpected data after the JSON value", [2]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := do(t, tc.method, tg.srv.URL+tc.path, tc.ct, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			p := problem(t, resp, body)
			if p["code"] != tc.code || p["layer"] != tc.layer {
				t.Errorf("code/layer = %v/%v, want %s/%s", p["code"], p["layer"], tc.code, tc.layer)
			}
			if !strings.Contains(p["detail"].(string), tc.detailHas) {
				t.Errorf("detail %q does not contain %q", p["detail"], tc.detailHas)
			}
			if p["hint"] == "" {
				t.Error("empty hint")
			}
			if tc.header[0] != "" && resp.Header.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s = %q, want %q", tc.header[0], resp.Header.Get(tc.header[0]), tc.header[1])
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
			rec := tg.record(t, p["request_id"].(string))
			if rec.Code != tc.code || rec.Status != tc.status || rec.Layer != tc.layer {
				t.Errorf("trace record = %s/%d/%s, want %s/%d/%s", rec.Code, rec.Status, rec.Layer, tc.code, tc.status, tc.layer)
			}
		})
	}
}

func TestHTMLDenialForBrowsers(t *testing.T) {
	t.Parallel()
	tg := newTestGateway(t, baseConfig, echoUpstream(t).URL)
	resp, body := do(t, "GET", tg.srv.URL+"/nope", "", "", "Accept", "text/html,application/xhtml+xml")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"no_route", resp.Header.Get("Pinpoint-Request-Id"), "How to fix", "/_pinpoint/denials/no_route"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("HTML page lacks %q", want)
		}
	}
}

func TestDenialTypeResolvesToAPage(t *testing.T) {
	t.Parallel()
	tg := newTestGateway(t, baseConfig, echoUpstream(t).URL)
	resp, body := do(t, "GET", tg.srv.URL+"/_pinpoint/denials/body_too_large", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Request body too large") || !strings.Contains(string(body), "How to fix it") {
		t.Fatalf("denial page: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, "GET", tg.srv.URL+"/_pinpoint/denials/not_a_code", "", "")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown code page: %d", resp.StatusCode)
	}
}

func TestAllowedRequestIsProxiedWithForwardingHeaders(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, baseConfig, up.URL)
	resp, body := do(t, "POST", tg.srv.URL+"/orders?x=1", "application/json", `{"a":1}`,
		"X-Forwarded-For", "6.6.6.6", "Connection", "X-Hop, keep-alive", "X-Hop", "secret-hop", "Keep-Alive", "timeout=5")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("Pinpoint-Request-Id")
	if id == "" || got["request_id"] != id {
		t.Errorf("request id header %q, upstream saw %q", id, got["request_id"])
	}
	if got["body"] != `{"a":1}` || got["query"] != "x=1" {
		t.Errorf("body/query not forwarded: %v", got)
	}
	// The peer is not a trusted proxy, so its forged X-Forwarded-For is
	// replaced, not appended to.
	if got["xff"] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want 127.0.0.1 (forged value dropped)", got["xff"])
	}
	if got["xfproto"] != "http" || got["xfhost"] == "" || !strings.Contains(got["forwarded"], "for=127.0.0.1") {
		t.Errorf("forwarding headers: %v", got)
	}
	if got["custom_hop"] != "" || got["keepalive"] != "" {
		t.Errorf("hop-by-hop headers forwarded: %v", got)
	}
	rec := tg.record(t, id)
	if rec.Status != 200 || rec.Code != "" || rec.RouteID != "orders-create" || rec.UpStatus != 200 {
		t.Errorf("record: %+v", rec)
	}
	layers := []string{}
	for _, s := range rec.Steps {
		layers = append(layers, s.Layer+":"+s.Outcome)
	}
	if strings.Join(layers, ",") != "route:allow,request:allow,upstream:allow" {
		t.Errorf("trace steps = %v", layers)
	}
}

func TestRoutingPrecedence(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	cfg := `
upstreams:
  app: {targets: [{url: "{{UP}}"}]}
routes:
  - {id: prefix, path: "/users/*", upstream: app}
  - {id: param, path: "/users/{id}", upstream: app}
  - {id: exact, path: /users/me, upstream: app}
  - {id: param-posts, path: "/users/{id}/posts", methods: [GET], upstream: app}
  - {id: host, host: api.example.com, path: "/users/*", upstream: app}
  - {id: wildhost, host: "*.example.com", path: "/users/*", upstream: app}
  - {id: root, path: /, upstream: app}
`
	tg := newTestGateway(t, cfg, up.URL)
	rt := tg.g.cur.Load()
	cases := []struct{ host, method, path, want string }{
		{"x", "GET", "/users/me", "exact"},
		{"x", "GET", "/users/42", "param"},
		{"x", "GET", "/users/42/posts", "param-posts"},
		{"x", "POST", "/users/42/posts", "prefix"}, // method falls through to the prefix route
		{"x", "GET", "/users/42/posts/7", "prefix"},
		{"x", "GET", "/users", "prefix"},
		{"api.example.com", "GET", "/users/me", "host"},
		{"API.example.com:8443", "GET", "/users/me", "host"},
		{"eu.example.com", "GET", "/users/me", "wildhost"},
		{"x", "GET", "/", "root"},
		{"x", "GET", "/users/", "prefix"},
	}
	for _, c := range cases {
		m := rt.router.Match(c.host, c.method, c.path)
		got := ""
		if m.route != nil {
			got = m.route.info.ID
		}
		if got != c.want {
			t.Errorf("%s %s%s matched %q, want %q", c.method, c.host, c.path, got, c.want)
		}
	}
	m := rt.router.Match("x", "GET", "/users/5")
	if m.params["id"] != "5" {
		t.Errorf("param id = %q", m.params["id"])
	}
}

func TestNotFoundVersusMethodNotAllowed(t *testing.T) {
	t.Parallel()
	tg := newTestGateway(t, baseConfig, echoUpstream(t).URL)
	// Path exists for POST only: 405 with Allow, not 404 and never 403.
	resp, body := do(t, "PUT", tg.srv.URL+"/orders", "", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("PUT /orders: %d Allow=%q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	// GET /orders/{id} allows GET and HEAD.
	resp, _ = do(t, "DELETE", tg.srv.URL+"/orders/7", "", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("DELETE /orders/7: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// A typo under no prefix: 404 whose hint suggests the right path.
	resp, body = do(t, "POST", tg.srv.URL+"/ordres", "application/json", "{}")
	p := problem(t, resp, body)
	if resp.StatusCode != 404 || !strings.Contains(p["hint"].(string), "/orders") {
		t.Fatalf("typo: %d hint %v", resp.StatusCode, p["hint"])
	}
	rec := tg.record(t, p["request_id"].(string))
	if !strings.Contains(fmt.Sprint(rec.Steps[0].Evidence), "/orders") {
		t.Errorf("trace lacks nearest routes: %+v", rec.Steps[0].Evidence)
	}
}

func TestStreamingSSEFlushesPromptly(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: second\n\n")
	}))
	defer up.Close()
	defer close(release)
	tg := newTestGateway(t, baseConfig, up.URL)
	resp, err := http.Get(tg.srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event not delivered before the stream ended: %q %v", line, err)
	}
}

func TestChunkedRequestBodyStreams(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, baseConfig, up.URL)
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 3; i++ {
			fmt.Fprintf(pw, "part%d;", i)
			time.Sleep(10 * time.Millisecond)
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", tg.srv.URL+"/api/upload", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&got)
	if got["body"] != "part0;part1;part2;" {
		t.Fatalf("chunked body = %q", got["body"])
	}
}

func TestWebSocketUpgradePassesThrough(t *testing.T) {
	t.Parallel()
	// A minimal upgrade server: answers 101 and echoes bytes back.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(brw, buf); err == nil {
			conn.Write(append([]byte("echo:"), buf...))
		}
	}))
	defer up.Close()
	tg := newTestGateway(t, baseConfig, up.URL)
	conn, err := net.Dial("tcp", strings.TrimPrefix(tg.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Pinpoint-Request-Id") == "" {
		t.Fatalf("upgrade answer: %d %v", resp.StatusCode, resp.Header)
	}
	conn.Write([]byte("hello"))
	got := make([]byte, 10)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "echo:hello" {
		t.Fatalf("websocket bytes: %q %v", got, err)
	}
}

func TestUpstreamDownIs502AndSlowIs504(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	cfg := `
upstreams:
  dead: {targets: [{url: "` + dead + `"}], timeouts: {connect: 300ms}}
  slow: {targets: [{url: "{{UP}}"}], timeouts: {response_header: 200ms}}
routes:
  - {id: dead, path: /dead, upstream: dead}
  - {id: slow, path: /slow, upstream: slow}
`
	tg := newTestGateway(t, cfg, slow.URL)
	for _, c := range []struct {
		path, code string
		status     int
	}{{"/dead", "upstream_unreachable", 502}, {"/slow", "upstream_timeout", 504}} {
		resp, body := do(t, "POST", tg.srv.URL+c.path, "application/json", "{}")
		if resp.StatusCode != c.status {
			t.Fatalf("%s: status %d, want %d", c.path, resp.StatusCode, c.status)
		}
		p := problem(t, resp, body)
		if p["code"] != c.code || p["layer"] != "upstream" {
			t.Errorf("%s: %v/%v", c.path, p["code"], p["layer"])
		}
		if strings.Contains(p["detail"].(string), "127.0.0.1") {
			t.Errorf("%s: detail reveals the upstream address: %q", c.path, p["detail"])
		}
		rec := tg.record(t, p["request_id"].(string))
		if rec.Code != c.code || !strings.Contains(fmt.Sprint(rec.Steps), "127.0.0.1") {
			t.Errorf("%s: trace lacks the target: %+v", c.path, rec.Steps)
		}
	}
}

// rawUpstream is a target that answers each connection with serve, for
// answers net/http would refuse to write; the connection is closed after.
func rawUpstream(t *testing.T, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln
}

// TestMalformedUpstreamAnswerIs502 holds the gateway to refusing an
// answer whose framing it cannot trust (a response-splitting vector when
// passed on) and to naming the fault for the caller and in the trace.
func TestMalformedUpstreamAnswerIs502(t *testing.T) {
	t.Parallel()
	ln := rawUpstream(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 12\r\n\r\nhello, world")
	})
	cfg := `
upstreams:
  broken: {targets: [{url: "http://` + ln.Addr().String() + `"}]}
routes:
  - {id: broken, path: /broken, upstream: broken}
`
	tg := newTestGateway(t, cfg, "http://127.0.0.1:1")
	resp, body := do(t, "POST", tg.srv.URL+"/broken", "application/json", "{}")
	if resp.StatusCode != 502 {
		t.Fatalf("status %d, want 502: %s", resp.StatusCode, body)
	}
	p := problem(t, resp, body)
	if p["code"] != "upstream_bad_response" || p["layer"] != "upstream" || p["title"] != "Upstream answer malformed" {
		t.Fatalf("problem: %v", p)
	}
	if d := p["detail"].(string); !strings.Contains(d, "Content-Length given twice") || strings.Contains(d, "127.0.0.1") {
		t.Errorf("detail %q should name the fault and not the address", d)
	}
	if strings.Contains(string(body), "hello") {
		t.Errorf("the malformed body leaked to the caller: %s", body)
	}
	rec := tg.record(t, p["request_id"].(string))
	if rec.Code != "upstream_bad_response" || !strings.Contains(fmt.Sprint(rec.Steps), ln.Addr().String()) {
		t.Errorf("trace lacks the code or the target: %+v", rec)
	}
}

func TestUpstreamDenialPassesThroughMarked(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(403)
		fmt.Fprint(w, "upstream says no")
	}))
	defer up.Close()
	tg := newTestGateway(t, baseConfig, up.URL)
	resp, body := do(t, "POST", tg.srv.URL+"/api/x", "application/json", "{}")
	if resp.StatusCode != 403 || string(body) != "upstream says no" || resp.Header.Get("X-Upstream") != "yes" ||
		resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("not passed through untouched: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp.Header.Get("Pinpoint-Denied-By") != "upstream" {
		t.Fatalf("Pinpoint-Denied-By = %q", resp.Header.Get("Pinpoint-Denied-By"))
	}
	rec := tg.record(t, resp.Header.Get("Pinpoint-Request-Id"))
	last := rec.Steps[len(rec.Steps)-1]
	if rec.DeniedBy != "upstream" || last.Layer != "upstream" || last.Outcome != "deny" || !strings.Contains(fmt.Sprint(last.Evidence), "upstream says no") {
		t.Fatalf("trace: %+v", rec)
	}
}

func TestPostIsNeverRetriedButGetIs(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	// The first target accepts the connection and drops it mid-request.
	ln := rawUpstream(t, func(c net.Conn) {
		hits.Add(1)
		buf := make([]byte, 4096)
		c.Read(buf)
	})
	good := echoUpstream(t)
	cfg := `
upstreams:
  app:
    targets: [{url: "http://` + ln.Addr().String() + `"}, {url: "{{UP}}"}]
    retries: 1
    passive_health: {failures: 100}
routes:
  - {id: api, path: /api/*, upstream: app}
`
	tg := newTestGateway(t, cfg, good.URL)
	// Send POSTs until one lands on the failing target: it must fail
	// with 502 and not be replayed on the good one.
	sawFailure := false
	for i := 0; i < 6; i++ {
		before := hits.Load()
		resp, _ := do(t, "POST", tg.srv.URL+"/api/pay", "application/json", `{"amount":5}`)
		if hits.Load() > before {
			sawFailure = true
			if resp.StatusCode != 502 {
				t.Fatalf("POST that hit the failing target answered %d, want 502 (no retry)", resp.StatusCode)
			}
		}
	}
	if !sawFailure {
		t.Fatal("no POST reached the failing target")
	}
	// GETs (idempotent) and POSTs with an Idempotency-Key are retried.
	for i := 0; i < 4; i++ {
		resp, _ := do(t, "GET", tg.srv.URL+"/api/pay", "", "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET answered %d, want 200 after a retry", resp.StatusCode)
		}
		resp, _ = do(t, "POST", tg.srv.URL+"/api/pay", "application/json", `{}`, "Idempotency-Key", fmt.Sprint("k", i))
		if resp.StatusCode != 200 {
			t.Fatalf("POST with Idempotency-Key answered %d, want 200 after a retry", resp.StatusCode)
		}
	}
}

func TestLoadBalancingAndPassiveHealth(t *testing.T) {
	t.Parallel()
	var a, b atomic.Int32
	sa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.Add(1) }))
	defer sa.Close()
	sb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.Add(1) }))
	defer sb.Close()
	cfg := `
upstreams:
  app:
    balance: weighted
    targets: [{url: "` + sa.URL + `", weight: 3}, {url: "{{UP}}", weight: 1}]
routes:
  - {id: api, path: /api/*, upstream: app}
`
	tg := newTestGateway(t, cfg, sb.URL)
	for i := 0; i < 40; i++ {
		do(t, "GET", tg.srv.URL+"/api/x", "", "")
	}
	if a.Load() != 30 || b.Load() != 10 {
		t.Fatalf("weighted 3:1 split gave %d:%d", a.Load(), b.Load())
	}
	// Passive health: a target failing 5 times in a row is ejected.
	p := tg.g.cur.Load().pools["app"]
	for i := 0; i < 5; i++ {
		p.report(p.targets[0], false)
	}
	for i := 0; i < 8; i++ {
		if tgt := p.pick(nil); tgt != p.targets[1] {
			t.Fatalf("ejected target still picked")
		}
	}
}

func TestHotReloadUnderLoadLosesNothing(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, baseConfig, up.URL)
	stop := make(chan struct{})
	var failed, total atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(tg.srv.URL+"/orders", "application/json", strings.NewReader(`{"a":1}`))
				total.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		cfg := strings.ReplaceAll(baseConfig, "{{UP}}", up.URL) + fmt.Sprintf("\n# reload %d\n", i)
		if err := tg.g.Swap(mustParse(t, cfg)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 50 {
		t.Fatalf("%d of %d requests failed across 20 reloads", failed.Load(), total.Load())
	}
}

func TestBadConfigKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	tg := newTestGateway(t, baseConfig, up.URL)
	bad := mustParse(t, strings.ReplaceAll(baseConfig, "{{UP}}", up.URL)+`
  - id: broken
    path: /broken
    upstream: app
    request: {content_types: ["not a type"]}
`)
	err := tg.g.Swap(bad)
	if err == nil || !strings.Contains(err.Error(), "routes[3].request") || !strings.Contains(err.Error(), "running config stays") {
		t.Fatalf("bad config error = %v", err)
	}
	resp, _ := do(t, "POST", tg.srv.URL+"/orders", "application/json", `{}`)
	if resp.StatusCode != 200 {
		t.Fatalf("old config stopped serving: %d", resp.StatusCode)
	}
	resp, _ = do(t, "GET", tg.srv.URL+"/broken", "", "")
	if resp.StatusCode != 404 {
		t.Fatalf("route of the rejected config is live: %d", resp.StatusCode)
	}
}

func TestIncomingRequestIDHonouredOnlyFromTrustedSources(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	trusted := newTestGateway(t, baseConfig+"request_id: {trusted_sources: [127.0.0.1/32]}\n", up.URL)
	resp, _ := do(t, "GET", trusted.srv.URL+"/nope", "", "", "X-Request-Id", "from-lb-123")
	if got := resp.Header.Get("Pinpoint-Request-Id"); got != "from-lb-123" {
		t.Errorf("trusted source id not honoured: %q", got)
	}
	untrusted := newTestGateway(t, baseConfig+"request_id: {trusted_sources: [10.0.0.0/8]}\n", up.URL)
	resp, _ = do(t, "GET", untrusted.srv.URL+"/nope", "", "", "X-Request-Id", "forged")
	if got := resp.Header.Get("Pinpoint-Request-Id"); got == "forged" || len(got) != 26 {
		t.Errorf("untrusted id honoured or bad: %q", got)
	}
}
