package identity

import "pinpoint/internal/store"

// Times are stored as Unix microseconds (0 = none) so that both dialects
// compare and sort them the same way.
func init() {
	store.Register(store.Migration{Feature: "identity", ID: 1, SQL: `
CREATE TABLE IF NOT EXISTS identity_consumers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  roles TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'active',
  suspended_reason TEXT NOT NULL DEFAULT '',
  suspended_at BIGINT NOT NULL DEFAULT 0,
  password_hash TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_keys (
  id TEXT PRIMARY KEY,
  consumer_id TEXT NOT NULL REFERENCES identity_consumers(id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '[]',
  expires_at BIGINT NOT NULL DEFAULT 0,
  allowed_ips TEXT NOT NULL DEFAULT '[]',
  revoked_at BIGINT NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT '',
  revoked_reason TEXT NOT NULL DEFAULT '',
  replaced_by TEXT NOT NULL DEFAULT '',
  last_used_at BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_keys_consumer ON identity_keys (consumer_id);
CREATE TABLE IF NOT EXISTS identity_subscriptions (
  id TEXT PRIMARY KEY,
  consumer_id TEXT NOT NULL REFERENCES identity_consumers(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  applied_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL DEFAULT 0,
  decided_by TEXT NOT NULL DEFAULT '',
  UNIQUE (consumer_id, service)
);
CREATE TABLE IF NOT EXISTS identity_tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_roles (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_version (
  id INTEGER PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO identity_version (id, version) VALUES (1, 1)`})
}
