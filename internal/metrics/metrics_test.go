package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pinpoint/internal/trace"
)

func TestObserveCounts(t *testing.T) {
	t.Parallel()
	m := New(nil)
	m.Observe(&trace.Record{RouteID: "orders", Status: 413, Layer: "request", Code: "body_too_large", Micros: 1200})
	m.Observe(&trace.Record{Status: 404, Layer: "route", Code: "no_route"})
	m.Observe(&trace.Record{RouteID: "users", Status: 200, ShadowHit: true, Steps: []trace.Step{{Layer: "ip", Outcome: "shadow_deny", Code: "ip_denied"}}})
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`pinpoint_denials_total{code="body_too_large",layer="request"} 1`,
		`pinpoint_denials_total{code="no_route",layer="route"} 1`,
		`pinpoint_requests_total{route="(none)",status="404"} 1`,
		`pinpoint_requests_total{route="orders",status="413"} 1`,
		`pinpoint_requests_total{route="users",status="200"} 1`,
		`pinpoint_shadow_denials_total{code="ip_denied",layer="ip",route="users"} 1`,
		`pinpoint_request_duration_seconds_bucket{route="orders",le="0.0025"} 1`,
		`pinpoint_request_duration_seconds_bucket{route="orders",le="0.001"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `pinpoint_denials_total{code=""`) {
		t.Error("an allowed request was counted as a denial")
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New(nil)
	r := &trace.Record{RouteID: "orders", Status: 413, Layer: "request", Code: "body_too_large", Micros: 1200}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(r)
	}
}
