package calllog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/store"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
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

	// bufMu guards bufs, the block encoder's scratch buffers.
	bufMu sync.Mutex
	bufs  blockBufs

	// pruning state; see retention.go.
	mu        sync.Mutex
	ret       Retention
	now       func() time.Time
	lastAge   time.Time
	lastSize  time.Time
	sizeEvery time.Duration
	pruned    atomic.Uint64
}

// New returns a call log over an open store.
func New(st *store.Store) *Log { return &Log{st: st, now: time.Now, sizeEvery: time.Second} }

// Store is the store the log lives in.
func (l *Log) Store() *store.Store { return l.st }

var _ trace.Sink = (*Log)(nil)

// ErrNotFound is returned when no record has the id.
var ErrNotFound = errors.New("no request with that id in the call log")

const insertHead = `INSERT INTO requests (id, ts, method, host, path, query, route, client, status, duration_us, bytes_in, bytes_out, consumer, key_id, tenant, upstream, upstream_status, denied_by, layer, code, rule, shadow, doc) VALUES `

// insertCols is the number of values per row in insertHead.
const insertCols = 23

// rowsPerInsert is how many records one INSERT statement carries. One
// statement per chunk instead of one per row divides the driver's fixed
// cost per statement (bind, step, reset, and the goroutine the SQLite
// driver starts to watch the context) by the chunk size. 64 rows × 23
// values stays far below SQLite's (32766) and PostgreSQL's (65535)
// parameter limits.
const rowsPerInsert = 64

// insertSQL is the multi-row INSERT for n records.
func insertSQL(n int) string {
	var b strings.Builder
	b.Grow(len(insertHead) + n*(insertCols*2+4) + 32)
	b.WriteString(insertHead)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?")
		b.WriteString(strings.Repeat(",?", insertCols-1))
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String()
}

// WriteBatch stores records in one transaction, then applies retention.
func (l *Log) WriteBatch(ctx context.Context, recs []*trace.Record) error {
	if err := l.writeBatch(ctx, recs); err != nil {
		return err
	}
	l.maybePrune(ctx)
	return nil
}

func (l *Log) writeBatch(ctx context.Context, recs []*trace.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := l.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	all := recs
	if recs, err = l.writeBlocks(ctx, tx, recs); err != nil {
		return err
	}
	// Records whose ids carry no time get rows. Full chunks share one prepared statement; the last, shorter chunk
	// has its own.
	var full *sql.Stmt
	args := make([]any, 0, min(len(recs), rowsPerInsert)*insertCols)
	doc := make([]byte, 0, 2048)
	for start := 0; start < len(recs); start += rowsPerInsert {
		chunk := recs[start:min(start+rowsPerInsert, len(recs))]
		args = args[:0]
		for _, r := range chunk {
			if doc, err = appendDoc(doc[:0], r); err != nil {
				return fmt.Errorf("encoding record %s: %w", r.ID, err)
			}
			shadow := 0
			if r.ShadowHit {
				shadow = 1
			}
			args = append(args, r.ID, r.Time.UnixMicro(), r.Method, r.Host, r.Path, r.Query, r.RouteID, r.Client, r.Status, r.Micros,
				r.BytesIn, r.BytesOut, r.Consumer, r.KeyID, r.Tenant, r.Upstream, r.UpStatus, r.DeniedBy, r.Layer, r.Code, r.Rule, shadow, string(doc))
		}
		if len(chunk) < rowsPerInsert {
			if _, err := tx.ExecContext(ctx, l.st.Rebind(insertSQL(len(chunk))), args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			if full, err = tx.PrepareContext(ctx, l.st.Rebind(insertSQL(rowsPerInsert))); err != nil {
				return err
			}
			defer full.Close()
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	if err := l.writeShadowHits(ctx, tx, all); err != nil {
		return err
	}
	if err := l.writeRollups(ctx, tx, all); err != nil {
		return err
	}
	return tx.Commit()
}

// appendDoc appends r as the JSON document stored in the doc column. It is
// the encoding encoding/json gives trace.Record (same keys, same omitempty
// rules, same escaping), written by hand because it runs once per request
// and reflection made it a tenth of a proxied request's CPU.
func appendDoc(b []byte, r *trace.Record) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = verdict.AppendString(b, r.ID)
	b = append(b, `,"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","method":`...)
	b = verdict.AppendString(b, r.Method)
	b = append(b, `,"host":`...)
	b = verdict.AppendString(b, r.Host)
	b = append(b, `,"path":`...)
	b = verdict.AppendString(b, r.Path)
	b = appendOptString(b, `,"query":`, r.Query)
	b = appendOptString(b, `,"route":`, r.RouteID)
	b = append(b, `,"client":`...)
	b = verdict.AppendString(b, r.Client)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"duration_us":`...)
	b = strconv.AppendInt(b, r.Micros, 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendInt(b, r.BytesIn, 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendInt(b, r.BytesOut, 10)
	b = appendOptString(b, `,"consumer":`, r.Consumer)
	b = appendOptString(b, `,"key_id":`, r.KeyID)
	b = appendOptString(b, `,"tenant":`, r.Tenant)
	b = appendOptString(b, `,"upstream":`, r.Upstream)
	if r.UpStatus != 0 {
		b = append(b, `,"upstream_status":`...)
		b = strconv.AppendInt(b, int64(r.UpStatus), 10)
	}
	b = appendOptString(b, `,"denied_by":`, r.DeniedBy)
	b = appendOptString(b, `,"layer":`, r.Layer)
	b = appendOptString(b, `,"code":`, r.Code)
	b = appendOptString(b, `,"rule":`, r.Rule)
	b = appendOptString(b, `,"detail":`, r.Detail)
	b = appendOptString(b, `,"hint":`, r.Hint)
	if r.DryRun {
		b = append(b, `,"dry_run":true`...)
	}
	b = append(b, `,"steps":`...)
	if r.Steps == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Steps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStep(b, &r.Steps[i])
		}
		b = append(b, ']')
	}
	if len(r.Headers) > 0 {
		b = append(b, `,"headers":{`...)
		first := true
		for k, v := range r.Headers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = verdict.AppendString(b, k)
			b = append(b, ':')
			b = verdict.AppendString(b, v)
		}
		b = append(b, '}')
	}
	if len(r.Extra) > 0 {
		// Extra holds arbitrary values (AI usage, costs) and is rare:
		// encoding/json keeps its exact encoding.
		extra, err := json.Marshal(r.Extra)
		if err != nil {
			return b, err
		}
		b = append(b, `,"extra":`...)
		b = append(b, extra...)
	}
	if r.ShadowHit {
		b = append(b, `,"shadow":true`...)
	}
	return append(b, '}'), nil
}

func appendStep(b []byte, s *trace.Step) []byte {
	b = append(b, `{"layer":`...)
	b = verdict.AppendString(b, s.Layer)
	b = append(b, `,"outcome":`...)
	b = verdict.AppendString(b, s.Outcome)
	b = appendOptString(b, `,"code":`, s.Code)
	b = appendOptString(b, `,"rule":`, s.Rule)
	b = appendOptString(b, `,"detail":`, s.Detail)
	b = appendOptString(b, `,"hint":`, s.Hint)
	if s.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(s.Status), 10)
	}
	b = appendOptString(b, `,"mode":`, s.Mode)
	b = append(b, `,"ns":`...)
	b = strconv.AppendInt(b, s.Nanos, 10)
	if len(s.Evidence) > 0 {
		b = append(b, `,"evidence":[`...)
		for i, f := range s.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = verdict.AppendString(b, f.Key)
			b = append(b, `,"value":`...)
			b = verdict.AppendString(b, f.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendOptString appends key and s unless s is empty (omitempty).
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return verdict.AppendString(b, s)
}

// Get returns the record with the given request id.
func (l *Log) Get(ctx context.Context, id string) (*trace.Record, error) {
	var doc []byte
	err := l.st.DB.QueryRowContext(ctx, l.st.Rebind(`SELECT doc FROM requests WHERE id = ?`), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return l.getFromBlocks(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	var r trace.Record
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, fmt.Errorf("decoding record %s: %w", id, err)
	}
	return &r, nil
}

// Recent returns the newest records, newest first.
func (l *Log) Recent(ctx context.Context, limit int, since time.Time) ([]*trace.Record, error) {
	return l.search(ctx, Filter{Since: since}, limit)
}
