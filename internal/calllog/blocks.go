package calllog

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"

	"pinpoint/internal/ids"
	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

// Migration 4 stores records in blocks: one row per written batch instead
// of one row per request. A row per request cost ~15 µs of CPU each in
// SQLite (a B-tree insertion per index, WAL frames for index pages),
// more than the rest of a denied request together; a block costs one
// insertion per batch, and the per-record work is encoding its bytes.
//
// A block holds records whose ids (made by package ids, so time-sortable)
// lie within blockSpan of each other. That bound is what lets Get find an
// id with one short index range: a block holding id X has its smallest id
// no older than X's time minus blockSpan. Records whose id carries no time
// (an X-Request-Id honoured from a trusted client) keep a row of their own
// in the requests table, which Get and Search read as well.
//
// Each block carries a summary (time range, counts of denials and shadow
// hits, the distinct codes and routes) so that searches skip blocks that
// cannot match without reading them.
func init() {
	const tmpl = `
CREATE TABLE IF NOT EXISTS request_blocks (
  seq %s,
  id_min TEXT NOT NULL,
  id_max TEXT NOT NULL,
  ts_min BIGINT NOT NULL,
  ts_max BIGINT NOT NULL,
  n INTEGER NOT NULL,
  denied INTEGER NOT NULL,
  shadow INTEGER NOT NULL,
  codes TEXT NOT NULL,
  routes TEXT NOT NULL,
  body %s NOT NULL
);
CREATE INDEX IF NOT EXISTS request_blocks_id ON request_blocks (id_min);
CREATE INDEX IF NOT EXISTS request_blocks_ts ON request_blocks (ts_max)`
	store.Register(store.Migration{Feature: "calllog", ID: 4,
		SQL:      fmt.Sprintf(tmpl, "INTEGER PRIMARY KEY", "BLOB"),
		Postgres: fmt.Sprintf(tmpl, "BIGSERIAL PRIMARY KEY", "BYTEA")})
}

// blockSpan bounds the time between the oldest and newest id in a block.
// Larger spans mean fewer blocks when a batch holds a long request (an
// SSE stream ending now), smaller ones a shorter index range for Get.
const blockSpan = time.Minute

// blockFormat is the first byte of every block body: entries compressed
// with S2 (github.com/klauspost/compress/s2). Records of one batch repeat
// most of their bytes (step names, headers, hosts), so the body shrinks
// several times over, and with it the pages SQLite writes twice (WAL,
// then checkpoint): compressing costs less CPU than those writes did.
const blockFormat = 1

// summaryMax is how many distinct codes or routes a block's summary lists;
// past it the summary says "*" (anything) and searches read the block.
const summaryMax = 32

// An entry is one record in a block: the fields searches filter on, then
// the record's JSON document. Byte slices point into the block body.
type entry struct {
	id, route, code, layer, consumer, client, doc []byte
	ts                                            int64
	status                                        int
	shadow                                        bool
}

// blockRow is one block ready to insert.
type blockRow struct {
	idMin, idMax   string
	tsMin, tsMax   int64
	n              int
	denied, shadow int
	codes, routes  string
	body           []byte
}

// blockBufs are the scratch buffers one block encoding needs. The Log
// keeps one set: a sync.Pool would be emptied by every GC cycle, and the
// buffers (hundreds of KB) would be allocated again for most batches.
type blockBufs struct{ raw, body, doc []byte }

// maxKeptBuf is the largest scratch buffer kept between batches; one
// unusually large batch does not pin its memory.
const maxKeptBuf = 8 << 20

func (b *blockBufs) trim() {
	for _, p := range []*[]byte{&b.raw, &b.body, &b.doc} {
		if cap(*p) > maxKeptBuf {
			*p = nil
		}
	}
}

// splitBatch separates records with time-carrying ids (sorted by id and
// cut into spans of at most blockSpan) from those that need a row.
func splitBatch(recs []*trace.Record) (spans [][]*trace.Record, rows []*trace.Record) {
	timed := make([]*trace.Record, 0, len(recs))
	for _, r := range recs {
		if _, ok := ids.TimeOf(r.ID); ok {
			timed = append(timed, r)
		} else {
			rows = append(rows, r)
		}
	}
	if len(timed) == 0 {
		return nil, rows
	}
	// Records arrive in the order requests ended, nearly the order of
	// their ids, so this sort is mostly a check.
	slices.SortFunc(timed, func(a, b *trace.Record) int { return strings.Compare(a.ID, b.ID) })
	// A record given twice (a retried write) is stored once.
	timed = slices.CompactFunc(timed, func(a, b *trace.Record) bool { return a.ID == b.ID })
	start := 0
	first, _ := ids.TimeOf(timed[0].ID)
	for i := 1; i < len(timed); i++ {
		t, _ := ids.TimeOf(timed[i].ID)
		if t.Sub(first) > blockSpan {
			spans = append(spans, timed[start:i])
			start, first = i, t
		}
	}
	return append(spans, timed[start:]), rows
}

// encodeBlock encodes recs (sorted by id) as a block, using bufs for
// scratch; the row's body stays valid until bufs is reused.
func encodeBlock(bufs *blockBufs, recs []*trace.Record) (blockRow, error) {
	b := blockRow{idMin: recs[0].ID, idMax: recs[len(recs)-1].ID, n: len(recs)}
	var codes, routes []string
	raw, doc := bufs.raw[:0], bufs.doc
	var err error
	for i, r := range recs {
		ts := r.Time.UnixMicro()
		if i == 0 || ts < b.tsMin {
			b.tsMin = ts
		}
		if i == 0 || ts > b.tsMax {
			b.tsMax = ts
		}
		if r.Code != "" {
			b.denied++
			codes = addDistinct(codes, r.Code)
		}
		if r.ShadowHit {
			b.shadow++
		}
		routes = addDistinct(routes, r.RouteID)
		if doc, err = appendRecord(doc[:0], r); err != nil {
			return b, fmt.Errorf("encoding record %s: %w", r.ID, err)
		}
		raw = appendEntry(raw, r, ts, doc)
	}
	body := slices.Grow(bufs.body[:0], 1+s2.MaxEncodedLen(len(raw)))
	body = append(body, blockFormat)
	body = append(body, s2.Encode(body[1:cap(body)], raw)...)
	bufs.raw, bufs.doc, bufs.body = raw, doc, body
	b.codes, b.routes, b.body = summary(codes), summary(routes), body
	return b, nil
}

func appendEntry(b []byte, r *trace.Record, ts int64, doc []byte) []byte {
	var flags byte
	if r.ShadowHit {
		flags = 1
	}
	size := len(doc) + 16 + len(r.ID) + len(r.RouteID) + len(r.Code) + len(r.Layer) + len(r.Consumer) + len(r.Client) + 6*binary.MaxVarintLen16
	b = slices.Grow(b, size+binary.MaxVarintLen32)
	// The entry's length is written after it is built: reserve the most
	// a length can take, then move the entry down if it took fewer bytes.
	at := len(b)
	b = append(b, make([]byte, binary.MaxVarintLen32)...)
	body := len(b)
	b = appendStr(b, r.ID)
	b = binary.AppendVarint(b, ts)
	b = binary.AppendUvarint(b, uint64(max(r.Status, 0)))
	b = append(b, flags)
	b = appendStr(b, r.RouteID)
	b = appendStr(b, r.Code)
	b = appendStr(b, r.Layer)
	b = appendStr(b, r.Consumer)
	b = appendStr(b, r.Client)
	b = append(b, doc...)
	n := len(b) - body
	var lenBuf [binary.MaxVarintLen32]byte
	w := binary.PutUvarint(lenBuf[:], uint64(n))
	copy(b[at:], lenBuf[:w])
	copy(b[at+w:], b[body:])
	return b[:at+w+n]
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func addDistinct(list []string, s string) []string {
	if len(list) > summaryMax || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// summary is a block's list of codes or routes as " a b c " (so that
// LIKE '% b %' finds one), or "*" when there were too many to list.
func summary(list []string) string {
	if len(list) > summaryMax {
		return "*"
	}
	if len(list) == 0 {
		return " "
	}
	return " " + strings.Join(list, " ") + " "
}

var errCorruptBlock = errors.New("call log block is corrupt")

// maxBlockRaw bounds a block's decoded size, so a damaged length cannot
// make a reader allocate without limit. The largest batch (512 records of
// a few KB each) is far below it.
const maxBlockRaw = 256 << 20

// forEachEntry calls fn for every entry of a block body until fn returns
// false. The entry's slices point into the decoded block.
func forEachEntry(body []byte, fn func(e *entry) bool) error {
	return forEachEntryIn(nil, body, fn)
}

// forEachEntryIn is forEachEntry decoding into *scratch (grown as
// needed and kept there), so that reading many blocks reuses one buffer;
// fn must copy what it keeps of an entry.
func forEachEntryIn(scratch *[]byte, body []byte, fn func(e *entry) bool) error {
	if len(body) == 0 || body[0] != blockFormat {
		return errCorruptBlock
	}
	if n, err := s2.DecodedLen(body[1:]); err != nil || n > maxBlockRaw {
		return errCorruptBlock
	}
	var dst []byte
	if scratch != nil {
		dst = (*scratch)[:cap(*scratch)]
	}
	p, err := s2.Decode(dst, body[1:])
	if err != nil {
		return errCorruptBlock
	}
	if scratch != nil {
		*scratch = p[:0]
	}
	var e entry
	for len(p) > 0 {
		n, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < n {
			return errCorruptBlock
		}
		ent := p[w : w+int(n)]
		p = p[w+int(n):]
		ok := true
		str := func() []byte {
			l, w := binary.Uvarint(ent)
			if w <= 0 || uint64(len(ent)-w) < l {
				ok = false
				return nil
			}
			s := ent[w : w+int(l)]
			ent = ent[w+int(l):]
			return s
		}
		e.id = str()
		ts, w1 := binary.Varint(ent)
		if w1 <= 0 {
			return errCorruptBlock
		}
		ent = ent[w1:]
		st, w2 := binary.Uvarint(ent)
		if w2 <= 0 || len(ent) < w2+1 {
			return errCorruptBlock
		}
		e.ts, e.status, e.shadow = ts, int(st), ent[w2]&1 != 0
		ent = ent[w2+1:]
		e.route, e.code, e.layer, e.consumer, e.client = str(), str(), str(), str(), str()
		if !ok {
			return errCorruptBlock
		}
		e.doc = ent
		if !fn(&e) {
			return nil
		}
	}
	return nil
}

// writeBlocks stores the records with time-carrying ids as blocks and
// returns the others, which need rows.
func (l *Log) writeBlocks(ctx context.Context, tx *sql.Tx, recs []*trace.Record) ([]*trace.Record, error) {
	spans, rows := splitBatch(recs)
	if len(spans) == 0 {
		return rows, nil
	}
	l.bufMu.Lock()
	defer l.bufMu.Unlock()
	bufs := &l.bufs
	defer bufs.trim()
	q := l.st.Rebind(`INSERT INTO request_blocks (id_min, id_max, ts_min, ts_max, n, denied, shadow, codes, routes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	for _, span := range spans {
		b, err := encodeBlock(bufs, span)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q, b.idMin, b.idMax, b.tsMin, b.tsMax, b.n, b.denied, b.shadow, b.codes, b.routes, b.body); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// getFromBlocks finds id in the blocks that can hold it.
func (l *Log) getFromBlocks(ctx context.Context, id string) (*trace.Record, error) {
	t, ok := ids.TimeOf(id)
	if !ok {
		return nil, ErrNotFound
	}
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT body FROM request_blocks WHERE id_min >= ? AND id_min <= ? AND id_max >= ?`),
		ids.Floor(t.Add(-blockSpan)), id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := []byte(id)
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var doc []byte
		if err := forEachEntry(body, func(e *entry) bool {
			if bytes.Equal(e.id, want) {
				doc = e.doc
				return false
			}
			return true
		}); err != nil {
			return nil, err
		}
		if doc != nil {
			return decodeRecord(doc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return nil, ErrNotFound
}

// A candidate is a search match not yet decoded: a row's JSON document,
// or a block entry's record encoding (bin).
type candidate struct {
	ts  int64
	id  string
	doc []byte
	bin bool
}

func (c *candidate) decode() (*trace.Record, error) {
	if c.bin {
		return decodeRecord(c.doc)
	}
	var r trace.Record
	if err := json.Unmarshal(c.doc, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// matcher is a Filter ready to test block entries.
type matcher struct {
	f              Filter
	lo, hi         int
	since, until   int64
	hasSince, hasU bool
}

func newMatcher(f Filter) (*matcher, error) {
	m := &matcher{f: f}
	if f.Status != "" {
		lo, hi, err := ParseStatus(f.Status)
		if err != nil {
			return nil, err
		}
		m.lo, m.hi = lo, hi
	}
	if !f.Since.IsZero() {
		m.since, m.hasSince = f.Since.UnixMicro(), true
	}
	if !f.Until.IsZero() {
		m.until, m.hasU = f.Until.UnixMicro(), true
	}
	return m, nil
}

// eq compares a filter value with an entry field; "" matches anything.
func eq(want string, got []byte) bool { return want == "" || string(got) == want }

func (m *matcher) match(e *entry) bool {
	f := &m.f
	return eq(f.Code, e.code) && eq(f.Layer, e.layer) && eq(f.Route, e.route) && eq(f.Consumer, e.consumer) && eq(f.Client, e.client) &&
		(!f.Denied || len(e.code) > 0) && (!f.Shadow || e.shadow) &&
		(m.lo == 0 || (e.status >= m.lo && e.status <= m.hi)) &&
		(!m.hasSince || e.ts >= m.since) && (!m.hasU || e.ts < m.until)
}

// blockQuery selects the blocks that can hold a match, in the order the
// search reads them.
func (m *matcher) blockQuery() (string, []any) {
	f := &m.f
	var where []string
	var args []any
	if m.hasSince {
		where = append(where, "ts_max >= ?")
		args = append(args, m.since)
	}
	if m.hasU {
		where = append(where, "ts_min < ?")
		args = append(args, m.until)
	}
	if f.Code != "" || f.Denied {
		where = append(where, "denied > 0")
	}
	if f.Shadow {
		where = append(where, "shadow > 0")
	}
	if f.Code != "" {
		where = append(where, "(codes = '*' OR codes LIKE ?)")
		args = append(args, "% "+f.Code+" %")
	}
	if f.Route != "" {
		where = append(where, "(routes = '*' OR routes LIKE ?)")
		args = append(args, "% "+f.Route+" %")
	}
	q := "SELECT ts_min, ts_max, body FROM request_blocks"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Oldest {
		q += " ORDER BY ts_min ASC"
	} else {
		q += " ORDER BY ts_max DESC"
	}
	return q, args
}

// before reports whether a comes before b in the search's order.
func (m *matcher) before(a, b *candidate) bool {
	if a.ts != b.ts {
		return (a.ts < b.ts) == m.f.Oldest
	}
	return (a.id < b.id) == m.f.Oldest
}

func (m *matcher) sortTrim(c []candidate, limit int) []candidate {
	slices.SortFunc(c, func(a, b candidate) int {
		if m.before(&a, &b) {
			return -1
		}
		if m.before(&b, &a) {
			return 1
		}
		return 0
	})
	return c[:min(len(c), limit)]
}

// searchBlocks adds the blocks' matches to cands (already holding the
// row table's) and returns the best limit of them, in order.
func (l *Log) searchBlocks(ctx context.Context, m *matcher, limit int, cands []candidate) ([]candidate, error) {
	q, args := m.blockQuery()
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cands = m.sortTrim(cands, limit)
	var scratch []byte
	for rows.Next() {
		var tsMin, tsMax int64
		var body []byte
		if err := rows.Scan(&tsMin, &tsMax, &body); err != nil {
			return nil, err
		}
		// Blocks come newest-last-record first (oldest-first record for
		// Oldest): once limit matches all lie strictly beyond this
		// block's edge, neither it nor any later block can improve them.
		if len(cands) >= limit {
			worst := cands[len(cands)-1].ts
			if (!m.f.Oldest && worst > tsMax) || (m.f.Oldest && worst < tsMin) {
				break
			}
		}
		// A match is copied out of the decoded block, which the next
		// block reuses: holding views would keep up to limit decoded
		// blocks (MBs each) alive. One that cannot make the best limit
		// found so far is not copied at all.
		var worst *candidate
		if len(cands) >= limit {
			w := cands[len(cands)-1]
			worst = &w
		}
		found := false
		if err := forEachEntryIn(&scratch, body, func(e *entry) bool {
			if !m.match(e) {
				return true
			}
			c := candidate{ts: e.ts, id: string(e.id), bin: true}
			if worst != nil && !m.before(&c, worst) {
				return true
			}
			c.doc = bytes.Clone(e.doc)
			cands = append(cands, c)
			found = true
			return true
		}); err != nil {
			return nil, err
		}
		if found {
			cands = m.sortTrim(cands, limit)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return cands, nil
}

// blockTimes is the oldest and newest record time over all blocks.
func (l *Log) blockTimes(ctx context.Context) (oldest, newest *int64, err error) {
	err = l.st.DB.QueryRowContext(ctx, `SELECT MIN(ts_min), MAX(ts_max) FROM request_blocks`).Scan(&oldest, &newest)
	return oldest, newest, err
}

// deleteBlocksBefore deletes blocks whose newest record is older than cut
// (a block straddling cut stays until all of it is past), in chunks.
func (l *Log) deleteBlocksBefore(ctx context.Context, cut int64) error {
	for {
		rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT seq, n FROM request_blocks WHERE ts_max < ? ORDER BY ts_max LIMIT 64`), cut)
		if err != nil {
			return fmt.Errorf("pruning request blocks: %w", err)
		}
		var seqs []any
		var recs uint64
		for rows.Next() {
			var seq, n int64
			if err := rows.Scan(&seq, &n); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
			recs += uint64(n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(seqs) == 0 {
			return nil
		}
		q := `DELETE FROM request_blocks WHERE seq IN (?` + strings.Repeat(",?", len(seqs)-1) + `)`
		if _, err := l.st.DB.ExecContext(ctx, l.st.Rebind(q), seqs...); err != nil {
			return fmt.Errorf("pruning request blocks: %w", err)
		}
		l.pruned.Add(recs)
	}
}
