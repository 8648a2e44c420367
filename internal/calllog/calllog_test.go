package calllog

import (
	"context"
	"testing"
	"time"

	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

// stores runs a test against SQLite and the real PostgreSQL.
func stores(t *testing.T, f func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); f(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); f(t, openPostgres(t)) })
}

// fixture writes a known mix of traffic in two batches (so rollups are
// upserted, not just inserted) and returns the log with its clock at now.
func fixture(t *testing.T, st *store.Store, now time.Time) *Log {
	l := New(st)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	t0 := now.Add(-30 * time.Minute)
	var b1, b2 []*trace.Record
	for i := range 40 {
		b1 = append(b1, rec(t0.Add(time.Duration(i)*time.Second), "orders", 200, "", "", "acme", "192.0.2.1"))
	}
	for i := range 6 {
		b2 = append(b2, rec(t0.Add(time.Duration(i)*time.Minute), "orders", 413, "request", "body_too_large", "acme", "192.0.2.9"))
	}
	for i := range 3 {
		b2 = append(b2, rec(t0.Add(time.Duration(i)*time.Minute), "users", 403, "authz", "missing_scope", "globex", "203.0.113.5"))
	}
	b2 = append(b2, rec(t0, "users", 200, "", "", "globex", "203.0.113.5"))
	b2 = append(b2, shadowRec(t0.Add(time.Minute), "users", "globex", "ip", "ip_denied", "office-only"))
	b2 = append(b2, shadowRec(t0.Add(2*time.Minute), "users", "globex", "ip", "ip_denied", "office-only"))
	dry := rec(t0, "users", 403, "authz", "missing_scope", "globex", "203.0.113.5")
	dry.DryRun = true
	b2 = append(b2, dry)
	if err := l.WriteBatch(ctx, b1); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteBatch(ctx, b2); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	stores(t, func(t *testing.T, st *store.Store) {
		l := fixture(t, st, now)
		ctx := context.Background()
		cases := []struct {
			name string
			f    Filter
			want int
		}{
			{"status exact", Filter{Status: "413"}, 6},
			{"status class", Filter{Status: "4xx", Limit: 100}, 10},
			{"code", Filter{Code: "missing_scope"}, 4},
			{"layer and route", Filter{Layer: "request", Route: "orders"}, 6},
			{"consumer denied", Filter{Consumer: "globex", Denied: true}, 4},
			{"client", Filter{Client: "192.0.2.9"}, 6},
			{"shadow", Filter{Shadow: true}, 2},
			{"time range", Filter{Since: now.Add(-30 * time.Minute), Until: now.Add(-29*time.Minute - 30*time.Second), Route: "orders", Limit: 100}, 31},
			{"limit", Filter{Limit: 3}, 3},
		}
		for _, c := range cases {
			got, err := l.Search(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(got) != c.want {
				t.Errorf("%s: %d records, want %d", c.name, len(got), c.want)
			}
		}
		newest, _ := l.Search(ctx, Filter{Limit: 2})
		oldest, _ := l.Search(ctx, Filter{Limit: 2, Oldest: true})
		if !newest[0].Time.After(oldest[0].Time) {
			t.Errorf("newest first: %v should be after oldest-first %v", newest[0].Time, oldest[0].Time)
		}
		if _, err := l.Search(ctx, Filter{Status: "4x"}); err == nil {
			t.Error("a bad status filter must be refused")
		}
	})
}

func TestStatsFromRollups(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	stores(t, func(t *testing.T, st *store.Store) {
		l := fixture(t, st, now)
		ctx := context.Background()
		// Raw rows are gone: stats must still answer, from rollups alone.
		for _, table := range []string{"requests", "request_blocks"} {
			if _, err := st.DB.Exec(`DELETE FROM ` + table); err != nil {
				t.Fatal(err)
			}
		}
		s, err := l.Stats(ctx, StatsQuery{From: now.Add(-time.Hour), To: now})
		if err != nil {
			t.Fatal(err)
		}
		if s.Resolution != "minute" {
			t.Errorf("resolution %s, want minute for a 1h span", s.Resolution)
		}
		// 40 + 6 + 3 + 1 + 2 shadow; the dry run is not traffic.
		if s.Total != 52 || s.Denied != 9 || s.S403 != 3 || s.Shadow != 2 {
			t.Errorf("total %d denied %d 403 %d shadow %d, want 52 9 3 2", s.Total, s.Denied, s.S403, s.Shadow)
		}
		if len(s.Series) != 60 {
			t.Errorf("series has %d buckets, want 60 (one per minute, gaps as zeros)", len(s.Series))
		}
		if len(s.ByCode) != 2 || s.ByCode[0].Key != "body_too_large" || s.ByCode[0].N != 6 {
			t.Errorf("by code %+v", s.ByCode)
		}
		if s.ByRoute[0].Key != "orders" || s.ByRoute[0].Denied != 6 || s.ByRoute[0].N != 46 {
			t.Errorf("top denied route %+v, want orders 6 of 46", s.ByRoute[0])
		}
		if len(s.TopDeniedClients) != 2 || s.TopDeniedClients[0].Key != "192.0.2.9" || s.TopDeniedClients[0].N != 6 {
			t.Errorf("top denied clients %+v", s.TopDeniedClients)
		}
		// Coarser tiers agree with the finest one.
		for _, span := range []time.Duration{48 * time.Hour, 60 * 24 * time.Hour} {
			s2, err := l.Stats(ctx, StatsQuery{From: now.Add(-span), To: now})
			if err != nil {
				t.Fatal(err)
			}
			if s2.Total != s.Total || s2.Denied != s.Denied {
				t.Errorf("%s (%s): total %d denied %d, want %d %d", span, s2.Resolution, s2.Total, s2.Denied, s.Total, s.Denied)
			}
		}
		g, err := l.Stats(ctx, StatsQuery{From: now.Add(-time.Hour), To: now, Consumer: "globex"})
		if err != nil {
			t.Fatal(err)
		}
		if g.Total != 6 || g.Denied != 3 || g.TopDeniedClients != nil {
			t.Errorf("consumer-narrowed stats: total %d denied %d clients %v", g.Total, g.Denied, g.TopDeniedClients)
		}
		if _, err := l.Stats(ctx, StatsQuery{From: now, To: now.Add(-time.Hour)}); err == nil {
			t.Error("from after to must be refused")
		}
	})
}

func TestShadowReport(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	stores(t, func(t *testing.T, st *store.Store) {
		l := fixture(t, st, now)
		rep, err := l.Shadow(context.Background(), now.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 2 || len(rep.Groups) != 1 {
			t.Fatalf("report %+v", rep)
		}
		g := rep.Groups[0]
		if g.Layer != "ip" || g.Code != "ip_denied" || g.Rule != "office-only" || g.Route != "users" || g.Consumer != "globex" || g.Count != 2 || len(g.Samples) != 2 {
			t.Errorf("group %+v", g)
		}
		if rep.ByCode[0].Key != "ip_denied" || rep.ByRoute[0].Key != "users" || rep.ByConsumer[0].Key != "globex" {
			t.Errorf("sums %+v %+v %+v", rep.ByCode, rep.ByRoute, rep.ByConsumer)
		}
		later, _ := l.Shadow(context.Background(), now.Add(-time.Minute))
		if later.Total != 0 || len(later.Groups) != 0 {
			t.Errorf("since filters: %+v", later)
		}
	})
}

func TestRetentionByAge(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
		l := New(st)
		l.now = func() time.Time { return now }
		l.SetRetention(Retention{Days: 7})
		ctx := context.Background()
		old := rec(now.Add(-8*24*time.Hour), "orders", 403, "authz", "missing_scope", "acme", "192.0.2.1")
		oldShadow := shadowRec(now.Add(-8*24*time.Hour), "orders", "acme", "ip", "ip_denied", "r")
		fresh := rec(now.Add(-time.Hour), "orders", 200, "", "", "acme", "192.0.2.1")
		if err := l.WriteBatch(ctx, []*trace.Record{old, oldShadow, fresh}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Get(ctx, old.ID); err == nil {
			t.Error("a row past retention days survived the batch's pruning")
		}
		if _, err := l.Get(ctx, fresh.ID); err != nil {
			t.Errorf("a fresh row was pruned: %v", err)
		}
		rep, _ := l.Shadow(ctx, now.Add(-30*24*time.Hour))
		if rep.Total != 0 {
			t.Errorf("old shadow hits kept: %d", rep.Total)
		}
		// The rollups outlive the raw rows: the old denial is still counted.
		s, err := l.Stats(ctx, StatsQuery{From: now.Add(-10 * 24 * time.Hour), To: now})
		if err != nil {
			t.Fatal(err)
		}
		if s.Total != 3 || s.Denied != 1 {
			t.Errorf("rollups after pruning: total %d denied %d, want 3 1", s.Total, s.Denied)
		}
		if l.Pruned() != 2 {
			t.Errorf("pruned %d, want 2", l.Pruned())
		}
	})
}

// A request made in the first second of a minute is counted by a query
// that ends within that second (its minute bucket starts before To, but
// not before To truncated to the second).
func TestStatsCountTheCurrentMinute(t *testing.T) {
	stores(t, func(t *testing.T, st *store.Store) {
		minute := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
		at, now := minute.Add(200*time.Millisecond), minute.Add(900*time.Millisecond)
		l := New(st)
		l.now = func() time.Time { return now }
		ctx := context.Background()
		if err := l.WriteBatch(ctx, []*trace.Record{rec(at, "orders", 413, "request", "body_too_large", "acme", "192.0.2.1")}); err != nil {
			t.Fatal(err)
		}
		s, err := l.Stats(ctx, StatsQuery{From: now.Add(-time.Hour), To: now})
		if err != nil {
			t.Fatal(err)
		}
		if s.Total != 1 || s.Denied != 1 {
			t.Errorf("total %d, denied %d; want the request of the current minute counted", s.Total, s.Denied)
		}
		var inSeries int64
		for _, p := range s.Series {
			inSeries += p.Total
		}
		if inSeries != 1 {
			t.Errorf("series holds %d requests, want 1", inSeries)
		}
	})
}
