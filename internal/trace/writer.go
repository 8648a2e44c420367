package trace

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Sink persists batches of records.
type Sink interface {
	WriteBatch(ctx context.Context, recs []*Record) error
}

// Writer queues records and writes them in batches on its own goroutine.
type Writer struct {
	sink    Sink
	logger  *slog.Logger
	queue   chan *Record
	dropped atomic.Uint64
	written atomic.Uint64
	failed  atomic.Uint64
	wg      sync.WaitGroup
	once    sync.Once
	lastLog atomic.Int64
	flushMu sync.Mutex
	flushCh chan chan struct{}
}

// NewWriter starts a writer with the given queue capacity.
func NewWriter(sink Sink, capacity int, logger *slog.Logger) *Writer {
	if capacity <= 0 {
		capacity = 8192
	}
	if logger == nil {
		logger = slog.Default()
	}
	w := &Writer{sink: sink, logger: logger, queue: make(chan *Record, capacity), flushCh: make(chan chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

// Enqueue hands a record to the writer without ever blocking. When the
// queue is full the record is dropped and the loss counted and logged
// (at most once a second) — never silent.
func (w *Writer) Enqueue(r *Record) {
	select {
	case w.queue <- r:
	default:
		n := w.dropped.Add(1)
		now := time.Now().UnixNano()
		last := w.lastLog.Load()
		if now-last > int64(time.Second) && w.lastLog.CompareAndSwap(last, now) {
			w.logger.Warn("trace queue full: records dropped", "dropped_total", n, "queue_capacity", cap(w.queue))
		}
	}
}

// Dropped is how many records were lost to a full queue.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many records reached the store.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Failed is how many records the store refused (counted, then dropped).
func (w *Writer) Failed() uint64 { return w.failed.Load() }

// QueueLen is the number of records waiting.
func (w *Writer) QueueLen() int { return len(w.queue) }

const maxBatch = 512

func (w *Writer) run() {
	defer w.wg.Done()
	batch := make([]*Record, 0, maxBatch)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.sink.WriteBatch(ctx, batch)
		cancel()
		if err != nil {
			w.failed.Add(uint64(len(batch)))
			w.logger.Error("trace store write failed: records dropped", "records", len(batch), "err", err)
		} else {
			w.written.Add(uint64(len(batch)))
		}
		clear(batch)
		batch = batch[:0]
	}
	for {
		select {
		case r, ok := <-w.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) >= maxBatch {
				flush()
			}
		case <-tick.C:
			flush()
		case done := <-w.flushCh:
			// Drain what is queued now, then acknowledge.
			for n := len(w.queue); n > 0; n-- {
				batch = append(batch, <-w.queue)
				if len(batch) >= maxBatch {
					flush()
				}
			}
			flush()
			close(done)
		}
	}
}

// Flush waits until every record queued before the call is written.
func (w *Writer) Flush() {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	done := make(chan struct{})
	select {
	case w.flushCh <- done:
		<-done
	case <-time.After(30 * time.Second):
		// The writer is stopped or stuck; a flush must not hang its caller.
	}
}

// Close writes what is queued and stops the writer.
func (w *Writer) Close() {
	w.once.Do(func() {
		close(w.queue)
		w.wg.Wait()
	})
}
