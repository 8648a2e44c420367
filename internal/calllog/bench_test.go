package calllog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"pinpoint/internal/store"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// outcome is one kind of answer with its share of traffic.
type outcome struct {
	status      int
	layer, code string
	weight      float64
}

var outcomes = []outcome{
	{200, "", "", 84}, {201, "", "", 5}, {404, "route", "no_route", 1}, {401, "authn", "credentials_missing", 2},
	{401, "authn", "key_expired", 1}, {403, "authz", "missing_scope", 2}, {403, "ip", "ip_denied", 1},
	{429, "ratelimit", "rate_limited", 2}, {413, "request", "body_too_large", 0.5}, {502, "upstream", "upstream_unreachable", 0.5},
	{403, "upstream", "", 1},
}

// fillRollups writes rollup rows equivalent to `total` requests spread over
// `days` days: 20 routes and 200 consumers with skewed (Zipf) popularity,
// the outcome mix above, each bucket holding the distinct combinations
// such traffic produces (about 25 a minute, 200 an hour, 1500 a day).
func fillRollups(tb testing.TB, st *store.Store, now time.Time, days int, total int64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	routeZ := rand.NewZipf(rng, 1.3, 1, 19)
	consZ := rand.NewZipf(rng, 1.2, 1, 199)
	var cum []float64
	var sum float64
	for _, o := range outcomes {
		sum += o.weight
		cum = append(cum, sum)
	}
	pick := func() outcome {
		x := rng.Float64() * sum
		for i, c := range cum {
			if x < c {
				return outcomes[i]
			}
		}
		return outcomes[0]
	}
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, st.Rebind(upsertRollup))
	if err != nil {
		tb.Fatal(err)
	}
	cins, err := tx.PrepareContext(ctx, st.Rebind(upsertClient))
	if err != nil {
		tb.Fatal(err)
	}
	start := now.Add(-time.Duration(days) * 24 * time.Hour)
	for _, t := range []struct {
		res     Resolution
		span    time.Duration
		combos  int
		clients int
	}{{Minute, 14 * 24 * time.Hour, 25, 0}, {Hour, time.Duration(days) * 24 * time.Hour, 200, 50}, {Day, time.Duration(days) * 24 * time.Hour, 1500, 500}} {
		from := now.Add(-t.span)
		if from.Before(start) {
			from = start
		}
		perBucket := int64(float64(total) * float64(t.res.Step) / float64(time.Duration(days)*24*time.Hour))
		for b := t.res.Bucket(from); b < now.Unix(); b += int64(t.res.Step / time.Second) {
			n := perBucket / int64(t.combos)
			for range t.combos {
				o := pick()
				cons := ""
				if o.code != "credentials_missing" && o.code != "no_route" {
					cons = fmt.Sprint("consumer-", consZ.Uint64())
				}
				if _, err := ins.ExecContext(ctx, t.res.Name, b, fmt.Sprint("route-", routeZ.Uint64()), o.status, o.layer, o.code, cons,
					n, 0, n*1800, 90000, n*300, n*2000); err != nil {
					tb.Fatal(err)
				}
			}
			for range t.clients {
				if _, err := cins.ExecContext(ctx, t.res.Name, b, fmt.Sprintf("198.51.%d.%d", rng.IntN(4), rng.IntN(250)), pick().code, 1+rng.Int64N(50)); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkStats times the stats query over rollups equivalent to 10
// million logged requests over 30 days (target: under 200 ms).
func BenchmarkStats(b *testing.B) {
	st := openSQLite(b)
	now := time.Now().UTC()
	fillRollups(b, st, now, 30, 10_000_000)
	l := New(st)
	var rows int
	_ = st.DB.QueryRow(`SELECT COUNT(*) FROM rollup`).Scan(&rows)
	b.Logf("rollup rows: %d", rows)
	for _, c := range []struct {
		name  string
		span  time.Duration
		route string
	}{{"30d", 30 * 24 * time.Hour, ""}, {"7d", 7 * 24 * time.Hour, ""}, {"24h", 24 * time.Hour, ""}, {"1h", time.Hour, ""}, {"30d-route", 30 * 24 * time.Hour, "route-1"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var s *Stats
			for b.Loop() {
				var err error
				s, err = l.Stats(context.Background(), StatsQuery{From: now.Add(-c.span), To: now, Route: c.route})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.Total), "requests")
		})
	}
}

// BenchmarkLogRequest is the call log's cost on the request path: building
// the record (as gateway.finish does) and handing it to the writer. The
// sink discards, so the queue never fills; writing is off the request path.
func BenchmarkLogRequest(b *testing.B) {
	w := trace.NewWriter(discard{}, 1<<16, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer w.Close()
	v := verdict.Denied("body_too_large", "max_body", "The body is 2048 bytes; this route accepts at most 1024.")
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		steps := make([]trace.Step, 0, 4)
		steps = append(steps, trace.Step{Layer: "route", Outcome: "allow", Rule: "orders"})
		steps = append(steps, trace.StepFrom("request", v, time.Microsecond, ""))
		r := &trace.Record{ID: "01jq3x5v8k2m4n6p8r0t2v4x6z", Time: start, Method: "POST", Host: "api.test", Path: "/orders",
			Client: "192.0.2.1", Status: 413, Micros: 120, BytesIn: 2048, RouteID: "orders", Layer: "request", Code: "body_too_large",
			DeniedBy: "gateway", Steps: steps, Headers: map[string]string{"content-type": "application/json", "user-agent": "curl/8"}}
		w.Enqueue(r)
	}
}

type discard struct{}

func (discard) WriteBatch(context.Context, []*trace.Record) error { return nil }
