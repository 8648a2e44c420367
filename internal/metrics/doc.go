// Package metrics serves Prometheus metrics on the admin listener at
// /metrics (public, no token): requests by route and status, denials by
// layer and code, shadow denials, latency histograms, upstream health and
// the call log's queue, writes, failures and drops. Each app has its own
// registry, so two gateways in one process (tests) never share counters.
package metrics
