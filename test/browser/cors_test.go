package browser

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// pageCall is what a page's callGateway returned, plus what chromium
// printed to that page's console.
type pageCall struct {
	Status    int            `json:"status"`
	Body      map[string]any `json:"body"`
	RequestID string         `json:"requestId"`
	Error     string         `json:"error"`
	Message   string         `json:"message"`
	Console   []string       `json:"console"`
}

// preflightAnswer is the gateway's answer to a preflight sent from node.
type preflightAnswer struct {
	Status      int            `json:"status"`
	RequestID   string         `json:"requestId"`
	ContentType string         `json:"contentType"`
	AllowOrigin string         `json:"allowOrigin"`
	Body        map[string]any `json:"body"`
}

type browserResult struct {
	Allowed          pageCall        `json:"allowed"`
	Refused          pageCall        `json:"refused"`
	BadHeader        pageCall        `json:"badHeader"`
	Preflight        preflightAnswer `json:"preflight"`
	AllowedPreflight preflightAnswer `json:"allowedPreflight"`
	ActualGet        struct {
		Status      int    `json:"status"`
		AllowOrigin string `json:"allowOrigin"`
		Expose      string `json:"expose"`
		Vary        string `json:"vary"`
	} `json:"actualGet"`
	Error string `json:"error"`
}

// TestBrowserCORS checks issue 4 with a real chromium: a page from the
// allowed origin can POST JSON across origins and read the answer; a page
// from another origin is stopped by the browser at the preflight, its POST
// never reaches the upstream, and the gateway's refusal names the origin
// and is in the call log under the request id an operator would explain.
func TestBrowserCORS(t *testing.T) {
	node, dir := tools(t)
	up := newUpstream(t)
	good := newPageServer(t)
	bad := newPageServer(t)
	a, gw := startGateway(t, up.URL, good.URL)
	start := time.Now().Add(-time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "cors.mjs"), good.URL+"/", bad.URL+"/", gw)
	cmd.Dir = dir
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	var got browserResult
	if jerr := json.Unmarshal(out, &got); jerr != nil || err != nil || got.Error != "" {
		t.Fatalf("cors.mjs: %v (output %v)\n%s\n%s", err, jerr, out, stderr)
	}

	t.Run("allowed origin reads the POST answer", func(t *testing.T) {
		c := got.Allowed
		if c.Error != "" || c.Status != 200 {
			t.Fatalf("allowed page's fetch: status %d error %s: %s; console %q", c.Status, c.Error, c.Message, c.Console)
		}
		if c.Body["method"] != "POST" || c.Body["path"] != "/api/orders" || c.Body["body"] != `{"a":1}` {
			t.Errorf("page read body %v, want the upstream's echo of the POST", c.Body)
		}
		// The cors layer exposes the request id so a page can report it.
		if c.RequestID == "" {
			t.Error("Pinpoint-Request-Id not readable by the allowed page's script")
		}
	})

	t.Run("refused origin is blocked by the browser", func(t *testing.T) {
		c := got.Refused
		if c.Error != "TypeError" {
			t.Fatalf("refused page's fetch = status %d error %q, want a TypeError (blocked by CORS)", c.Status, c.Error)
		}
		if !consoleSays(c.Console, "blocked by CORS policy", bad.URL) {
			t.Errorf("chromium's console does not explain the block: %q", c.Console)
		}
	})

	t.Run("header outside the policy is blocked", func(t *testing.T) {
		c := got.BadHeader
		if c.Error != "TypeError" {
			t.Fatalf("fetch with X-Debug = status %d error %q, want a TypeError", c.Status, c.Error)
		}
		// The gateway puts the allow-origin header on this refusal, so
		// chromium reports the status instead of a missing header.
		if !consoleSays(c.Console, "blocked by CORS policy", "HTTP ok status") {
			t.Errorf("chromium's console: %q", c.Console)
		}
	})

	t.Run("refused preflight explains itself", func(t *testing.T) {
		p := got.Preflight
		if p.Status != 403 || p.Body["code"] != "cors_origin_not_allowed" {
			t.Fatalf("preflight from %s: status %d body %v", bad.URL, p.Status, p.Body)
		}
		if p.RequestID == "" || p.Body["request_id"] != p.RequestID {
			t.Errorf("Pinpoint-Request-Id %q, body request_id %v: want both, equal", p.RequestID, p.Body["request_id"])
		}
		if d, _ := p.Body["detail"].(string); !strings.Contains(d, bad.URL) {
			t.Errorf("detail %q does not name the refused origin %s", d, bad.URL)
		}
		if p.AllowOrigin != "" {
			t.Errorf("refusal carries Access-Control-Allow-Origin %q", p.AllowOrigin)
		}
		if p.ContentType != "application/problem+json" {
			t.Errorf("content type %q", p.ContentType)
		}
	})

	t.Run("allowed preflight", func(t *testing.T) {
		p := got.AllowedPreflight
		if p.Status != 204 || p.AllowOrigin != good.URL {
			t.Errorf("preflight from %s: status %d allow-origin %q", good.URL, p.Status, p.AllowOrigin)
		}
	})

	t.Run("proxied answer carries the CORS headers", func(t *testing.T) {
		g := got.ActualGet
		if g.Status != 200 || g.AllowOrigin != good.URL || !strings.Contains(g.Expose, "Pinpoint-Request-Id") ||
			!strings.Contains(g.Vary, "Origin") {
			t.Errorf("GET with Origin %s: %+v (want 200, the origin echoed, Pinpoint-Request-Id exposed, Vary: Origin)", good.URL, g)
		}
	})

	t.Run("only the allowed calls reached the upstream", func(t *testing.T) {
		// The refused page's POST must never have been sent.
		want := []string{"POST " + good.URL, "GET " + good.URL}
		if calls := up.seen(); !slices.Equal(calls, want) {
			t.Errorf("upstream saw %q, want %q", calls, want)
		}
	})

	t.Run("call log records the browser's refused preflight", func(t *testing.T) {
		a.Writer.Flush()
		recs, err := a.Log.Recent(context.Background(), 50, start)
		if err != nil {
			t.Fatal(err)
		}
		var browser, byHand *trace.Record
		var badHeader bool
		for _, r := range recs {
			switch {
			case r.Method != "OPTIONS":
			case r.Code == "cors_header_not_allowed" && strings.Contains(r.Detail, "x-debug"):
				badHeader = true
			case r.Code != "cors_origin_not_allowed":
			case r.ID == got.Preflight.RequestID:
				byHand = r
			default:
				browser = r
			}
		}
		if byHand == nil {
			t.Errorf("no record for the preflight sent from node (id %s)", got.Preflight.RequestID)
		}
		if browser == nil {
			t.Fatalf("no call-log record of chromium's refused preflight among %d records: %s", len(recs), summary(recs))
		}
		if browser.Status != 403 || browser.Layer != "cors" || browser.RouteID != "api" ||
			browser.Path != "/api/orders" || !strings.Contains(browser.Detail, bad.URL) {
			t.Errorf("browser's preflight record: status %d layer %q route %q path %q detail %q",
				browser.Status, browser.Layer, browser.RouteID, browser.Path, browser.Detail)
		}
		if !badHeader {
			t.Errorf("no cors_header_not_allowed record naming x-debug: %s", summary(recs))
		}
	})
}

// consoleSays reports whether one console line contains every part.
func consoleSays(lines []string, parts ...string) bool {
	for _, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func summary(recs []*trace.Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString("\n  " + r.ID + " " + r.Method + " " + r.Path + " " + r.Code)
	}
	return b.String()
}
