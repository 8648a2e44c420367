// Package usage prices AI calls and enforces spending budgets and
// request/token rate limits, and keeps a persisted record of every call.
//
// Counters live in memory and are authoritative on the hot path; every
// settled call is queued and written to the store asynchronously (one row
// per call in ai_usage, and an upsert of the budget window in ai_spend).
// At start the current day's and month's spend is loaded back, so budgets
// survive restarts. A Ledger outlives config reloads (it is shared through
// pipeline.Env), because a reload must not reset anyone's spend.
//
// Concurrency: a call reserves an estimate of its cost and tokens before it
// is sent, and the reservation is replaced by real usage when it ends. A
// call is admitted while spend plus reservations is below the limit, so
// concurrent calls cannot overshoot a budget by more than one call each.
package usage
