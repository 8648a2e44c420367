package otel

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"pinpoint/internal/config"
	"pinpoint/internal/trace"
)

// Spans turns finished request records into spans.
type Spans struct {
	tracer oteltrace.Tracer
	// routes maps a route id to its path pattern (http.route), swapped
	// whole on reload so Observe reads it without a lock.
	routes atomic.Pointer[map[string]string]
}

// NewSpans creates spans with tp's tracer.
func NewSpans(tp oteltrace.TracerProvider) *Spans {
	return &Spans{tracer: tp.Tracer("pinpoint/internal/otel")}
}

// SetRoutes records the route patterns of cfg.
func (s *Spans) SetRoutes(cfg *config.Config) {
	m := make(map[string]string, len(cfg.Routes))
	for _, r := range cfg.Routes {
		m[r.ID] = r.Path
	}
	s.routes.Store(&m)
}

// Observe records one span for rec, after the fact: its start and end are
// the request's, its parent is the caller's traceparent (if any). It runs
// on the request's goroutine; ending the span only queues it.
func (s *Spans) Observe(rec *trace.Record) {
	ctx := context.Background()
	if tp := rec.Headers["Traceparent"]; tp != "" {
		carrier := propagation.MapCarrier{"traceparent": tp}
		if ts := rec.Headers["Tracestate"]; ts != "" {
			carrier["tracestate"] = ts
		}
		ctx = propagator.Extract(ctx, carrier)
	}
	pattern := ""
	if m := s.routes.Load(); m != nil && rec.RouteID != "" {
		pattern = (*m)[rec.RouteID]
	}
	// Span names must be low-cardinality: the route pattern, or the
	// method alone for unmatched paths (scanners would otherwise mint a
	// name per probe); url.path still carries the path.
	name := rec.Method
	if pattern != "" {
		name += " " + pattern
	}
	attrs := make([]attribute.KeyValue, 0, 14)
	attrs = append(attrs,
		attribute.String("http.request.method", rec.Method),
		attribute.String("url.path", rec.Path),
		attribute.Int("http.response.status_code", rec.Status),
		attribute.String("pinpoint.request_id", rec.ID),
	)
	if pattern != "" {
		attrs = append(attrs, attribute.String("http.route", pattern))
	}
	attrs = appendString(attrs, "pinpoint.route", rec.RouteID)
	attrs = appendString(attrs, "pinpoint.consumer", rec.Consumer)
	attrs = appendString(attrs, "pinpoint.denied_by", rec.DeniedBy)
	attrs = appendString(attrs, "pinpoint.layer", rec.Layer)
	attrs = appendString(attrs, "pinpoint.code", rec.Code)
	attrs = appendString(attrs, "pinpoint.rule", rec.Rule)
	if rec.UpStatus != 0 {
		attrs = append(attrs, attribute.Int("pinpoint.upstream_status", rec.UpStatus))
	}
	if rec.ShadowHit {
		attrs = append(attrs, attribute.Bool("pinpoint.shadow_deny", true))
	}
	_, span := s.tracer.Start(ctx, name,
		oteltrace.WithSpanKind(oteltrace.SpanKindServer),
		oteltrace.WithTimestamp(rec.Time),
		oteltrace.WithAttributes(attrs...))
	if !span.IsRecording() {
		span.End() // sampled out: skip building events nobody keeps.
		return
	}
	// Steps carry durations, not start times; layers run one after another,
	// so each event is stamped at the end of its step.
	at := rec.Time
	for _, st := range rec.Steps {
		at = at.Add(time.Duration(st.Nanos))
		ev := []attribute.KeyValue{
			attribute.String("pinpoint.layer", st.Layer),
			attribute.String("pinpoint.outcome", st.Outcome),
		}
		ev = appendString(ev, "pinpoint.code", st.Code)
		ev = appendString(ev, "pinpoint.mode", st.Mode)
		span.AddEvent(st.Layer, oteltrace.WithTimestamp(at), oteltrace.WithAttributes(ev...))
	}
	// Server spans are errors only for 5xx: a 4xx is the gateway doing
	// its job, and the code attribute already says which denial it was.
	if rec.Status >= 500 {
		desc := rec.Code
		if desc == "" {
			desc = http.StatusText(rec.Status)
		}
		span.SetStatus(codes.Error, desc)
	}
	span.End(oteltrace.WithTimestamp(rec.Time.Add(time.Duration(rec.Micros) * time.Microsecond)))
}

func appendString(attrs []attribute.KeyValue, key, v string) []attribute.KeyValue {
	if v == "" {
		return attrs
	}
	return append(attrs, attribute.String(key, v))
}
