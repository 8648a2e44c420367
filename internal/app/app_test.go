package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/config"
	_ "pinpoint/internal/layer/request"
)

func startApp(t *testing.T, upstream string, extra string) (*App, string, context.CancelFunc, chan error) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
listeners: [{addr: "127.0.0.1:0"}]
admin: {addr: "127.0.0.1:0", token: "test-admin-token"}
store: {dsn: %q}
server: {shutdown_grace: 5s}
redact: {headers: [X-Custom-Secret]}
upstreams:
  app: {targets: [{url: %q}]}
routes:
  - {id: api, path: "/api/*", upstream: app}
%s`, filepath.Join(dir, "pinpoint.db"), upstream, extra)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "") }()
	return a, "http://" + a.Server.Addrs()[0], cancel, done
}

// The store must never hold a secret sent in a header or query parameter.
func TestSecretsNeverReachTheStoreFile(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	a, base, cancel, done := startApp(t, up.URL, "")
	secrets := []string{"sk-live-AUTHORIZATION-7f3a9", "cookie-session-c0ffee42", "pp_key1_SECRETVALUE123456", "custom-secret-value-99", "query-token-abcdef"}
	req, _ := http.NewRequest("POST", base+"/api/x?token="+secrets[4]+"&page=2", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+secrets[0])
	req.Header.Set("Cookie", "session="+secrets[1])
	req.Header.Set("X-Api-Key", secrets[2])
	req.Header.Set("X-Custom-Secret", secrets[3])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("Pinpoint-Request-Id")
	a.Writer.Flush()
	rec, err := a.Log.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Headers["Authorization"] != "Bearer [redacted]" || rec.Headers["X-Custom-Secret"] != "[redacted]" || !strings.Contains(rec.Query, "page=2") {
		t.Errorf("record headers/query not redacted as expected: %v %q", rec.Headers, rec.Query)
	}
	cancel()
	<-done
	var data []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(a.Config.Store.DSN + suffix)
		data = append(data, b...)
	}
	if len(data) == 0 {
		t.Fatal("store file is empty")
	}
	for _, s := range secrets {
		if strings.Contains(string(data), s) {
			t.Errorf("secret %q found in the store file", s)
		}
	}
	if !strings.Contains(string(data), id) {
		t.Error("the request's record is not in the store file at all")
	}
}

// SIGTERM-style shutdown lets an in-flight POST (body still arriving)
// finish within the grace period.
func TestGracefulShutdownFinishesInFlightPost(t *testing.T) {
	got := make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		fmt.Fprint(w, "stored")
	}))
	defer up.Close()
	_, base, cancel, done := startApp(t, up.URL, "")
	pr, pw := io.Pipe()
	respc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/orders", pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		respc <- resp
	}()
	fmt.Fprint(pw, `{"part":1,`)
	time.Sleep(200 * time.Millisecond)
	cancel() // begin shutdown while the body is still arriving
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(pw, `"part":2}`)
	pw.Close()
	select {
	case resp := <-respc:
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "stored" {
			t.Fatalf("in-flight POST answered %d %q", resp.StatusCode, b)
		}
	case err := <-errc:
		t.Fatalf("in-flight POST failed during shutdown: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight POST did not finish")
	}
	if body := <-got; body != `{"part":1,"part":2}` {
		t.Fatalf("upstream received %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(base + "/api/x"); err == nil {
		t.Fatal("gateway still accepts connections after shutdown")
	}
}

func TestAdminReloadEndpointRequiresTokenAndRejectsEmbeddedConfig(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	a, _, cancel, done := startApp(t, up.URL, "")
	defer func() { cancel(); <-done }()
	admin := "http://" + a.AdminAddr
	resp, err := http.Post(admin+"/admin/v1/reload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("reload without token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", admin+"/admin/v1/reload", nil)
	req.Header.Set("Authorization", "Bearer test-admin-token")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(b), "embedded config") {
		t.Fatalf("reload of an app without a file: %d %s", resp.StatusCode, b)
	}
}
