package calllog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// TestRetentionBySize writes far more than max_size through the log and
// checks the file never grows past it, while the newest rows survive.
func TestRetentionBySize(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	l := New(st)
	l.sizeEvery = 0 // check after every batch; production checks once a second.
	const limit = 2 << 20
	l.SetRetention(Retention{MaxSize: limit})
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	// A realistic record is ~1 KB of JSON; blocks are compressed, so the
	// padding is random to keep each record's stored size near that.
	pad := make([]byte, 200)
	var last *trace.Record
	for b := range 60 {
		batch := make([]*trace.Record, 0, 100)
		for i := range 100 {
			r := rec(start.Add(time.Duration(b*100+i)*time.Millisecond), "orders", 200, "", "", "acme", "192.0.2.1")
			_, _ = rand.Read(pad)
			r.Path = "/orders/" + hex.EncodeToString(pad)
			batch = append(batch, r)
			last = r
		}
		if err := l.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(st.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > limit {
			t.Fatalf("after batch %d the store file is %d bytes, over max_size %d", b, fi.Size(), limit)
		}
	}
	if l.Pruned() == 0 {
		t.Fatal("6000 records of ~1 KB fit in 2 MB: retention did nothing")
	}
	if _, err := l.Get(ctx, last.ID); err != nil {
		t.Errorf("the newest record was pruned: %v", err)
	}
	used, _, _ := l.UsedBytes(ctx)
	if used > limit*8/10+200<<10 {
		t.Errorf("live pages %d, want about 60-80%% of %d", used, limit)
	}
}

// blockingSink stands for a store that hangs, then fails.
type blockingSink struct {
	release chan struct{}
}

func (s *blockingSink) WriteBatch(ctx context.Context, recs []*trace.Record) error {
	<-s.release
	return fmt.Errorf("store down")
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
