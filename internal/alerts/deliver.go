package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>" over
// "<t>.<body>", so a receiver can check both origin and freshness.
const SignatureHeader = "Pinpoint-Signature"

// Sign returns the signature header value for body at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body: the MAC (in constant
// time) and that t is within tolerance of now. Receivers use it.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("signature header malformed: want t=<unix>,v1=<hex>")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp is %s away from now (tolerance %s)", d.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(mac(secret, ts, body)), []byte(v1)) {
		return errors.New("signature does not match")
	}
	return nil
}

// queueSize bounds the notifications waiting per webhook.
const queueSize = 256

// Deliverer posts notifications to webhooks, one worker per webhook so a
// slow receiver delays only its own deliveries.
type Deliverer struct {
	mu        sync.RWMutex // guards hooks and names; Send holds it shared
	hooks     map[string]*worker
	names     []string
	client    *http.Client
	ctx       context.Context
	logger    *slog.Logger
	now       func() time.Time
	Delivered atomic.Uint64
	Failed    atomic.Uint64
	Dropped   atomic.Uint64
	wg        sync.WaitGroup
	cancel    context.CancelFunc
}

type worker struct {
	name string
	cfg  *Webhook
	q    chan []byte
}

// NewDeliverer starts one worker per webhook; Close stops them.
func NewDeliverer(hooks map[string]*Webhook, client *http.Client, now func() time.Time, logger *slog.Logger) *Deliverer {
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Deliverer{hooks: map[string]*worker{}, client: client, ctx: ctx, logger: logger, now: now, cancel: cancel}
	d.SetWebhooks(hooks)
	return d
}

// SetWebhooks installs the webhooks of a reloaded config. An unchanged
// webhook keeps its worker and queue; a removed or changed one stops
// taking notifications, and its worker finishes what is already queued
// (with the settings it was queued under) before it exits, so a reload
// loses no notification. The counters carry across.
func (d *Deliverer) SetWebhooks(hooks map[string]*Webhook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, w := range d.hooks {
		if cfg, ok := hooks[name]; ok && reflect.DeepEqual(*cfg, *w.cfg) {
			continue
		}
		delete(d.hooks, name)
		close(w.q) // under the write lock: no Send is sending now
	}
	for name, cfg := range hooks {
		if d.hooks[name] != nil {
			continue
		}
		w := &worker{name: name, cfg: cfg, q: make(chan []byte, queueSize)}
		d.hooks[name] = w
		d.wg.Add(1)
		go d.run(d.ctx, w, d.client)
	}
	d.names = d.names[:0]
	for name := range d.hooks {
		d.names = append(d.names, name)
	}
	sort.Strings(d.names)
}

// Send queues n for its rule's webhooks (all of them when the rule names
// none). It never blocks: a full queue drops the notification, counted
// and logged.
func (d *Deliverer) Send(n Notification) {
	body, err := json.Marshal(n)
	if err != nil {
		d.logger.Error("alert notification not encodable", "rule", n.Rule, "err", err)
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	names := n.webhooks
	if len(names) == 0 {
		names = d.names
	}
	for _, name := range names {
		w := d.hooks[name]
		if w == nil {
			continue
		}
		select {
		case w.q <- body:
		default:
			d.Dropped.Add(1)
			d.logger.Error("alert webhook queue full: notification dropped", "webhook", name, "rule", n.Rule)
		}
	}
}

// Close stops the workers; notifications still queued are abandoned.
func (d *Deliverer) Close() {
	d.cancel()
	d.wg.Wait()
}

func (d *Deliverer) run(ctx context.Context, w *worker, client *http.Client) {
	defer d.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case body, ok := <-w.q:
			if !ok {
				return // the webhook was removed or changed by a reload
			}
			if err := d.deliver(ctx, w, client, body); err != nil {
				d.Failed.Add(1)
				d.logger.Error("alert webhook delivery failed", "webhook", w.name, "err", err)
			} else {
				d.Delivered.Add(1)
			}
		}
	}
}

// deliver posts body, retrying connection errors, 429 and 5xx with
// doubling backoff; another 4xx is the receiver refusing, not retried.
func (d *Deliverer) deliver(ctx context.Context, w *worker, client *http.Client, body []byte) error {
	backoff := w.cfg.Backoff
	var last error
	for attempt := 0; attempt <= *w.cfg.Retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			backoff = min(backoff*2, time.Minute)
		}
		retry, err := d.post(ctx, w, client, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

func (d *Deliverer) post(ctx context.Context, w *worker, client *http.Client, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pinpoint-alerts")
	if w.cfg.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(w.cfg.Secret, d.now(), body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("receiver answered %d", resp.StatusCode)
	default:
		return false, fmt.Errorf("receiver refused the notification with %d", resp.StatusCode)
	}
}
