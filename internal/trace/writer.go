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
	// kick wakes the writer when a full batch is queued. Between kicks
	// and ticks the writer sleeps, so a request's Enqueue is a channel
	// send that wakes no goroutine: waking the writer for every record
	// cost each request a scheduler round trip.
	kick   chan struct{}
	kickAt int
	closed chan struct{}
	done   atomic.Bool
}

// NewWriter starts a writer with the given queue capacity.
func NewWriter(sink Sink, capacity int, logger *slog.Logger) *Writer {
	if capacity <= 0 {
		capacity = 8192
	}
	if logger == nil {
		logger = slog.Default()
	}
	w := &Writer{sink: sink, logger: logger, queue: make(chan *Record, capacity), flushCh: make(chan chan struct{}),
		kick: make(chan struct{}, 1), kickAt: min(maxBatch, max(capacity/2, 1)), closed: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

// Enqueue hands a record to the writer without ever blocking. When the
// queue is full the record is dropped and the loss counted and logged
// (at most once a second) — never silent.
func (w *Writer) Enqueue(r *Record) {
	if w.done.Load() {
		// Closed: nothing would write the record. Counted, not a panic.
		w.drop()
		return
	}
	select {
	case w.queue <- r:
		if len(w.queue) >= w.kickAt {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	default:
		w.drop()
	}
}

func (w *Writer) drop() {
	n := w.dropped.Add(1)
	now := time.Now().UnixNano()
	last := w.lastLog.Load()
	if now-last > int64(time.Second) && w.lastLog.CompareAndSwap(last, now) {
		w.logger.Warn("trace queue full: records dropped", "dropped_total", n, "queue_capacity", cap(w.queue))
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

// maxBatch is the most records one WriteBatch gets, and the queue length
// at which the writer is woken before its next tick. A batch has a fixed
// cost in the store (a transaction, the rollup upserts) of a few hundred
// microseconds: at 512 records that was ~0.5 µs of every request's CPU,
// at 2048 it is a quarter of that.
const maxBatch = 2048

// tickEvery bounds how long a record waits in the queue under light load.
const tickEvery = 200 * time.Millisecond

func (w *Writer) run() {
	defer w.wg.Done()
	batch := make([]*Record, 0, maxBatch)
	tick := time.NewTicker(tickEvery)
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
	// drain writes everything queued now, in batches of at most maxBatch.
	drain := func() {
		for n := len(w.queue); n > 0; n-- {
			batch = append(batch, <-w.queue)
			if len(batch) >= maxBatch {
				flush()
			}
		}
		flush()
	}
	for {
		select {
		case <-w.kick:
			drain()
		case <-tick.C:
			drain()
		case done := <-w.flushCh:
			drain()
			close(done)
		case <-w.closed:
			drain()
			return
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
		w.done.Store(true)
		close(w.closed)
		w.wg.Wait()
	})
}
