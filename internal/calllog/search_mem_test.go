package calllog

import (
	"context"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// TestSearchKeepsNoDecodedBlocks: a search holds its best matches while
// it reads block after block; a match must be its own bytes, not a view
// into its whole decoded block, or a search for a rare code with a large
// limit keeps hundreds of decoded blocks (MBs each) alive at once.
func TestSearchKeepsNoDecodedBlocks(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	l := New(st)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	const blocks, perBlock = 20, 100
	for b := range blocks {
		batch := make([]*trace.Record, 0, perBlock)
		for i := range perBlock {
			at := base.Add(time.Duration(b*perBlock+i) * time.Millisecond)
			r := rec(at, "orders", 200, "", "", "acme", "192.0.2.1")
			if i == 0 { // the block's first entry: a view of it spans the block
				r = rec(at, "orders", 403, "authz", "missing_scope", "acme", "192.0.2.1")
			}
			batch = append(batch, r)
		}
		if err := l.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	m, err := newMatcher(Filter{Code: "missing_scope"})
	if err != nil {
		t.Fatal(err)
	}
	cands, err := l.searchBlocks(ctx, m, MaxSearch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != blocks {
		t.Fatalf("%d matches, want %d", len(cands), blocks)
	}
	var held, used int
	for _, c := range cands {
		held += cap(c.doc)
		used += len(c.doc)
	}
	if held > 2*used {
		t.Errorf("%d matches of %d bytes hold %d bytes: they keep their decoded blocks alive", len(cands), used, held)
	}
	got, err := l.Search(ctx, Filter{Code: "missing_scope", Limit: MaxSearch})
	if err != nil || len(got) != blocks {
		t.Fatalf("Search: %d records, %v; want %d", len(got), err, blocks)
	}
	for _, r := range got {
		if r.Code != "missing_scope" || len(r.Steps) != 2 {
			t.Fatalf("record %s decoded as %+v", r.ID, r)
		}
	}
}
