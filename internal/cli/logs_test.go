package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pinpoint/internal/alerts"
	"pinpoint/internal/app"
	"pinpoint/internal/config"
)

// TestFindTheCauseEndToEnd is the newcomer's path through a real gateway:
// send a denied POST, find it with `logs`, `explain` it, `try` the fixed
// request, shadow a new rule and read its report, see the denial in
// `stats` and /metrics, and receive an alert at a local webhook.
func TestFindTheCauseEndToEnd(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	var hookMu sync.Mutex
	var hooks []alerts.Notification
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alerts.Verify("hook-secret", r.Header.Get(alerts.SignatureHeader), body, time.Minute, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var n alerts.Notification
		_ = json.Unmarshal(body, &n)
		hookMu.Lock()
		hooks = append(hooks, n)
		hookMu.Unlock()
	}))
	defer hook.Close()

	dsn := filepath.Join(t.TempDir(), "pinpoint.db")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
listeners: [{addr: "127.0.0.1:0"}]
admin: {addr: "127.0.0.1:0", token: "adm"}
store: {dsn: %q, retention: {days: 7, max_size: 50MB}}
upstreams:
  app: {targets: [{url: %q}]}
routes:
  - {id: orders, path: /orders, upstream: app, request: {max_body: 16}}
  - {id: users, path: /users, upstream: app, request: {mode: shadow, content_types: [application/json]}}
alerts:
  webhooks:
    ops: {url: %q, secret: hook-secret, backoff: 10ms}
  rules:
    - {id: too-large, kind: count, match: {code: body_too_large}, group_by: route, threshold: 0, window: 1m}
`, dsn, up.URL, hook.URL)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "") }()
	defer func() { cancel(); <-done }()
	base := "http://" + a.Server.Addrs()[0]
	adminURL := "http://" + a.AdminAddr

	run := func(args ...string) (string, error) {
		t.Helper()
		root := NewRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(args, "--admin", adminURL, "--admin-token", "adm"))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("pinpoint %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// 1. A denied POST.
	resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(`{"item": "a very long order body"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("Pinpoint-Request-Id")
	if resp.StatusCode != 413 || id == "" {
		t.Fatalf("status %d id %q, want a 413 with a request id", resp.StatusCode, id)
	}
	// And an allowed request a shadowed rule would have denied.
	resp, err = http.Post(base+"/users", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	shadowID := resp.Header.Get("Pinpoint-Request-Id")
	if resp.StatusCode != 200 {
		t.Fatalf("shadowed rule enforced: status %d", resp.StatusCode)
	}
	a.Writer.Flush()

	// 2. Find it.
	out := mustRun("logs", "--status", "413", "--since", "1h")
	if !strings.Contains(out, id) || !strings.Contains(out, "request/body_too_large") || strings.Contains(out, shadowID) {
		t.Errorf("logs --status 413:\n%s", out)
	}
	out = mustRun("logs", "--route", "orders", "--json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 1 || recs[0]["id"] != id {
		t.Errorf("logs --json: %v\n%s", err, out)
	}

	// 3. Explain it (straight from the store).
	out = mustRun("explain", id, "--store", dsn)
	if !strings.Contains(out, "body_too_large") || !strings.Contains(out, "Fix:") {
		t.Errorf("explain:\n%s", out)
	}

	// 4. Try the request: as sent it fails and says why; fixed it passes.
	out, err = run("try", "-X", "POST", base+"/orders", "-H", "Content-Type: application/json", "-d", `{"item": "a very long order body"}`)
	if ec, ok := err.(ExitCoder); !ok || ec.ExitCode() != 1 || !strings.Contains(out, "body_too_large") || !strings.Contains(out, "To make it pass") {
		t.Errorf("try of the denied request: err %v\n%s", err, out)
	}
	out = mustRun("try", "-X", "POST", base+"/orders", "-H", "Content-Type: application/json", "-d", `{"item":1}`)
	if !strings.Contains(out, "would pass every layer") {
		t.Errorf("try of the fixed request:\n%s", out)
	}
	a.Writer.Flush()
	if n := a.Writer.Written(); n != 2 {
		t.Errorf("%d records written; a dry run must not be logged as traffic", n)
	}

	// 5. The shadow report shows what the shadowed rule would have denied.
	out = mustRun("shadow", "report", "--since", "1h")
	if !strings.Contains(out, "unsupported_media_type") || !strings.Contains(out, shadowID) || !strings.Contains(out, "users") {
		t.Errorf("shadow report:\n%s", out)
	}

	// 6. Stats and metrics.
	out = mustRun("stats", "--since", "1h")
	if !strings.Contains(out, "requests 2") || !strings.Contains(out, "body_too_large 1") || !strings.Contains(out, "shadow 1") {
		t.Errorf("stats:\n%s", out)
	}
	mresp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	metrics := string(mb)
	for _, want := range []string{
		`pinpoint_denials_total{code="body_too_large",layer="request"} 1`,
		`pinpoint_requests_total{route="orders",status="413"} 1`,
		`pinpoint_shadow_denials_total{code="unsupported_media_type",layer="request",route="users"} 1`,
		`pinpoint_calllog_written_total 2`,
		`pinpoint_calllog_dropped_total 0`,
		`pinpoint_upstream_target_healthy{target=`,
		`pinpoint_request_duration_seconds_bucket{route="orders",le=`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// 7. The alert reaches the webhook, signed, naming the request.
	deadline := time.Now().Add(5 * time.Second)
	for {
		hookMu.Lock()
		n := len(hooks)
		hookMu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	hookMu.Lock()
	defer hookMu.Unlock()
	if len(hooks) != 1 || hooks[0].Rule != "too-large" || hooks[0].Group != "route=orders" || hooks[0].State != "firing" || len(hooks[0].Samples) != 1 || hooks[0].Samples[0] != id {
		t.Errorf("webhook notifications %+v", hooks)
	}
	out = mustRun("alerts")
	if !strings.Contains(out, "too-large") || !strings.Contains(out, "FIRING") {
		t.Errorf("alerts:\n%s", out)
	}
}
