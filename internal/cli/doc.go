// Package cli is the pinpoint command line: serve, demo, explain, config,
// probe and the admin API's clients (consumers, keys, logs, stats, …).
// Each command lives in its own file and registers itself with register.
package cli
