package alerts

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// parseAlerts parses an alerts section written as YAML.
func parseAlerts(t *testing.T, y string) *Config {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(y), &node); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(node.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReconfigureKeepsUnchangedRules: a reload that leaves a firing rule
// as it was neither resets it nor fires it again; a rule whose definition
// changed starts afresh; a removed rule disappears; a new rule works.
func TestReconfigureKeepsUnchangedRules(t *testing.T) {
	t.Parallel()
	e, clk, rcv, d := setup(t, `
  - {id: denials, kind: count, match: {code: ip_denied}, threshold: "3", window: 5m}
  - {id: scopes, kind: count, match: {code: missing_scope}, threshold: "3", window: 5m}
  - {id: gone, kind: count, match: {code: waf_blocked}, threshold: "3", window: 5m}
`)
	for range 4 {
		e.Observe(req("orders", 403, "ip_denied", "", "192.0.2.1"))
		e.Observe(req("orders", 403, "missing_scope", "acme", "192.0.2.1"))
	}
	e.Tick()
	if got := rcv.wait(t, 2); got[0].State != "firing" || got[1].State != "firing" {
		t.Fatalf("before reload: %+v", got)
	}

	url := rcv.srv.URL
	next := parseAlerts(t, `
renotify: 1h
webhooks:
  ops: {url: "`+url+`", secret: s3cret, backoff: 5ms, retries: 3}
rules:
  - {id: denials, kind: count, match: {code: ip_denied}, threshold: "3", window: 5m}
  - {id: scopes, kind: count, match: {code: missing_scope}, threshold: "10", window: 5m}
  - {id: fresh, kind: count, match: {code: rate_limited}, threshold: "0", window: 5m}
`)
	d.SetWebhooks(next.Webhooks)
	e.Reconfigure(next)

	states := map[string]State{}
	for _, s := range e.States() {
		states[s.Rule] = s
	}
	if len(states) != 3 {
		t.Fatalf("rules after reload: %+v", states)
	}
	if s := states["denials"]; len(s.Firing) != 1 {
		t.Errorf("unchanged rule lost its firing group: %+v", s)
	}
	if s := states["scopes"]; len(s.Firing) != 0 || s.Groups != 0 {
		t.Errorf("changed rule kept old state: %+v", s)
	}
	if _, ok := states["gone"]; ok {
		t.Error("removed rule still evaluated")
	}

	e.Observe(req("orders", 403, "rate_limited", "acme", "192.0.2.1"))
	clk.Add(time.Second)
	e.Tick() // denials stays firing (no repeat before renotify); fresh fires.
	got := rcv.wait(t, 3)
	if got[2].Rule != "fresh" || got[2].State != "firing" {
		t.Errorf("after reload: %+v", got[2])
	}
}

// TestSetWebhooksMovesDeliveries: after a reload points a webhook at a
// new URL, notifications go there; the counters carry across; and a
// webhook the reload removed takes no more notifications.
func TestSetWebhooksMovesDeliveries(t *testing.T) {
	t.Parallel()
	e, _, first, d := setup(t, `
  - {id: denials, kind: count, match: {code: ip_denied}, threshold: "0", window: 5m}
`)
	second := newReceiver(t, "n3w")
	e.Observe(req("orders", 403, "ip_denied", "", "192.0.2.1"))
	e.Tick()
	first.wait(t, 1)

	next := parseAlerts(t, `
webhooks:
  ops: {url: "`+second.srv.URL+`", secret: n3w, backoff: 5ms}
rules:
  - {id: denials, kind: count, match: {code: ip_denied}, threshold: "0", window: 5m}
  - {id: scopes, kind: count, match: {code: missing_scope}, threshold: "0", window: 5m}
`)
	d.SetWebhooks(next.Webhooks)
	e.Reconfigure(next)
	e.Observe(req("orders", 403, "missing_scope", "acme", "192.0.2.1"))
	e.Tick()
	if got := second.wait(t, 1); got[0].Rule != "scopes" {
		t.Errorf("new webhook got %+v", got)
	}
	first.wait(t, 1) // nothing more reached the old URL
	deadline := time.Now().Add(5 * time.Second)
	for d.Delivered.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := d.Delivered.Load(); n != 2 {
		t.Errorf("delivered counter %d, want 2 across the reload", n)
	}

	d.SetWebhooks(nil)
	e.Observe(req("orders", 403, "rate_limited", "acme", "192.0.2.1"))
	d.Send(Notification{Rule: "x", State: "firing"})
	if n := d.Dropped.Load(); n != 0 {
		t.Errorf("dropped %d: a notification with no webhook is not a drop", n)
	}
	second.wait(t, 1)
}
