// Package identity is the data model of who may call the gateway:
// consumers, their API keys, tenants, roles and subscriptions. It owns the
// store tables, the admin API module that manages them, and Live, the
// in-memory snapshot the authn, consumer and authz layers read on every
// request.
//
// Changes flow store → snapshot: every admin write bumps a version counter
// (identity_version) in the same transaction and refreshes the local
// snapshot at once; every gateway node polls the counter every 500 ms, so a
// node pointed at a shared PostgreSQL sees another node's change within a
// second, without a restart.
//
// Consumers may also be declared in the config file's top-level
// `consumers:` section (hashes only). Those are merged into the snapshot
// view, never written to the store: the file stays the source of truth for
// them, the admin API cannot change them, and removing one from the file
// removes it on the next reload. Where an id exists in both, the config
// entry wins.
package identity
