package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/config"
	"pinpoint/internal/h1client"
)

// target is one upstream address with its health and load.
type target struct {
	url         *url.URL
	name        string // scheme://host, for the trace
	weight      int
	outstanding atomic.Int64
	// failures counts consecutive failures for passive health.
	failures atomic.Int32
	// ejectedUntil is a UnixNano deadline while passively ejected.
	ejectedUntil atomic.Int64
	// down is set by active health checks.
	down atomic.Bool
	// activeOK/activeBad count consecutive active check results.
	activeOK, activeBad int
}

func (t *target) healthy(now int64) bool {
	return !t.down.Load() && t.ejectedUntil.Load() <= now
}

// pool is an upstream: targets, a balancer, health and one transport.
type pool struct {
	name      string
	cfg       *config.Upstream
	targets   []*target
	transport *http.Transport
	// h1 carries plain-HTTP requests whose body is in memory; it hands
	// the rest (TLS, upgrades, streamed bodies) to transport.
	h1 *h1client.Client
	rr atomic.Uint64
	// wrr is the weighted round-robin schedule (target indexes).
	wrr    []int
	stop   chan struct{}
	wg     sync.WaitGroup
	logger *slog.Logger
}

func newPool(name string, cfg *config.Upstream, logger *slog.Logger) (*pool, error) {
	p := &pool{name: name, cfg: cfg, stop: make(chan struct{}), logger: logger}
	for i, tc := range cfg.Targets {
		u, err := url.Parse(tc.URL)
		if err != nil {
			return nil, fmt.Errorf("upstreams.%s.targets[%d]: %w", name, i, err)
		}
		w := tc.Weight
		if w == 0 {
			w = 1
		}
		p.targets = append(p.targets, &target{url: u, name: u.Scheme + "://" + u.Host, weight: w})
	}
	p.wrr = weightedSchedule(p.targets)
	connect := cfg.Timeouts.Connect
	if connect == 0 {
		connect = 5 * time.Second
	}
	header := cfg.Timeouts.ResponseHeader
	if header == 0 {
		header = 60 * time.Second
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	p.transport = &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: header,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		// The gateway passes Accept-Encoding through and must not decode
		// the upstream's compressed body.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
		TLSClientConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	p.h1 = &h1client.Client{
		Dial:                  dialer.DialContext,
		ResponseHeaderTimeout: header,
		IdleTimeout:           p.transport.IdleConnTimeout,
		MaxIdlePerHost:        p.transport.MaxIdleConnsPerHost,
		Fallback:              p.transport,
	}
	p.wg.Add(1)
	go p.pruneIdle()
	if cfg.HealthCheck != nil {
		p.wg.Add(1)
		go p.activeChecks()
	}
	return p, nil
}

// pruneIdle closes idle upstream connections past their idle timeout
// until the pool closes.
func (p *pool) pruneIdle() {
	defer p.wg.Done()
	tick := time.NewTicker(p.h1.IdleTimeout / 3)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.h1.PruneIdle()
		}
	}
}

// weightedSchedule spreads each target over a cycle in proportion to its
// weight (smooth weighted round robin, precomputed).
func weightedSchedule(ts []*target) []int {
	total := 0
	for _, t := range ts {
		total += t.weight
	}
	if total > 10000 {
		total = 10000
	}
	cur := make([]int, len(ts))
	sched := make([]int, 0, total)
	sum := 0
	for _, t := range ts {
		sum += t.weight
	}
	for n := 0; n < total; n++ {
		best := 0
		for i, t := range ts {
			cur[i] += t.weight
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= sum
		sched = append(sched, best)
	}
	return sched
}

// pick chooses a healthy target, skipping those in tried. It returns nil
// when every target is unhealthy or tried.
func (p *pool) pick(tried map[*target]bool) *target {
	now := time.Now().UnixNano()
	n := len(p.targets)
	if n == 1 {
		t := p.targets[0]
		if tried[t] || !t.healthy(now) {
			return nil
		}
		return t
	}
	switch p.cfg.Balance {
	case "least_outstanding":
		var best *target
		for _, t := range p.targets {
			if tried[t] || !t.healthy(now) {
				continue
			}
			if best == nil || t.outstanding.Load() < best.outstanding.Load() {
				best = t
			}
		}
		return best
	case "weighted":
		start := p.rr.Add(1)
		for i := 0; i < len(p.wrr); i++ {
			t := p.targets[p.wrr[(start+uint64(i))%uint64(len(p.wrr))]]
			if !tried[t] && t.healthy(now) {
				return t
			}
		}
		return nil
	default:
		start := p.rr.Add(1)
		for i := 0; i < n; i++ {
			t := p.targets[(start+uint64(i))%uint64(n)]
			if !tried[t] && t.healthy(now) {
				return t
			}
		}
		return nil
	}
}

// report feeds passive health: consecutive failures eject a target for a
// while; a success resets the count.
func (p *pool) report(t *target, ok bool) {
	if ok {
		t.failures.Store(0)
		return
	}
	limit := p.cfg.PassiveHealth.Failures
	if limit <= 0 {
		limit = 5
	}
	if int(t.failures.Add(1)) >= limit {
		eject := p.cfg.PassiveHealth.Eject
		if eject <= 0 {
			eject = 10 * time.Second
		}
		t.ejectedUntil.Store(time.Now().Add(eject).UnixNano())
		t.failures.Store(0)
		p.logger.Warn("upstream target ejected", "upstream", p.name, "target", t.name, "for", eject)
	}
}

func (p *pool) activeChecks() {
	defer p.wg.Done()
	hc := p.cfg.HealthCheck
	interval := hc.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	healthyN, unhealthyN := max(hc.Healthy, 1), max(hc.Unhealthy, 1)
	client := &http.Client{Transport: p.transport, Timeout: timeout}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	check := func() {
		for _, t := range p.targets {
			u := *t.url
			u.Path = hc.Path
			ok := false
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if resp, err := client.Do(req); err == nil {
				ok = resp.StatusCode < 500
				resp.Body.Close()
			}
			cancel()
			if ok {
				t.activeBad, t.activeOK = 0, t.activeOK+1
				if t.down.Load() && t.activeOK >= healthyN {
					t.down.Store(false)
					p.logger.Info("upstream target healthy again", "upstream", p.name, "target", t.name)
				}
			} else {
				t.activeOK, t.activeBad = 0, t.activeBad+1
				if !t.down.Load() && t.activeBad >= unhealthyN {
					t.down.Store(true)
					p.logger.Warn("upstream target failed health checks", "upstream", p.name, "target", t.name)
				}
			}
		}
	}
	check()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			check()
		}
	}
}

func (p *pool) close() {
	close(p.stop)
	p.wg.Wait()
	p.h1.Close()
	p.transport.CloseIdleConnections()
}

// health describes each target, for the admin API and metrics.
func (p *pool) health() []map[string]any {
	now := time.Now().UnixNano()
	var out []map[string]any
	for _, t := range p.targets {
		out = append(out, map[string]any{"target": t.name, "healthy": t.healthy(now), "outstanding": t.outstanding.Load()})
	}
	return out
}
