package calllog

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// TestStoreOutageNeverBlocksRequests: with the store hanging, handing
// records to the writer stays instant, the overflow is counted as dropped,
// the failed batch is counted as failed, and both are logged.
func TestStoreOutageNeverBlocksRequests(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{release: make(chan struct{})}
	var logs lockedBuf
	w := trace.NewWriter(sink, 64, slog.New(slog.NewTextHandler(&logs, nil)))
	start := time.Now()
	for range 5000 {
		w.Enqueue(rec(time.Now(), "orders", 200, "", "", "", "192.0.2.1"))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("5000 enqueues against a hung store took %s", d)
	}
	if w.Dropped() < 5000-64-512 {
		t.Errorf("dropped %d, want nearly all of 5000 beyond the queue", w.Dropped())
	}
	close(sink.release)
	w.Close()
	if w.Failed() == 0 {
		t.Error("the batch the store refused was not counted as failed")
	}
	if w.Written() != 0 {
		t.Errorf("written %d while the store was down", w.Written())
	}
	out := logs.String()
	if !strings.Contains(out, "records dropped") || !strings.Contains(out, "store write failed") {
		t.Errorf("the loss was not logged: %q", out)
	}
}
