// Package store opens the gateway's database: an embedded SQLite file by
// default (pure Go, no cgo) or PostgreSQL for clusters. Feature packages
// (call log, identity, AI usage) keep their own tables and register their
// migrations here; queries are written once with ? placeholders and
// rebound for PostgreSQL.
package store
