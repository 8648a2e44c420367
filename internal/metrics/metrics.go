package metrics

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pinpoint/internal/app"
	"pinpoint/internal/trace"
)

func init() { app.OnStart(start) }

func start(_ context.Context, a *app.App) error {
	if a.Admin == nil {
		return nil // no listener to serve them on.
	}
	m := New(a)
	a.Gateway.Observe(m.Observe)
	a.Admin.HandlePublic("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorLog: nil}))
	a.Admin.Extra["metrics"] = m
	return nil
}

// Metrics holds one app's collectors.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	denials  *prometheus.CounterVec
	shadow   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// Source is what the metrics read from a running app besides the
// request stream.
type Source interface {
	UpstreamHealth() map[string][]map[string]any
}

// New builds the collectors for a (nil a gives just the request metrics,
// for tests and benchmarks).
func New(a *app.App) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinpoint_requests_total", Help: "Requests handled, by route and status.",
	}, []string{"route", "status"})
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinpoint_denials_total", Help: "Requests the gateway denied, by layer and code.",
	}, []string{"layer", "code"})
	m.shadow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinpoint_shadow_denials_total", Help: "Denials a shadow-mode policy would have made, by route, layer and code.",
	}, []string{"route", "layer", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pinpoint_request_duration_seconds", Help: "Time from request start to the end of the answer, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route"})
	m.Registry.MustRegister(m.requests, m.denials, m.shadow, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a != nil {
		m.Registry.MustRegister(writerCollector{a.Writer}, upstreamCollector{a.Gateway})
	}
	return m
}

// Observe counts one finished request; it runs on the request's goroutine
// and only touches in-memory counters.
func (m *Metrics) Observe(r *trace.Record) {
	route := r.RouteID
	if route == "" {
		route = "(none)"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(r.Status)).Inc()
	if r.Code != "" {
		m.denials.WithLabelValues(r.Layer, r.Code).Inc()
	}
	if r.ShadowHit {
		for _, s := range r.Steps {
			if s.Outcome == "shadow_deny" {
				m.shadow.WithLabelValues(route, s.Layer, s.Code).Inc()
			}
		}
	}
	m.latency.WithLabelValues(route).Observe(float64(r.Micros) / 1e6)
}

// writerCollector reads the call-log writer's counters at scrape time.
type writerCollector struct{ w *trace.Writer }

var (
	descWritten = prometheus.NewDesc("pinpoint_calllog_written_total", "Call-log records written to the store.", nil, nil)
	descDropped = prometheus.NewDesc("pinpoint_calllog_dropped_total", "Call-log records lost because the queue was full.", nil, nil)
	descFailed  = prometheus.NewDesc("pinpoint_calllog_failed_total", "Call-log records lost because the store refused the write.", nil, nil)
	descQueue   = prometheus.NewDesc("pinpoint_calllog_queue_length", "Call-log records waiting to be written.", nil, nil)
	descUp      = prometheus.NewDesc("pinpoint_upstream_target_healthy", "1 when the upstream target is considered healthy.", []string{"upstream", "target"}, nil)
	descOut     = prometheus.NewDesc("pinpoint_upstream_target_outstanding", "Requests in flight to the upstream target.", []string{"upstream", "target"}, nil)
)

func (c writerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWritten
	ch <- descDropped
	ch <- descFailed
	ch <- descQueue
}

func (c writerCollector) Collect(ch chan<- prometheus.Metric) {
	if c.w == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descWritten, prometheus.CounterValue, float64(c.w.Written()))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(c.w.Dropped()))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(c.w.Failed()))
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(c.w.QueueLen()))
}

// upstreamCollector reads upstream health at scrape time.
type upstreamCollector struct{ src Source }

func (c upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUp
	ch <- descOut
}

func (c upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src == nil {
		return
	}
	for name, targets := range c.src.UpstreamHealth() {
		for _, t := range targets {
			target, _ := t["target"].(string)
			up := 0.0
			if h, _ := t["healthy"].(bool); h {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, name, target)
			if n, ok := t["outstanding"].(int64); ok {
				ch <- prometheus.MustNewConstMetric(descOut, prometheus.GaugeValue, float64(n), name, target)
			}
		}
	}
}
