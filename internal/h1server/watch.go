package h1server

import (
	"errors"
	"net"
	"sync"
	"time"
)

// watchDelay is how long a handler may run, its request fully read,
// before the server starts watching the connection for the client going
// away. net/http starts a goroutine blocked in Read for every request;
// here the common short request costs a timer reset and stop instead,
// and only a request still running after the delay gets the goroutine.
// The client going away is then noticed within watchDelay of the body's
// end, plus the time the kernel takes to tell.
const watchDelay = 5 * time.Millisecond

type watchState uint8

const (
	watchOff     watchState = iota // nothing to watch
	watchWaiting                   // the timer is armed
	watchReading                   // a goroutine is blocked reading the connection
	watchEnded                     // that read returned
)

// watcher cancels a running request's context when its client goes
// away, as net/http's background read does.
type watcher struct {
	c *conn

	mu      sync.Mutex
	running bool // a handler is running
	state   watchState
	timer   *time.Timer
	done    chan struct{}   // the read goroutine has finished
	ctx     *requestContext // of the running request
	aborted bool            // stop cut the read short
	got     bool            // the read got a byte: the next (pipelined) request's
	b       [1]byte         // that byte
	err     error           // the read failed: the client is gone
}

// begin marks a handler as running with its context.
func (w *watcher) begin(ctx *requestContext) {
	w.mu.Lock()
	w.running, w.ctx = true, ctx
	w.mu.Unlock()
}

// arm starts the delay once the request has been read entirely (the
// connection carries nothing else of it, so reading it now can only
// return the next request or the client's end).
func (w *watcher) arm() {
	w.mu.Lock()
	if w.running && w.state == watchOff {
		w.state = watchWaiting
		if w.timer == nil {
			w.done = make(chan struct{}, 1)
			w.timer = time.AfterFunc(watchDelay, w.fire)
		} else {
			w.timer.Reset(watchDelay)
		}
	}
	w.mu.Unlock()
}

// fire runs on the timer's goroutine: it blocks reading one byte.
func (w *watcher) fire() {
	w.mu.Lock()
	if w.state != watchWaiting {
		w.mu.Unlock()
		return
	}
	w.state = watchReading
	c := w.c
	if !c.handlerReadDL.Load() {
		// The wait has no deadline: a long handler is not a slow
		// client. stop() tells the connection its deadline changed.
		_ = c.rwc.SetReadDeadline(time.Time{})
	}
	w.mu.Unlock()

	n, err := c.rwc.Read(w.b[:])

	w.mu.Lock()
	w.got = n == 1
	var ne net.Error
	if err != nil && !(w.aborted && errors.As(err, &ne) && ne.Timeout()) {
		w.err = err
		if w.ctx != nil {
			w.ctx.cancel()
		}
	}
	w.state = watchEnded
	w.mu.Unlock()
	w.done <- struct{}{}
}

// stop ends watching when the handler returns or hijacks, waiting for a
// blocked read to give up, and keeps what it read for the next request.
// It runs on the connection's goroutine.
func (w *watcher) stop() {
	w.mu.Lock()
	w.running = false
	w.ctx = nil
	switch w.state {
	case watchWaiting:
		// If the timer has fired already, fire sees watchOff and leaves.
		w.timer.Stop()
		w.state = watchOff
		w.mu.Unlock()
		return
	case watchReading:
		w.aborted = true
		_ = w.c.rwc.SetReadDeadline(aLongTimeAgo)
		w.mu.Unlock()
		<-w.done
	case watchEnded:
		w.mu.Unlock()
		<-w.done
	default:
		w.mu.Unlock()
		return
	}
	c := w.c
	c.readDL = deadline{} // unknown now: the next read sets it
	if w.got {
		c.pushByte(w.b[0])
	}
	if w.err != nil && c.rerr == nil {
		c.rerr = w.err
	}
	// Under the lock: a timer goroutine of an earlier arm (one whose
	// Stop came too late, or the Reset's own firing) may still look at
	// the state.
	w.mu.Lock()
	w.state, w.aborted, w.got, w.err = watchOff, false, false, nil
	w.mu.Unlock()
}
