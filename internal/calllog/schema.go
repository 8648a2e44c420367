package calllog

import "pinpoint/internal/store"

// Migration 2 adds what keeps analytics fast at any age and the log
// bounded: rollups in three resolutions (written with every batch, kept
// longer than raw rows), a per-client rollup of denials, and one row per
// shadow denial for the shadow report.
//
// The rollup dimensions are chosen for bounded cardinality: route, status,
// layer, code and consumer are all bounded by configuration; client
// addresses are not, so they get their own table and only requests the
// gateway or upstream refused (status >= 400) are counted there.
func init() {
	store.Register(store.Migration{Feature: "calllog", ID: 2, SQL: `
CREATE TABLE IF NOT EXISTS rollup (
  res TEXT NOT NULL,
  bucket BIGINT NOT NULL,
  route TEXT NOT NULL,
  status INTEGER NOT NULL,
  layer TEXT NOT NULL,
  code TEXT NOT NULL,
  consumer TEXT NOT NULL,
  n BIGINT NOT NULL,
  shadow BIGINT NOT NULL,
  sum_us BIGINT NOT NULL,
  max_us BIGINT NOT NULL,
  bytes_in BIGINT NOT NULL,
  bytes_out BIGINT NOT NULL,
  PRIMARY KEY (res, bucket, route, status, layer, code, consumer)
);
CREATE TABLE IF NOT EXISTS rollup_client (
  res TEXT NOT NULL,
  bucket BIGINT NOT NULL,
  client TEXT NOT NULL,
  code TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (res, bucket, client, code)
);
CREATE TABLE IF NOT EXISTS shadow_hits (
  id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  route TEXT NOT NULL,
  consumer TEXT NOT NULL,
  client TEXT NOT NULL,
  layer TEXT NOT NULL,
  code TEXT NOT NULL,
  rule TEXT NOT NULL,
  PRIMARY KEY (id, layer, code)
);
CREATE INDEX IF NOT EXISTS shadow_hits_ts ON shadow_hits (ts);
CREATE INDEX IF NOT EXISTS requests_route_ts ON requests (route, ts);
CREATE INDEX IF NOT EXISTS requests_consumer_ts ON requests (consumer, ts)`})
}

// Migration 3 makes the code and consumer indexes partial. Most traffic
// is allowed (no code) and much of it anonymous (no consumer), and those
// rows are never looked up by code or consumer, so they need no entry:
// each allowed anonymous request now pays for two index insertions fewer
// in the call log, the largest share of its trace cost. Queries that
// filter by code or consumer repeat the index's condition so both SQLite
// and PostgreSQL can use the partial index (see search.go).
func init() {
	store.Register(store.Migration{Feature: "calllog", ID: 3, SQL: `
DROP INDEX IF EXISTS requests_code_ts;
DROP INDEX IF EXISTS requests_consumer_ts;
CREATE INDEX IF NOT EXISTS requests_denied_code_ts ON requests (code, ts) WHERE code <> '';
CREATE INDEX IF NOT EXISTS requests_known_consumer_ts ON requests (consumer, ts) WHERE consumer <> ''`})
}
