package calllog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StatsQuery asks for analytics over [From, To).
type StatsQuery struct {
	From, To time.Time
	// Route and Consumer narrow every figure to one route or consumer.
	Route    string
	Consumer string
	// Top caps the ranked lists (default 10).
	Top int
}

// Count is one row of a breakdown: requests, and how many of them the
// gateway denied.
type Count struct {
	Key    string `json:"key"`
	N      int64  `json:"n"`
	Denied int64  `json:"denied,omitempty"`
}

// Point is one bucket of the time series.
type Point struct {
	Time   time.Time `json:"time"`
	Total  int64     `json:"total"`
	Denied int64     `json:"denied"`
	Shadow int64     `json:"shadow,omitempty"`
	S2xx   int64     `json:"2xx"`
	S3xx   int64     `json:"3xx,omitempty"`
	S4xx   int64     `json:"4xx"`
	S5xx   int64     `json:"5xx"`
	S403   int64     `json:"403"`
	// Rate403 is the share of requests answered 403 in the bucket.
	Rate403 float64 `json:"rate_403"`
}

// Stats is the analytics answer, computed from rollups only.
type Stats struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Resolution string    `json:"resolution"`
	Total      int64     `json:"total"`
	Denied     int64     `json:"denied"`
	Shadow     int64     `json:"shadow"`
	S403       int64     `json:"403"`
	Rate403    float64   `json:"rate_403"`
	AvgMicros  int64     `json:"avg_us"`
	MaxMicros  int64     `json:"max_us"`
	Series     []Point   `json:"series"`
	ByStatus   []Count   `json:"by_status"`
	ByLayer    []Count   `json:"by_layer"`
	ByCode     []Count   `json:"by_code"`
	// ByRoute and ByConsumer rank by denials first, so the top of each
	// list is "top denied routes/consumers".
	ByRoute    []Count `json:"by_route"`
	ByConsumer []Count `json:"by_consumer"`
	// TopDeniedClients ranks client addresses by refused requests
	// (status >= 400); absent when a route or consumer narrows the query,
	// since client rollups are kept per client only.
	TopDeniedClients []Count `json:"top_denied_clients,omitempty"`
}

// pickResolution chooses the coarsest tier that still gives a useful
// series for the span, falling back to a coarser one when the finer tier
// no longer holds rows that old.
func (l *Log) pickResolution(from, to, now time.Time) Resolution {
	span := to.Sub(from)
	if span <= 6*time.Hour && !from.Before(now.Add(-l.Keep(Minute))) {
		return Minute
	}
	if span <= 14*24*time.Hour && !from.Before(now.Add(-l.Keep(Hour))) {
		return Hour
	}
	return Day
}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// Stats answers q from the rollup tables.
func (l *Log) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	now := l.now()
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-24 * time.Hour)
	}
	if !q.From.Before(q.To) {
		return nil, fmt.Errorf("stats: from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.Top <= 0 {
		q.Top = 10
	}
	res := l.pickResolution(q.From, q.To, now)
	// hi rounds To up to the second: buckets are whole seconds, and the
	// bucket a request made in the first second of a minute falls in
	// starts before To but not before To.Unix().
	lo, hi := res.Bucket(q.From), ceilUnix(q.To)
	where := "res = ? AND bucket >= ? AND bucket < ?"
	args := []any{res.Name, lo, hi}
	if q.Route != "" {
		where += " AND route = ?"
		args = append(args, q.Route)
	}
	if q.Consumer != "" {
		where += " AND consumer = ?"
		args = append(args, q.Consumer)
	}
	st := &Stats{From: time.Unix(lo, 0).UTC(), To: q.To.UTC(), Resolution: map[string]string{"m": "minute", "h": "hour", "d": "day"}[res.Name]}
	if err := l.aggregateRollups(ctx, st, res, where, args, q.Top); err != nil {
		return nil, err
	}
	if q.Route == "" && q.Consumer == "" {
		var err error
		if st.TopDeniedClients, err = l.topClients(ctx, res, lo, hi, q.Top); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// aggregateRollups reads the range's rollup rows once and computes every
// figure in memory: one index range scan instead of a GROUP BY per
// breakdown, which is what keeps a 30-day answer fast on SQLite.
func (l *Log) aggregateRollups(ctx context.Context, st *Stats, res Resolution, where string, args []any, top int) error {
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT bucket, route, status, layer, code, consumer, n, shadow, sum_us, max_us FROM rollup WHERE `+where), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	points := map[int64]*Point{}
	by := [5]map[string]*Count{{}, {}, {}, {}, {}} // status, layer, code, route, consumer
	add := func(m map[string]*Count, key string, n int64, denied bool) {
		c := m[key]
		if c == nil {
			c = &Count{Key: key}
			m[key] = c
		}
		c.N += n
		if denied {
			c.Denied += n
		}
	}
	var sumUS int64
	for rows.Next() {
		var b, n, shadow, us, mx int64
		var status int
		var route, layer, code, consumer string
		if err := rows.Scan(&b, &route, &status, &layer, &code, &consumer, &n, &shadow, &us, &mx); err != nil {
			return err
		}
		p := points[b]
		if p == nil {
			p = &Point{Time: time.Unix(b, 0).UTC()}
			points[b] = p
		}
		denied := code != ""
		p.Total += n
		p.Shadow += shadow
		if denied {
			p.Denied += n
		}
		switch {
		case status == 403:
			p.S403 += n
			p.S4xx += n
		case status >= 500:
			p.S5xx += n
		case status >= 400:
			p.S4xx += n
		case status >= 300:
			p.S3xx += n
		case status >= 200:
			p.S2xx += n
		}
		sumUS += us
		st.MaxMicros = max(st.MaxMicros, mx)
		add(by[0], fmt.Sprint(status), n, denied)
		if layer != "" {
			add(by[1], layer, n, denied)
		}
		if denied {
			add(by[2], code, n, true)
		}
		add(by[3], route, n, denied)
		if consumer != "" {
			add(by[4], consumer, n, denied)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A continuous series (empty buckets as zeros) draws an honest trend.
	step := int64(res.Step / time.Second)
	for b := st.From.Unix(); b < ceilUnix(st.To); b += step {
		p := points[b]
		if p == nil {
			p = &Point{Time: time.Unix(b, 0).UTC()}
		}
		if p.Total > 0 {
			p.Rate403 = float64(p.S403) / float64(p.Total)
		}
		st.Total += p.Total
		st.Denied += p.Denied
		st.Shadow += p.Shadow
		st.S403 += p.S403
		st.Series = append(st.Series, *p)
	}
	if st.Total > 0 {
		st.Rate403 = float64(st.S403) / float64(st.Total)
		st.AvgMicros = sumUS / st.Total
	}
	st.ByStatus = ranked(by[0], 100, false)
	st.ByLayer = ranked(by[1], top, false)
	st.ByCode = ranked(by[2], top, false)
	st.ByRoute = ranked(by[3], top, true)
	st.ByConsumer = ranked(by[4], top, true)
	return nil
}

// ranked sorts a breakdown, by denials first when byDenied (top denied
// routes and consumers), and keeps the top.
func ranked(m map[string]*Count, top int, byDenied bool) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Count) int {
		if byDenied && a.Denied != b.Denied {
			return cmp.Compare(b.Denied, a.Denied)
		}
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key))
	})
	if len(out) > top {
		out = out[:top]
	}
	return out
}

func (l *Log) topClients(ctx context.Context, res Resolution, lo, hi int64, top int) ([]Count, error) {
	if res == Minute {
		// Clients are rolled up per hour and day only (see schema.go).
		res, lo = Hour, Hour.Bucket(time.Unix(lo, 0))
	}
	q := fmt.Sprintf(`SELECT client, CAST(SUM(n) AS BIGINT), CAST(SUM(CASE WHEN code <> '' THEN n ELSE 0 END) AS BIGINT) FROM rollup_client
WHERE res = ? AND bucket >= ? AND bucket < ? GROUP BY client ORDER BY 2 DESC, 1 LIMIT %d`, top)
	return l.counts(ctx, q, []any{res.Name, lo, hi}, 3)
}

func (l *Log) counts(ctx context.Context, q string, args []any, cols int) ([]Count, error) {
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Count{}
	for rows.Next() {
		var c Count
		dest := []any{&c.Key, &c.N, &c.Denied}[:cols]
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.Key = strings.TrimSpace(c.Key)
		out = append(out, c)
	}
	return out, rows.Err()
}
