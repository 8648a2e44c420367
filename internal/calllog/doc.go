// Package calllog keeps the call log: every request's record and decision
// trace in the store, written in batches by trace.Writer, and read back by
// `pinpoint explain`, `pinpoint logs` and the admin API.
//
// Records are stored in compressed blocks, one per batch (blocks.go): a
// request costs the encoding of its record, not a row with its indexes.
// Records whose id carries no time (ids honoured from trusted clients)
// keep a row each in the requests table. Analytics read the rollups
// written with every batch (rollup.go), the shadow report its own table.
package calllog
