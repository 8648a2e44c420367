package calllog

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"pinpoint/internal/trace"
)

// Resolution is one rollup tier.
type Resolution struct {
	// Name is the tier's key in the rollup table: "m", "h" or "d".
	Name string
	Step time.Duration
}

// The rollup tiers, finest first. Each batch is added to all three, so a
// query picks the coarsest tier that still answers it at the resolution it
// needs: a 30-day trend reads a few thousand day rows, not millions of
// request rows.
var (
	Minute = Resolution{"m", time.Minute}
	Hour   = Resolution{"h", time.Hour}
	Day    = Resolution{"d", 24 * time.Hour}
	tiers  = []Resolution{Minute, Hour, Day}
)

// Bucket is the start of t's bucket in unix seconds (UTC).
func (r Resolution) Bucket(t time.Time) int64 {
	s := int64(r.Step / time.Second)
	u := t.Unix()
	return u - ((u%s)+s)%s
}

type rollKey struct {
	res      string
	bucket   int64
	route    string
	status   int
	layer    string
	code     string
	consumer string
}

type rollVal struct {
	n, shadow, sumUS, maxUS, in, out int64
}

type clientKey struct {
	res    string
	bucket int64
	client string
	code   string
}

// aggregate folds a batch into rollup rows, so one batch of 512 records
// costs a few dozen upserts rather than 512 per tier. Records are folded
// into minute rows (and hour rows for clients), and the coarser tiers are
// folded from those: one map operation per record instead of one per
// tier, and none when a record has the same key as the one before it,
// the usual case under load.
func aggregate(recs []*trace.Record) (map[rollKey]*rollVal, map[clientKey]int64) {
	rows := make(map[rollKey]*rollVal, 64)
	clients := map[clientKey]int64{}
	var last *rollVal
	var lastKey rollKey
	for _, r := range recs {
		if r.DryRun {
			continue // a simulation is not traffic.
		}
		k := rollKey{Minute.Name, Minute.Bucket(r.Time), r.RouteID, r.Status, r.Layer, r.Code, r.Consumer}
		v := last
		if v == nil || k != lastKey {
			if v = rows[k]; v == nil {
				v = &rollVal{}
				rows[k] = v
			}
			last, lastKey = v, k
		}
		v.n++
		if r.ShadowHit {
			v.shadow++
		}
		v.sumUS += r.Micros
		v.maxUS = max(v.maxUS, r.Micros)
		v.in += r.BytesIn
		v.out += r.BytesOut
		if r.Status >= 400 && r.Client != "" {
			clients[clientKey{Hour.Name, Hour.Bucket(r.Time), r.Client, r.Code}]++
		}
	}
	minutes := make([]rollKey, 0, len(rows))
	for k := range rows {
		minutes = append(minutes, k)
	}
	for _, t := range tiers[1:] {
		for _, mk := range minutes {
			v := rows[mk]
			k := mk
			k.res, k.bucket = t.Name, t.Bucket(time.Unix(mk.bucket, 0))
			w := rows[k]
			if w == nil {
				w = &rollVal{}
				rows[k] = w
			}
			w.n += v.n
			w.shadow += v.shadow
			w.sumUS += v.sumUS
			w.maxUS = max(w.maxUS, v.maxUS)
			w.in += v.in
			w.out += v.out
		}
	}
	// Client counts are kept per hour and day only (see migration 2).
	for k, n := range clients {
		if k.res == Hour.Name {
			k.res, k.bucket = Day.Name, Day.Bucket(time.Unix(k.bucket, 0))
			clients[k] += n
		}
	}
	return rows, clients
}

const upsertRollup = `INSERT INTO rollup (res, bucket, route, status, layer, code, consumer, n, shadow, sum_us, max_us, bytes_in, bytes_out)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (res, bucket, route, status, layer, code, consumer) DO UPDATE SET
  n = rollup.n + excluded.n, shadow = rollup.shadow + excluded.shadow, sum_us = rollup.sum_us + excluded.sum_us,
  max_us = CASE WHEN excluded.max_us > rollup.max_us THEN excluded.max_us ELSE rollup.max_us END,
  bytes_in = rollup.bytes_in + excluded.bytes_in, bytes_out = rollup.bytes_out + excluded.bytes_out`

const upsertClient = `INSERT INTO rollup_client (res, bucket, client, code, n) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (res, bucket, client, code) DO UPDATE SET n = rollup_client.n + excluded.n`

// writeRollups upserts a batch's aggregates. Keys are applied in a fixed
// order so that two gateway nodes upserting the same rows into one
// PostgreSQL database cannot deadlock each other.
func (l *Log) writeRollups(ctx context.Context, tx *sql.Tx, recs []*trace.Record) error {
	rows, clients := aggregate(recs)
	keys := make([]rollKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollKey) int {
		return cmp.Or(cmp.Compare(a.res, b.res), cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.route, b.route),
			cmp.Compare(a.status, b.status), cmp.Compare(a.layer, b.layer), cmp.Compare(a.code, b.code), cmp.Compare(a.consumer, b.consumer))
	})
	stmt, err := tx.PrepareContext(ctx, l.st.Rebind(upsertRollup))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, k := range keys {
		v := rows[k]
		if _, err := stmt.ExecContext(ctx, k.res, k.bucket, k.route, k.status, k.layer, k.code, k.consumer, v.n, v.shadow, v.sumUS, v.maxUS, v.in, v.out); err != nil {
			return err
		}
	}
	if len(clients) == 0 {
		return nil
	}
	ckeys := make([]clientKey, 0, len(clients))
	for k := range clients {
		ckeys = append(ckeys, k)
	}
	slices.SortFunc(ckeys, func(a, b clientKey) int {
		return cmp.Or(cmp.Compare(a.res, b.res), cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.client, b.client), cmp.Compare(a.code, b.code))
	})
	cstmt, err := tx.PrepareContext(ctx, l.st.Rebind(upsertClient))
	if err != nil {
		return err
	}
	defer cstmt.Close()
	for _, k := range ckeys {
		if _, err := cstmt.ExecContext(ctx, k.res, k.bucket, k.client, k.code, clients[k]); err != nil {
			return err
		}
	}
	return nil
}

// writeShadowHits keeps one row per shadow denial, for the shadow report.
func (l *Log) writeShadowHits(ctx context.Context, tx *sql.Tx, recs []*trace.Record) error {
	var stmt *sql.Stmt
	for _, r := range recs {
		if !r.ShadowHit || r.DryRun {
			continue
		}
		for _, s := range r.Steps {
			if s.Outcome != "shadow_deny" {
				continue
			}
			if stmt == nil {
				var err error
				stmt, err = tx.PrepareContext(ctx, l.st.Rebind(`INSERT INTO shadow_hits (id, ts, route, consumer, client, layer, code, rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, layer, code) DO NOTHING`))
				if err != nil {
					return err
				}
				defer stmt.Close()
			}
			if _, err := stmt.ExecContext(ctx, r.ID, r.Time.UnixMicro(), r.RouteID, r.Consumer, r.Client, s.Layer, s.Code, s.Rule); err != nil {
				return err
			}
		}
	}
	return nil
}
