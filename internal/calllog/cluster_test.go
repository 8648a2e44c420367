package calllog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"pinpoint/internal/ids"
	"pinpoint/internal/trace"
)

// TestPostgresSeveralNodes: gateway nodes writing the same rollup rows at
// once into one PostgreSQL neither lose counts nor deadlock, and their
// request ids never collide.
func TestPostgresSeveralNodes(t *testing.T) {
	t.Parallel()
	st := openPostgres(t)
	now := time.Now().UTC()
	const nodes, batches, per = 4, 10, 50
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := New(st)
			for range batches {
				batch := make([]*trace.Record, 0, per)
				for i := range per {
					r := rec(now, []string{"orders", "users"}[i%2], []int{200, 403}[i%2], "", "", fmt.Sprint("c", i%3), "192.0.2.1")
					if r.Status == 403 {
						r.Layer, r.Code = "authz", "missing_scope"
					}
					r.ID = ids.New()
					batch = append(batch, r)
				}
				if err := l.WriteBatch(context.Background(), batch); err != nil {
					errs <- fmt.Errorf("node %d: %w", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rows := recordCount(t, st); rows != nodes*batches*per {
		t.Errorf("%d records, want %d", rows, nodes*batches*per)
	}
	s, err := New(st).Stats(context.Background(), StatsQuery{From: now.Add(-time.Minute), To: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != nodes*batches*per || s.Denied != nodes*batches*per/2 {
		t.Errorf("rollups total %d denied %d, want %d %d", s.Total, s.Denied, nodes*batches*per, nodes*batches*per/2)
	}
}
