package calllog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pinpoint/internal/trace"
)

// Filter selects call-log records. Empty fields match everything.
type Filter struct {
	// Status is an exact status ("403") or a class ("4xx").
	Status   string `json:"status,omitempty"`
	Code     string `json:"code,omitempty"`
	Layer    string `json:"layer,omitempty"`
	Route    string `json:"route,omitempty"`
	Consumer string `json:"consumer,omitempty"`
	Client   string `json:"client,omitempty"`
	// Denied keeps only requests the gateway denied (a denial code).
	Denied bool `json:"denied,omitempty"`
	// Shadow keeps only requests a shadowed policy would have denied.
	Shadow bool      `json:"shadow,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
	// Limit caps the answer (default 50, at most 1000).
	Limit int `json:"limit,omitempty"`
	// Oldest returns the oldest matches first (for tailing).
	Oldest bool `json:"oldest,omitempty"`
}

// MaxSearch caps one search's answer.
const MaxSearch = 1000

// ParseStatus checks a status filter: "403", "4xx".
func ParseStatus(s string) (lo, hi int, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		c := int(s[0]-'0') * 100
		return c, c + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, fmt.Errorf("status %q: want a status like 403 or a class like 4xx", s)
	}
	return n, n, nil
}

// Search returns the records that match f, newest first (oldest first
// with f.Oldest).
func (l *Log) Search(ctx context.Context, f Filter) ([]*trace.Record, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	return l.search(ctx, f, min(limit, MaxSearch))
}

// search merges matches from the requests table (records with foreign
// ids) and from blocks, and decodes the best limit of them.
func (l *Log) search(ctx context.Context, f Filter, limit int) ([]*trace.Record, error) {
	m, err := newMatcher(f)
	if err != nil {
		return nil, err
	}
	f.Limit = limit
	q, args, err := searchQuery(f)
	if err != nil {
		return nil, err
	}
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.ts, &c.id, &c.doc); err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if cands, err = l.searchBlocks(ctx, m, limit, cands); err != nil {
		return nil, err
	}
	out := make([]*trace.Record, 0, len(cands))
	for _, c := range cands {
		r, err := c.decode()
		if err != nil {
			return nil, fmt.Errorf("decoding record %s: %w", c.id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// searchQuery is the SQL (with ? placeholders) and arguments of a search.
func searchQuery(f Filter) (string, []any, error) {
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("code", f.Code)
	eq("layer", f.Layer)
	eq("route", f.Route)
	eq("consumer", f.Consumer)
	eq("client", f.Client)
	// The code and consumer indexes are partial (migration 3): stating
	// their condition lets the planner prove the index covers the query.
	if f.Code != "" || f.Denied {
		where = append(where, "code <> ''")
	}
	if f.Consumer != "" {
		where = append(where, "consumer <> ''")
	}
	if f.Status != "" {
		lo, hi, err := ParseStatus(f.Status)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "status >= ? AND status <= ?")
		args = append(args, lo, hi)
	}
	if f.Shadow {
		where = append(where, "shadow = 1")
	}
	if !f.Since.IsZero() {
		where = append(where, "ts >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, "ts < ?")
		args = append(args, f.Until.UnixMicro())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxSearch)
	q := "SELECT ts, id, doc FROM requests"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Oldest {
		q += " ORDER BY ts ASC, id ASC"
	} else {
		q += " ORDER BY ts DESC, id DESC"
	}
	q += " LIMIT ?"
	args = append(args, limit)
	return q, args, nil
}
