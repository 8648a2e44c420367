package calllog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

func init() {
	store.Register(store.Migration{Feature: "calllog", ID: 1, SQL: `
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY,
  ts BIGINT NOT NULL,
  method TEXT NOT NULL,
  host TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  client TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL,
  duration_us BIGINT NOT NULL,
  bytes_in BIGINT NOT NULL DEFAULT 0,
  bytes_out BIGINT NOT NULL DEFAULT 0,
  consumer TEXT NOT NULL DEFAULT '',
  key_id TEXT NOT NULL DEFAULT '',
  tenant TEXT NOT NULL DEFAULT '',
  upstream TEXT NOT NULL DEFAULT '',
  upstream_status INTEGER NOT NULL DEFAULT 0,
  denied_by TEXT NOT NULL DEFAULT '',
  layer TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL DEFAULT '',
  rule TEXT NOT NULL DEFAULT '',
  shadow INTEGER NOT NULL DEFAULT 0,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
CREATE INDEX IF NOT EXISTS requests_code_ts ON requests (code, ts)`})
}

// Log reads and writes call-log records in a store.
type Log struct {
	st *store.Store
}

// New returns a call log over an open store.
func New(st *store.Store) *Log { return &Log{st: st} }

var _ trace.Sink = (*Log)(nil)

// ErrNotFound is returned when no record has the id.
var ErrNotFound = errors.New("no request with that id in the call log")

const insertSQL = `INSERT INTO requests (id, ts, method, host, path, query, route, client, status, duration_us, bytes_in, bytes_out, consumer, key_id, tenant, upstream, upstream_status, denied_by, layer, code, rule, shadow, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

// WriteBatch stores records in one transaction.
func (l *Log) WriteBatch(ctx context.Context, recs []*trace.Record) error {
	tx, err := l.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, l.st.Rebind(insertSQL))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		doc, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding record %s: %w", r.ID, err)
		}
		shadow := 0
		if r.ShadowHit {
			shadow = 1
		}
		if _, err := stmt.ExecContext(ctx, r.ID, r.Time.UnixMicro(), r.Method, r.Host, r.Path, r.Query, r.RouteID, r.Client, r.Status, r.Micros,
			r.BytesIn, r.BytesOut, r.Consumer, r.KeyID, r.Tenant, r.Upstream, r.UpStatus, r.DeniedBy, r.Layer, r.Code, r.Rule, shadow, string(doc)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Get returns the record with the given request id.
func (l *Log) Get(ctx context.Context, id string) (*trace.Record, error) {
	var doc string
	err := l.st.DB.QueryRowContext(ctx, l.st.Rebind(`SELECT doc FROM requests WHERE id = ?`), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var r trace.Record
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, fmt.Errorf("decoding record %s: %w", id, err)
	}
	return &r, nil
}

// Recent returns the newest records, newest first.
func (l *Log) Recent(ctx context.Context, limit int, since time.Time) ([]*trace.Record, error) {
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT doc FROM requests WHERE ts >= ? ORDER BY ts DESC, id DESC LIMIT ?`), since.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*trace.Record
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var r trace.Record
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}
