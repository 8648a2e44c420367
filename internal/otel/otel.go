package otel

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"pinpoint/internal/app"
	"pinpoint/internal/pipeline"
)

// shutdownTimeout bounds the final flush, so a dead collector cannot hold
// up the gateway's exit.
const shutdownTimeout = 5 * time.Second

func init() {
	pipeline.RegisterSection(Section)
	app.OnStart(start)
}

func start(ctx context.Context, a *app.App) error {
	node, ok := a.Config.Sections[Section]
	if !ok {
		return nil
	}
	cfg, err := ParseConfig(&node)
	if err != nil {
		return err
	}
	tp, err := NewProvider(ctx, cfg)
	if err != nil {
		return err
	}
	a.OnClose(func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			a.Logger.Warn("tracing: final span export failed", "err", err)
		}
	})
	s := NewSpans(tp)
	s.SetRoutes(a.Gateway.Config())
	a.Gateway.OnSwap(s.SetRoutes)
	a.Gateway.Observe(s.Observe)
	a.Logger.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", cfg.OTLPEndpoint, "sample_ratio", *cfg.SampleRatio)
	return nil
}

// NewProvider builds a TracerProvider exporting to cfg's collector in
// batches: spans queue in memory and a background goroutine sends them, so
// ending a span never waits on the network (a full queue drops spans).
func NewProvider(ctx context.Context, cfg Config) (*sdktrace.TracerProvider, error) {
	opts := []otlptracehttp.Option{}
	if strings.Contains(cfg.OTLPEndpoint, "://") {
		opts = append(opts, otlptracehttp.WithEndpointURL(cfg.OTLPEndpoint))
	} else {
		opts = append(opts, otlptracehttp.WithEndpoint(cfg.OTLPEndpoint))
		if cfg.Insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	ratio := 1.0
	if cfg.SampleRatio != nil {
		ratio = *cfg.SampleRatio
	}
	// Schemaless: the one attribute we set needs no semconv version, and
	// merging with a schema'd default resource fails on version skew.
	res := resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName))
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	), nil
}

// propagator reads the caller's W3C trace context.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}
