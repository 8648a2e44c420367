package calllog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

// TestBlocksAndRowsTogether: a batch mixing gateway ids (blocks), foreign
// ids (rows) and a long request whose id is far older than the rest (a
// block of its own) is found whole by Get and by Search, in order, with
// limits that cut across blocks and rows.
func TestBlocksAndRowsTogether(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st *store.Store) {
		l := New(st)
		ctx := context.Background()
		base := time.Now().Add(-time.Hour).Truncate(time.Second)
		var all []*trace.Record
		for b := range 3 {
			var batch []*trace.Record
			for i := range 30 {
				at := base.Add(time.Duration(b*30+i) * time.Second)
				r := rec(at, []string{"orders", "users"}[i%2], 200, "", "", "acme", "192.0.2.1")
				switch {
				case i%7 == 3:
					r.ID = foreignID(at)
				case i%10 == 5:
					r.Status, r.Layer, r.Code = 403, "authz", "missing_scope"
				}
				batch = append(batch, r)
			}
			// A stream that started 20 minutes before and ends now.
			long := rec(base.Add(time.Duration(b*30)*time.Second-20*time.Minute), "events", 200, "", "", "acme", "192.0.2.7")
			batch = append(batch, long)
			all = append(all, batch...)
			if err := l.WriteBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		var blocks int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM request_blocks`).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		if blocks < 6 {
			t.Errorf("%d blocks; want at least two per batch (the long request's id is outside the span)", blocks)
		}
		if n := recordCount(t, st); n != len(all) {
			t.Fatalf("store holds %d records, want %d", n, len(all))
		}
		for _, r := range all {
			got, err := l.Get(ctx, r.ID)
			if err != nil {
				t.Fatalf("Get(%s): %v", r.ID, err)
			}
			if got.ID != r.ID || got.RouteID != r.RouteID || !got.Time.Equal(r.Time) {
				t.Fatalf("Get(%s) = %s %s %v", r.ID, got.ID, got.RouteID, got.Time)
			}
		}
		if _, err := l.Get(ctx, "01m88gcp1p7vz2t8r003wmeqwc"); err != ErrNotFound {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
		// Newest first over everything, 25 at a time, must equal the
		// records sorted by time (and id), with no gaps or repeats.
		for _, oldest := range []bool{false, true} {
			got, err := l.Search(ctx, Filter{Limit: 1000, Oldest: oldest})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(all) {
				t.Fatalf("oldest=%v: %d records, want %d", oldest, len(got), len(all))
			}
			for i := 1; i < len(got); i++ {
				a, b := got[i-1], got[i]
				inOrder := a.Time.After(b.Time) || (a.Time.Equal(b.Time) && a.ID > b.ID)
				if oldest {
					inOrder = a.Time.Before(b.Time) || (a.Time.Equal(b.Time) && a.ID < b.ID)
				}
				if !inOrder {
					t.Fatalf("oldest=%v: record %d (%v %s) out of order after (%v %s)", oldest, i, b.Time, b.ID, a.Time, a.ID)
				}
			}
			page, err := l.Search(ctx, Filter{Limit: 25, Oldest: oldest})
			if err != nil {
				t.Fatal(err)
			}
			for i := range page {
				if page[i].ID != got[i].ID {
					t.Fatalf("oldest=%v: limited search differs at %d: %s, want %s", oldest, i, page[i].ID, got[i].ID)
				}
			}
		}
		for _, c := range []struct {
			f    Filter
			want int
		}{
			{Filter{Code: "missing_scope", Limit: 100}, 9},
			{Filter{Route: "events", Limit: 100}, 3},
			{Filter{Route: "users", Status: "2xx", Limit: 100}, 45 - 9},
			{Filter{Client: "192.0.2.7", Limit: 100}, 3},
			{Filter{Denied: true, Since: base.Add(30 * time.Second), Limit: 100}, 6},
		} {
			got, err := l.Search(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want {
				t.Errorf("%+v: %d records, want %d", c.f, len(got), c.want)
			}
		}
		// Recent (used by tests and the dashboard) reads blocks too.
		recent, err := l.Recent(ctx, 5, base)
		if err != nil || len(recent) != 5 {
			t.Errorf("Recent: %d records, %v; want 5", len(recent), err)
		}
	})
}

// TestBlockSummariesSkipBlocks: a search by code or route reads only the
// blocks whose summary can match; one with too many distinct routes to
// list is always read, and still found.
func TestBlockSummariesSkipBlocks(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	l := New(st)
	ctx := context.Background()
	now := time.Now()
	var many []*trace.Record
	for i := range summaryMax + 5 {
		many = append(many, rec(now.Add(time.Duration(i)*time.Millisecond), fmt.Sprint("r", i), 200, "", "", "", "192.0.2.1"))
	}
	plain := []*trace.Record{rec(now.Add(time.Second), "orders", 200, "", "", "", "192.0.2.1")}
	for _, b := range [][]*trace.Record{many, plain} {
		if err := l.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var routes []string
	rows, err := st.DB.Query(`SELECT routes FROM request_blocks ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		routes = append(routes, s)
	}
	rows.Close()
	if len(routes) != 2 || routes[0] != "*" || routes[1] != " orders " {
		t.Fatalf("route summaries %q, want [* \" orders \"]", routes)
	}
	m, _ := newMatcher(Filter{Route: "r7"})
	q, args := m.blockQuery()
	var n int
	if err := st.DB.QueryRow("SELECT COUNT(*) FROM ("+q+")", args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("route r7 reads %d blocks, want only the unlisted one", n)
	}
	got, err := l.Search(ctx, Filter{Route: "r7"})
	if err != nil || len(got) != 1 {
		t.Errorf("route r7: %d records, %v; want 1", len(got), err)
	}
}

// TestCorruptBlockIsAnError: a damaged block body is reported, never a
// panic or a wrong record.
func TestCorruptBlockIsAnError(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	l := New(st)
	ctx := context.Background()
	r := rec(time.Now(), "orders", 200, "", "", "", "192.0.2.1")
	if err := l.WriteBatch(ctx, []*trace.Record{r}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(`UPDATE request_blocks SET body = substr(body, 1, 20)`); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Get(ctx, r.ID); err == nil || err == ErrNotFound {
		t.Errorf("Get on a corrupt block: %v, want a corruption error", err)
	}
	if _, err := l.Search(ctx, Filter{}); err == nil {
		t.Error("Search over a corrupt block succeeded")
	}
}

// FuzzBlockDecode: any bytes given to the block decoder end in entries or
// an error, never a panic; a valid block decodes to what was encoded.
func FuzzBlockDecode(f *testing.F) {
	now := time.Unix(1764000000, 0)
	b, err := encodeBlock(&blockBufs{}, []*trace.Record{
		rec(now, "orders", 200, "", "", "acme", "192.0.2.1"),
		rec(now.Add(time.Second), "users", 403, "authz", "missing_scope", "", "2001:db8::1"),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.body)
	f.Add([]byte{blockFormat})
	f.Add([]byte{blockFormat, 0x80})
	f.Add(append([]byte{blockFormat}, s2.Encode(nil, []byte{5, 30, 'a'})...))
	f.Add(append([]byte{blockFormat}, s2.Encode(nil, []byte{40, 26, '0', 1, 2, 3})...))
	f.Fuzz(func(t *testing.T, body []byte) {
		n := 0
		_ = forEachEntry(body, func(e *entry) bool {
			n++
			return true
		})
		if n > maxBlockRaw {
			t.Fatalf("%d entries from %d bytes", n, len(body))
		}
	})
}
