// Package calllog keeps the call log: every request's record and decision
// trace in the store, written in batches by trace.Writer, and read back by
// `pinpoint explain`, `pinpoint logs` and the admin API.
package calllog
