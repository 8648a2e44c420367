package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	_ "pinpoint/internal/alerts"
	"pinpoint/internal/app"
	_ "pinpoint/internal/calllog/logapi"
	"pinpoint/internal/config"
)

// TestReloadAppliesAlertsAndRetention: a reload installs the new alert
// rules and retention; a reload whose alerts section is wrong is refused
// as a whole, naming the line, and the running rules stay.
func TestReloadAppliesAlertsAndRetention(t *testing.T) {
	dir := t.TempDir()
	cfgText := func(retentionDays int, alerts string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(fmt.Sprintf(`
listeners: [{addr: "127.0.0.1:0"}]
admin: {addr: "127.0.0.1:0", token: "t0ken"}
store: {dsn: %q, retention: {days: %d}}
upstreams:
  app: {targets: [{url: "http://127.0.0.1:9"}]}
routes:
  - {id: api, path: "/api/*", upstream: app}
alerts:
%s`, filepath.Join(dir, "pinpoint.db"), retentionDays, alerts)))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Start(ctx, cfgText(7, `  rules: [{id: before, kind: count, match: {code: ip_denied}, threshold: "5", window: 1m}]`),
		app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "") }()
	defer func() { cancel(); <-done }()

	rules := func() []string {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+a.AdminAddr+"/admin/v1/alerts", nil)
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Rules []struct{ Rule string } `json:"rules"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range body.Rules {
			ids = append(ids, r.Rule)
		}
		return ids
	}
	if got := rules(); strings.Join(got, ",") != "before" {
		t.Fatalf("rules at start: %v", got)
	}

	err = a.Gateway.Swap(cfgText(3, `  rules: [{id: broken, kind: count, threshold: "x", window: 1m}]`))
	if err == nil || !strings.Contains(err.Error(), "alerts.rules[0]") {
		t.Fatalf("bad alerts section: reload error %v, want one naming alerts.rules[0]", err)
	}
	if got := rules(); strings.Join(got, ",") != "before" {
		t.Errorf("rules after a refused reload: %v", got)
	}
	if d := a.Log.Retention().Days; d != 7 {
		t.Errorf("retention after a refused reload: %d days, want 7", d)
	}

	if err := a.Gateway.Swap(cfgText(3, `  rules: [{id: after, kind: count, match: {code: waf_blocked}, threshold: "1", window: 1m}]`)); err != nil {
		t.Fatal(err)
	}
	if got := rules(); strings.Join(got, ",") != "after" {
		t.Errorf("rules after reload: %v", got)
	}
	if d := a.Log.Retention().Days; d != 3 {
		t.Errorf("retention after reload: %d days, want 3", d)
	}
}
