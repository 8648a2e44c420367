// Package otel exports one OpenTelemetry span per request over OTLP/HTTP
// when the top-level tracing: section is set, so a gateway denial shows up
// in the same trace as the caller and its upstreams, with the denying
// layer and code as attributes.
//
//	tracing:
//	  otlp_endpoint: 127.0.0.1:4318   # host:port, or a URL such as https://otel.example.com/v1/traces
//	  insecure: true                  # plain HTTP for the host:port form
//	  service_name: pinpoint
//	  sample_ratio: 1.0               # for requests without a traceparent
//	  headers: {x-api-key: ${OTLP_KEY}}
//
// Propagation: the proxy copies request headers, so a W3C traceparent sent
// by the caller reaches the upstream unchanged and the upstream's spans
// join the caller's trace. The gateway span is built after the response,
// from the finished trace.Record (Gateway.Observe), which keeps tracing off
// the request's hot path and lets the span carry the full decision; the
// price is that the gateway span is a sibling of the upstream's span (both
// children of the caller's span), not its parent, because the span did not
// exist yet when the request was forwarded. Sampling is parent-based: a
// caller's sampled flag is honoured, and sample_ratio applies only to
// requests that start a new trace.
//
// Each app gets its own TracerProvider (never the global one), flushed and
// shut down when the app closes. The section is read at start; changing it
// takes a restart.
package otel
