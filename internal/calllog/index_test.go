package calllog

import (
	"context"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// TestSearchUsesPartialIndexes pins migration 3: allowed, anonymous
// requests get no code or consumer index entry, and searches by code or
// consumer still run on those (partial) indexes rather than scanning.
func TestSearchUsesPartialIndexes(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	l := New(st)
	ctx := context.Background()
	now := time.Now()
	batch := []*trace.Record{
		rec(now, "orders", 200, "", "", "", "198.51.100.1"),
		rec(now.Add(time.Millisecond), "orders", 403, "authz", "missing_scope", "acme", "198.51.100.2"),
		rec(now.Add(2*time.Millisecond), "orders", 200, "", "", "acme", "198.51.100.3"),
	}
	for _, r := range batch {
		r.ID = foreignID(r.Time) // rows, not blocks: only rows have these indexes.
	}
	if err := l.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	count := func(index string) int {
		var n int
		if err := st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests INDEXED BY `+index+` WHERE `+
			map[string]string{"requests_denied_code_ts": "code <> ''", "requests_known_consumer_ts": "consumer <> ''"}[index]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("requests_denied_code_ts"); n != 1 {
		t.Errorf("code index holds %d rows, want only the denial", n)
	}
	if n := count("requests_known_consumer_ts"); n != 2 {
		t.Errorf("consumer index holds %d rows, want the two with a consumer", n)
	}

	for _, c := range []struct {
		f     Filter
		index string
		want  int
	}{
		{Filter{Code: "missing_scope"}, "requests_denied_code_ts", 1},
		// Denied alone may scan by time instead (the planner's choice for
		// newest-first order); it must still find only the denial.
		{Filter{Denied: true}, "", 1},
		{Filter{Consumer: "acme"}, "requests_known_consumer_ts", 2},
	} {
		q, args, err := searchQuery(c.f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := st.DB.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); c.index != "" && !strings.Contains(p, c.index) {
			t.Errorf("%+v: plan %q does not use %s", c.f, p, c.index)
		}
		got, err := l.Search(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("%+v: %d records, want %d", c.f, len(got), c.want)
		}
	}
}
