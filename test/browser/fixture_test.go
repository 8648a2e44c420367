package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pinpoint/internal/app"
	"pinpoint/internal/config"
	_ "pinpoint/internal/layers" // every layer registers, as in the binary
)

// chromiumPath is Debian's chromium; playwright-core never downloads one.
const chromiumPath = "/usr/bin/chromium"

// tools returns node and the directory of cors.mjs, or ends the test when
// node, the npm packages or chromium are missing: a failure under CI,
// where scripts/test.sh installs them, a skip elsewhere.
func tools(t *testing.T) (node, dir string) {
	t.Helper()
	dir, _ = filepath.Abs(".")
	node, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "playwright-core"))
	_, chromeErr := os.Stat(chromiumPath)
	if nodeErr != nil || modErr != nil || chromeErr != nil {
		msg := fmt.Sprintf("browser test needs node, test/browser/node_modules (npm ci --prefix test/browser) and %s (apt-get install chromium): node=%v modules=%v chromium=%v",
			chromiumPath, nodeErr, modErr, chromeErr)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, dir
}

// upstream is the service behind the gateway: it echoes every request as
// JSON and remembers the method and Origin of each, so the test can tell
// which calls a browser actually let through.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string // "METHOD origin"
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.calls = append(u.calls, r.Method+" "+r.Header.Get("Origin"))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "body": string(body)})
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.calls...)
}

// page is the HTML both page servers serve. callGateway is the page's own
// script calling the gateway, as a web app would; cors.mjs invokes it.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>pinpoint CORS test page</title></head>
<body><h1>orders</h1><pre id="out"></pre>
<script>
window.callGateway = async (url, init) => {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    document.getElementById('out').textContent = res.status + ' ' + text;
    return { status: res.status, body, requestId: res.headers.get('Pinpoint-Request-Id') };
  } catch (e) {
    document.getElementById('out').textContent = e.name + ': ' + e.message;
    return { error: e.name, message: e.message };
  }
};
</script></body></html>`

// newPageServer serves page on its own loopback port: a distinct origin.
func newPageServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(s.Close)
	return s
}

// startGateway runs a real pinpoint in-process with one route to up whose
// CORS policy allows only allowedOrigin; it returns the app and its URL.
func startGateway(t *testing.T, up, allowedOrigin string) (*app.App, string) {
	t.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, `
listeners: [{addr: "127.0.0.1:0"}]
admin: {addr: "off"}
store: {dsn: %q}
upstreams:
  orders: {targets: [{url: %q}]}
routes:
  - id: api
    path: /api/*
    upstream: orders
    cors:
      origins: [%q]
      methods: [GET, POST]
      headers: [Content-Type]
`, filepath.Join(t.TempDir(), "p.db"), up, allowedOrigin))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Start(ctx, cfg, app.Options{Logger: quiet})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "") }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway stopped with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("gateway did not stop within 10s")
		}
	})
	return a, "http://" + a.Server.Addrs()[0]
}
