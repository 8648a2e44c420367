package h1server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// requestContext is a request's context: its parent's values and
// deadline, cancelled when the handler returns or the client goes away.
// It does what context.WithCancel does, without that call's two
// allocations: it lives in the request's exchange. It implements the
// AfterFunc method the context package looks for, so contexts derived
// from it (context.WithTimeout, context.AfterFunc) need no goroutine to
// follow it, as with a context.WithCancel parent.
type requestContext struct {
	parent    context.Context
	cancelled atomic.Bool
	err       error        // set before cancelled: the parent's error, or context.Canceled
	done      atomic.Value // chan struct{}, created lazily
	mu        sync.Mutex   // guards the creation of done, and funcs
	funcs     []*afterFunc
}

type afterFunc struct{ f func() }

// closedChan is the Done channel of a context cancelled before anyone
// asked for it.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *requestContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *requestContext) Value(key any) any           { return c.parent.Value(key) }
func (c *requestContext) String() string              { return "h1server request context" }

func (c *requestContext) Done() <-chan struct{} {
	if d := c.done.Load(); d != nil {
		return d.(chan struct{})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.done.Load()
	if d == nil {
		d = make(chan struct{})
		c.done.Store(d)
	}
	return d.(chan struct{})
}

func (c *requestContext) Err() error {
	if c.cancelled.Load() {
		return c.err
	}
	return nil
}

// AfterFunc runs f once the context is cancelled (at once, on its own
// goroutine, if it is already). The context package passes only short
// non-blocking funcs (a child's cancel), which run synchronously.
func (c *requestContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	c.funcs = append(c.funcs, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.funcs {
			if x == a {
				c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel ends the context; it is safe to call more than once and from
// any goroutine.
func (c *requestContext) cancel() {
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		return
	}
	// Like a context.WithCancel child: ended by its parent, it reports
	// the parent's error (context.DeadlineExceeded, say).
	c.err = c.parent.Err()
	if c.err == nil {
		c.err = context.Canceled
	}
	c.cancelled.Store(true)
	if d, _ := c.done.Load().(chan struct{}); d != nil {
		close(d)
	} else {
		c.done.Store(closedChan)
	}
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, a := range funcs {
		a.f()
	}
}
