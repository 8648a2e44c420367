package otel_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"pinpoint/internal/app"
	"pinpoint/internal/config"
	_ "pinpoint/internal/layers"
	"pinpoint/internal/otel"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// collector is a fake OTLP/HTTP endpoint keeping every span it receives.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	svc   []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			t.Errorf("collector got %s %s, want POST /v1/traces", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: bad protobuf body: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					c.svc = append(c.svc, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			m[kv.Key] = fmt.Sprint(v.BoolValue)
		}
	}
	return m
}

// A denied request becomes a span in the caller's trace that names the
// denying layer and code, flushed when the app stops.
func TestDeniedRequestIsExportedInCallersTrace(t *testing.T) {
	col := newCollector(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a denied request reached the upstream")
	}))
	defer up.Close()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
listeners: [{addr: "127.0.0.1:0"}]
admin: {addr: "off"}
store: {dsn: %q}
upstreams:
  app: {targets: [{url: %q}]}
routes:
  - id: orders
    path: "/orders/*"
    upstream: app
    request: {content_types: [application/json]}
tracing: {otlp_endpoint: %q, insecure: true, service_name: edge-test}
`, filepath.Join(dir, "p.db"), up.URL, strings.TrimPrefix(col.srv.URL, "http://"))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Start(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, "") }()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const parentID = "00f067aa0ba902b7"
	req, _ := http.NewRequest("POST", "http://"+a.Server.Addrs()[0]+"/orders/42", strings.NewReader("<x/>"))
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("status %d, want 415", resp.StatusCode)
	}
	reqID := resp.Header.Get(verdict.HeaderRequestID)
	if reqID == "" {
		t.Fatalf("denial carries no %s header", verdict.HeaderRequestID)
	}

	cancel()
	select {
	case <-done: // Run closed the app, which flushed the provider.
	case <-time.After(8 * time.Second):
		t.Fatal("app did not stop")
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 1 {
		t.Fatalf("collector got %d spans, want 1", len(col.spans))
	}
	sp := col.spans[0]
	if got := hex.EncodeToString(sp.TraceId); got != traceID {
		t.Errorf("trace id %s, want the caller's %s", got, traceID)
	}
	if got := hex.EncodeToString(sp.ParentSpanId); got != parentID {
		t.Errorf("parent span id %s, want the caller's %s", got, parentID)
	}
	if sp.Name != "POST /orders/*" {
		t.Errorf("span name %q", sp.Name)
	}
	if sp.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("span kind %v, want server", sp.Kind)
	}
	if sp.EndTimeUnixNano < sp.StartTimeUnixNano {
		t.Errorf("span ends (%d) before it starts (%d)", sp.EndTimeUnixNano, sp.StartTimeUnixNano)
	}
	if sp.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Error("a 4xx denial marked the span as an error")
	}
	got := attrs(sp.Attributes)
	want := map[string]string{
		"pinpoint.code":             "unsupported_media_type",
		"pinpoint.layer":            "request",
		"pinpoint.route":            "orders",
		"http.route":                "/orders/*",
		"http.request.method":       "POST",
		"url.path":                  "/orders/42",
		"http.response.status_code": "415",
		"pinpoint.request_id":       reqID,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	var sawDeny bool
	for _, ev := range sp.Events {
		a := attrs(ev.Attributes)
		if ev.Name == "request" && a["pinpoint.outcome"] == "deny" && a["pinpoint.code"] == "unsupported_media_type" {
			sawDeny = true
		}
	}
	if !sawDeny {
		t.Errorf("no step event for the request layer's denial: %v", sp.Events)
	}
	if len(col.svc) == 0 || col.svc[0] != "edge-test" {
		t.Errorf("service.name %v, want edge-test", col.svc)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, want string
	}{
		{"missing endpoint", `{insecure: true}`, "tracing.otlp_endpoint"},
		{"ratio above one", `{otlp_endpoint: "h:4318", sample_ratio: 1.5}`, "between 0 and 1"},
		{"negative ratio", `{otlp_endpoint: "h:4318", sample_ratio: -0.1}`, "between 0 and 1"},
		{"unknown field", `{otlp_endpoint: "h:4318", endpoint: x}`, "endpoint"},
		{"path without scheme", `{otlp_endpoint: "h:4318/v1/traces"}`, "full URL"},
		{"bad scheme", `{otlp_endpoint: "grpc://h:4317"}`, "not an http(s) URL"},
		{"insecure https", `{otlp_endpoint: "https://h/v1/traces", insecure: true}`, "tracing.insecure"},
		{"header break", `{otlp_endpoint: "h:4318", headers: {x-key: "a\nb"}}`, "line break"},
		{"not a mapping", `[1]`, "mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			_, err := otel.ParseConfig(doc.Content[0])
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(`{otlp_endpoint: "127.0.0.1:4318", sample_ratio: 0}`), &doc); err != nil {
		t.Fatal(err)
	}
	c, err := otel.ParseConfig(doc.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.ServiceName != "pinpoint" {
		t.Errorf("service name %q, want pinpoint", c.ServiceName)
	}
	if c.SampleRatio == nil || *c.SampleRatio != 0 {
		t.Errorf("an explicit sample_ratio 0 must stay 0, got %v", c.SampleRatio)
	}
}

// Observe runs on every request's goroutine; it must stay cheap.
func BenchmarkObserve(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	s := otel.NewSpans(tp)
	s.SetRoutes(&config.Config{Routes: []*config.Route{{ID: "orders", Path: "/orders/*"}}})
	rec := &trace.Record{
		ID: "01J0000000000000000000000", Time: time.Now(), Method: "POST", Path: "/orders/42", RouteID: "orders",
		Status: 415, Micros: 120, DeniedBy: "gateway", Layer: "request", Code: "unsupported_media_type", Rule: "content_types",
		Headers: map[string]string{"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		Steps: []trace.Step{
			{Layer: "ip", Outcome: "allow", Nanos: 800},
			{Layer: "request", Outcome: "deny", Code: "unsupported_media_type", Nanos: 1500},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(rec)
	}
}
