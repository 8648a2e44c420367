// Package trace records the decision trace of each request (every layer
// evaluated, in order, with outcome, code, duration and redacted evidence)
// and writes it to the store asynchronously through a bounded queue:
// logging never blocks or fails a request, and a loss is counted.
package trace
