// Package gateway is the request path: listeners, the router, the pipeline
// runner, the upstream proxy and atomic reload. The order of a request's
// life is in runner.go (serveHTTP): id, client address, route, layers in
// pipeline.Order, then proxy or handler, then the trace.
package gateway
