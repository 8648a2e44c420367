package alerts

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/trace"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// receiver is a real webhook endpoint that checks signatures.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []Notification
	failures atomic.Int32 // answer 500 this many times first
	attempts atomic.Int32
	badSig   atomic.Int32
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.attempts.Add(1)
		body, _ := io.ReadAll(req.Body)
		if err := Verify(secret, req.Header.Get(SignatureHeader), body, 5*time.Minute, time.Now()); err != nil {
			r.badSig.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.failures.Add(-1) >= 0 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var n Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T, n int) []Notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]Notification(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("webhook received %d notifications, want %d: %+v", len(got), n, got)
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func setup(t *testing.T, rules string) (*Engine, *clock, *receiver, *Deliverer) {
	t.Helper()
	rcv := newReceiver(t, "s3cret")
	y := "renotify: 1h\nwebhooks:\n  ops: {url: \"" + rcv.srv.URL + "\", secret: s3cret, backoff: 5ms, retries: 3}\nrules:\n" + rules
	c := parseAlerts(t, y)
	clk := &clock{t: time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := NewDeliverer(c.Webhooks, nil, time.Now, logger)
	t.Cleanup(d.Close)
	return NewEngine(c, clk.Now, logger, d.Send), clk, rcv, d
}

func req(route string, status int, code, consumer, client string) *trace.Record {
	return &trace.Record{ID: "r-" + route + "-" + code + "-" + consumer, RouteID: route, Status: status, Code: code, Consumer: consumer, Client: client}
}

func TestRateRuleFiresOnceAndResolves(t *testing.T) {
	t.Parallel()
	e, clk, rcv, _ := setup(t, `
  - {id: checkout-403, kind: rate, where: {route: checkout}, match: {status: "403"}, threshold: 5%, min_requests: 50, window: 5m}
`)
	// 40 requests with 10 denied: 25%, but under min_requests.
	for i := range 40 {
		st := 200
		if i < 10 {
			st = 403
		}
		e.Observe(req("checkout", st, "", "", "192.0.2.1"))
		e.Observe(req("other", 403, "", "", "192.0.2.1")) // out of scope.
	}
	e.Tick()
	for range 20 {
		e.Observe(req("checkout", 200, "", "", "192.0.2.1"))
	}
	clk.Add(time.Second)
	e.Tick() // 60 requests, 10 denied: 16.7% > 5%.
	e.Tick() // still firing: no second notification.
	got := rcv.wait(t, 1)[0]
	if got.Rule != "checkout-403" || got.State != "firing" || got.Matched != 10 || got.Total != 60 {
		t.Errorf("notification %+v", got)
	}
	if !strings.Contains(got.Summary, "status 403 rate 16.7% (10 of 60) over 5m0s on route checkout") {
		t.Errorf("summary %q", got.Summary)
	}
	if len(got.Samples) == 0 {
		t.Error("no sample request ids")
	}
	if s := e.States(); len(s[0].Firing) != 1 {
		t.Errorf("states %+v", s)
	}
	clk.Add(6 * time.Minute) // the window empties.
	e.Tick()
	res := rcv.wait(t, 2)[1]
	if res.State != "resolved" || !strings.HasPrefix(res.Summary, "resolved: ") {
		t.Errorf("resolution %+v", res)
	}
	if rcv.badSig.Load() != 0 {
		t.Error("a signature did not verify")
	}
}

func TestCountRulePerConsumerWithRenotify(t *testing.T) {
	t.Parallel()
	e, clk, rcv, _ := setup(t, `
  - {id: expired, kind: count, match: {code: key_expired}, group_by: consumer, threshold: 100, window: 10m}
`)
	for range 101 {
		e.Observe(req("orders", 401, "key_expired", "acme", "192.0.2.1"))
	}
	for range 100 {
		e.Observe(req("orders", 401, "key_expired", "globex", "192.0.2.2")) // not more than 100.
	}
	e.Observe(req("orders", 401, "key_revoked", "globex", "192.0.2.2"))
	e.Tick()
	got := rcv.wait(t, 1)[0]
	if got.Group != "consumer=acme" || got.Matched != 101 {
		t.Errorf("notification %+v", got)
	}
	// Keep it firing for more than the renotify interval: one repeat.
	for range 8 { // 72 minutes, past the 1h renotify interval.
		clk.Add(9 * time.Minute)
		for range 101 {
			e.Observe(req("orders", 401, "key_expired", "acme", "192.0.2.1"))
		}
		e.Tick()
	}
	n := rcv.wait(t, 2)[1]
	if !n.Repeat || n.State != "firing" {
		t.Errorf("re-notification %+v", n)
	}
}

func TestNewRangeRule(t *testing.T) {
	t.Parallel()
	e, clk, rcv, _ := setup(t, `
  - {id: waf-new, kind: new_range, match: {code: waf_blocked}, window: 10m}
`)
	e.Observe(req("orders", 403, "waf_blocked", "", "203.0.113.7"))
	e.Observe(req("orders", 403, "waf_blocked", "", "203.0.113.99")) // same /24.
	e.Observe(req("orders", 200, "", "", "198.51.100.1"))            // not a match.
	e.Tick()
	got := rcv.wait(t, 1)[0]
	if got.Group != "203.0.113.0/24" || got.Matched != 2 {
		t.Errorf("notification %+v", got)
	}
	clk.Add(11 * time.Minute)
	e.Tick() // resolves.
	rcv.wait(t, 2)
	e.Observe(req("orders", 403, "waf_blocked", "", "203.0.113.8")) // known range: quiet.
	e.Tick()
	e.Observe(req("orders", 403, "waf_blocked", "", "192.0.2.200")) // a new range.
	e.Tick()
	last := rcv.wait(t, 3)[2]
	if last.Group != "192.0.2.0/24" || last.State != "firing" {
		t.Errorf("second range %+v", last)
	}
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	e, _, rcv, d := setup(t, `
  - {id: any-413, kind: count, match: {status: "413"}, threshold: 0, window: 1m}
`)
	rcv.failures.Store(2)
	e.Observe(req("orders", 413, "body_too_large", "", "192.0.2.1"))
	e.Tick()
	rcv.wait(t, 1)
	if a := rcv.attempts.Load(); a != 3 {
		t.Errorf("%d attempts, want 3 (two 503s then success)", a)
	}
	if d.Delivered.Load() != 1 || d.Failed.Load() != 0 {
		t.Errorf("delivered %d failed %d", d.Delivered.Load(), d.Failed.Load())
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	body := []byte(`{"rule":"x"}`)
	h := Sign("k", now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") {
		t.Fatalf("header %q", h)
	}
	if err := Verify("k", h, body, time.Minute, now); err != nil {
		t.Errorf("valid signature refused: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
	}{
		"wrong secret": {"other", h, body, now},
		"changed body": {"k", h, []byte(`{"rule":"y"}`), now},
		"stale":        {"k", h, body, now.Add(10 * time.Minute)},
		"malformed":    {"k", "v1=abc", body, now},
	} {
		if err := Verify(c.secret, c.header, c.body, time.Minute, c.at); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"rules: [{id: a, kind: rate, threshold: 150%, window: 1m}]":                                    "threshold",
		"rules: [{id: a, kind: sum, window: 1m}]":                                                      "want rate, count or new_range",
		"rules: [{id: a, kind: count, threshold: 1}]":                                                  "window",
		"rules: [{id: a, kind: count, threshold: 1, window: 1m}]":                                      "needs a match",
		"rules: [{id: a, kind: count, threshold: 1, window: 1m, match: {status: abc}}]":                "status",
		"rules: [{id: a, kind: count, threshold: 1, window: 1m, match: {code: x}, group_by: consumr}]": "consumer",
		"rules: [{id: a, kind: count, threshold: 1, window: 1m, match: {code: x}, webhooks: [nope]}]":  "no webhook named",
		"webhooks: {ops: {url: ftp://x}}":                                                              "http:// or https://",
		"rules: [{id: a, kind: count, threshold: 1, window: 1m, match: {code: x}, colour: red}]":       "colour",
	}
	for y, want := range cases {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(y), &node); err != nil {
			t.Fatal(err)
		}
		_, err := Parse(node.Content[0])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", y, err, want)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	var node yaml.Node
	_ = yaml.Unmarshal([]byte(`rules:
  - {id: a, kind: rate, where: {route: checkout}, match: {status: "403"}, threshold: 5%, min_requests: 50, window: 5m}
  - {id: b, kind: count, match: {code: key_expired}, group_by: consumer, threshold: 100, window: 10m}
  - {id: c, kind: new_range, match: {code: waf_blocked}, window: 10m}`), &node)
	c, err := Parse(node.Content[0])
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(c, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	r := req("checkout", 403, "key_expired", "acme", "192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(r)
	}
}
