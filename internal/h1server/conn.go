package h1server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Connection states, as Shutdown sees them.
const (
	stateNew      int32 = iota // accepted, no byte of a request read yet
	stateActive                // reading or serving a request
	stateIdle                  // waiting for the next request
	stateHijacked              // handed to a handler
	stateClosed                // closed by Shutdown or Close
)

const (
	readBufSize = 4 << 10
	// writeBufSize is the connection's output buffer: a whole small
	// response (header and body) leaves in one write.
	writeBufSize = 4 << 10
	// bufferBeforeChunking is how much body is held back before the
	// header is sent, so a short response gets a Content-Length (and a
	// sniffed Content-Type) instead of chunked framing. net/http uses
	// the same size; it is at least the 512 bytes sniffing looks at.
	bufferBeforeChunking = 2 << 10
	// maxPostHandlerReadBytes is how much unread request body the server
	// reads and drops to keep a connection alive; with more, it closes.
	maxPostHandlerReadBytes = 256 << 10
	// lingerTimeout bounds how long a connection closed with unread
	// input keeps draining it, so the client reads the answer instead of
	// a reset (net/http waits 500 ms too).
	lingerTimeout = 500 * time.Millisecond
	// maxChunkLineLength bounds a chunk-size line (net/http's limit).
	maxChunkLineLength = 4096
)

// connBuffers is a connection's working memory, pooled between
// connections so that a keep-alive connection allocates none of it.
type connBuffers struct {
	r       [readBufSize]byte
	w       [writeBufSize]byte
	pending [bufferBeforeChunking]byte
}

var buffersPool = sync.Pool{New: func() any { return new(connBuffers) }}

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked Read.
var aLongTimeAgo = time.Unix(1, 0)

// errSilentClose ends a connection without an answer: the client went
// away, timed out between requests, or the server is shutting down.
var errSilentClose = errors.New("h1server: close without reply")

// conn is one accepted connection. Its goroutine reads a request, runs
// the handler on the same goroutine, writes the answer and loops; the
// same conn, buffers and response value serve every request on it.
type conn struct {
	srv          *Server
	rwc          net.Conn
	remoteAddr   string
	ctx          context.Context // parent of every request's context
	acceptedAt   time.Time
	acceptedUnix int64
	state        atomic.Int32
	hijacked     atomic.Bool

	bufs *connBuffers
	rbuf []byte // input; unread bytes are rbuf[rpos:rend]
	rpos int
	rend int
	wbuf []byte // output not yet written to rwc

	// scanPos, scanSeen and scanLines let the header scan resume where
	// it stopped when more bytes arrive: scanPos is the start of the
	// incomplete line, scanSeen how far it is known to hold no LF.
	scanPos   int
	scanSeen  int
	scanLines int

	// readDL and writeDL mirror the deadlines set on rwc, so that a
	// deadline is set only when it must change (a SetReadDeadline costs
	// as much as a tenth of the whole request).
	readDL  deadline
	writeDL deadline
	// handlerReadDL and handlerWriteDL say a handler set a deadline
	// itself (http.ResponseController) for the current request; the
	// server leaves it alone until the request ends.
	handlerReadDL  atomic.Bool
	handlerWriteDL bool

	reqStart  time.Time // when the current request's first byte arrived (zero: not taken)
	respStart time.Time // when its header was read: WriteTimeout counts from here (zero: not taken)
	lastWrite time.Time // when the last response was finished (zero: not taken)

	rerr error // the connection's read side failed: no more requests
	werr error // a write failed: nothing more can be sent

	lastPOST      bool            // net/http tolerates stray CRLF after a POST body
	parentCancels bool            // the base context can end (BaseContext gave one that can)
	ex            *exchange       // the current request's
	reqCtx        *requestContext // the current request's context
	reqBody       *body           // the current request's body, nil if none

	// canContinue says a 100 Continue may still be sent; continueMu
	// orders it with the response, which another goroutine may write.
	canContinue atomic.Bool
	continueMu  sync.Mutex

	res     response
	watch   watcher
	scratch http.Request // built here, then copied once by WithContext
	keys    []string     // scratch for sorting header keys
}

func newConn(s *Server, rwc net.Conn, base context.Context) *conn {
	c := &conn{srv: s, rwc: rwc}
	if ra := rwc.RemoteAddr(); ra != nil {
		c.remoteAddr = ra.String()
	}
	c.ctx = context.WithValue(base, http.LocalAddrContextKey, rwc.LocalAddr())
	c.parentCancels = base.Done() != nil
	c.acceptedAt = time.Now()
	c.acceptedUnix = c.acceptedAt.Unix()
	c.state.Store(stateNew)
	c.res.c = c
	c.watch.c = c
	return c
}

// serve runs the connection until it ends.
func (c *conn) serve() {
	c.bufs = buffersPool.Get().(*connBuffers)
	c.rbuf = c.bufs.r[:]
	c.wbuf = c.bufs.w[:0]
	linger := false
	defer func() {
		if p := recover(); p != nil {
			// A bug here, not in a handler (those are recovered in
			// runHandler): log it and drop the connection.
			c.srv.logger().Error("h1server: internal error", "remote", c.remoteAddr, "panic", p, "stack", stack())
			linger = false
		}
		c.end(linger)
	}()

	first := true
	for {
		if err := c.awaitRequest(first); err != nil {
			return
		}
		first = false
		keep, lingerOnClose := c.serveOne()
		if !keep {
			linger = lingerOnClose
			return
		}
	}
}

// end closes the connection (unless a handler hijacked it) and returns
// its buffers to the pool.
func (c *conn) end(linger bool) {
	if c.hijacked.Load() {
		c.releaseBuffers()
		return
	}
	if linger {
		c.closeLingering()
	} else {
		c.rwc.Close()
	}
	c.state.Store(stateClosed)
	c.srv.trackConn(c, false)
	c.releaseBuffers()
}

func (c *conn) releaseBuffers() {
	if c.bufs != nil {
		buffersPool.Put(c.bufs)
		c.bufs = nil
		c.rbuf, c.wbuf, c.res.pending = nil, nil, nil
	}
}

// closeLingering half-closes the connection, then reads and drops what
// the client still sends for a short while, so that a client still
// writing its request reads our answer rather than a connection reset.
func (c *conn) closeLingering() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
		buf := c.bufs.r[:]
		for total := 0; total < maxPostHandlerReadBytes; {
			n, err := c.rwc.Read(buf)
			total += n
			if err != nil {
				break
			}
		}
	}
	c.rwc.Close()
}

// awaitRequest waits until the next request's first bytes are buffered.
// Between requests the connection is idle: Shutdown may close it, and
// the idle timeout applies; a connection's first request is bounded by
// the header timeout from the accept, as net/http does.
func (c *conn) awaitRequest(first bool) error {
	c.reqStart, c.respStart = time.Time{}, time.Time{}
	if c.rpos < c.rend {
		// A pipelined request is already here.
		if !first {
			c.reqStart = c.timeIfNeeded()
		}
		return nil
	}
	if c.rerr != nil {
		return c.rerr
	}
	c.shrinkReadBuffer()
	c.rpos, c.rend = 0, 0

	from := stateNew
	if first {
		if d := c.srv.headerTimeout(); d > 0 {
			c.armRead(c.acceptedAt.Add(d), 0)
		} else {
			c.armRead(time.Time{}, 0)
		}
	} else {
		from = stateIdle
		c.state.Store(stateIdle)
		if c.srv.shuttingDown() {
			return errSilentClose
		}
		if d := c.srv.idleTimeout(); d > 0 {
			now := c.lastWrite
			if now.IsZero() {
				now = time.Now()
			}
			c.armRead(now.Add(d), slackFor(d))
		} else {
			c.armRead(time.Time{}, 0)
		}
	}
	n, err := c.rwc.Read(c.rbuf)
	c.rend = n
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		c.rerr = err
		return err
	}
	if err != nil {
		c.rerr = err
	}
	if !c.state.CompareAndSwap(from, stateActive) {
		return errSilentClose // Shutdown or Close took the connection
	}
	if first {
		c.reqStart = c.acceptedAt
	} else {
		c.reqStart = c.timeIfNeeded()
	}
	return nil
}

// timeIfNeeded reads the clock at a request's start only when a
// timeout counts from there.
func (c *conn) timeIfNeeded() time.Time {
	if c.srv.ReadTimeout > 0 {
		return time.Now()
	}
	return time.Time{}
}

// shrinkReadBuffer returns to the pooled read buffer after a request
// whose header needed a bigger one.
func (c *conn) shrinkReadBuffer() {
	if len(c.rbuf) != readBufSize || &c.rbuf[0] != &c.bufs.r[0] {
		n := copy(c.bufs.r[:], c.rbuf[c.rpos:c.rend])
		c.rbuf = c.bufs.r[:]
		c.rpos, c.rend = 0, n
	}
}

// serveOne reads one request, runs the handler and finishes the
// response. It reports whether the connection may carry another
// request and, if not, whether closing it should linger.
func (c *conn) serveOne() (keep, linger bool) {
	info, perr := c.readRequest()
	if c.srv.WriteTimeout > 0 {
		// As net/http: the answer's time counts from the end of the
		// header, not from the accept (a preconnected client may send
		// its first request long after).
		c.respStart = time.Now()
	}
	if perr != nil {
		if perr == errSilent {
			return false, false
		}
		c.replyError(perr)
		return false, true
	}
	if info.expectUnsupported {
		c.replyError(&protoError{http.StatusExpectationFailed, "unsupported Expect header"})
		return false, true
	}

	rc := &c.ex.ctx
	rc.parent = c.ctx
	var stopParent func() bool
	if c.parentCancels {
		stopParent = context.AfterFunc(c.ctx, rc.cancel)
	}
	req := c.scratch.WithContext(rc)
	c.scratch = http.Request{} // keep nothing of it alive between requests
	res := &c.res
	res.reset(req, info)
	if c.reqBody != nil {
		c.reqBody.req = req // for the trailer
	}
	c.reqCtx = rc
	c.watch.begin(rc)
	if c.reqBody == nil {
		c.watch.arm() // nothing left to read: watch the client from now
	}

	var h http.Handler
	if req.RequestURI == "*" && req.Method == "OPTIONS" {
		h = globalOptionsHandler{}
	} else {
		h = c.srv.handler()
	}
	rw := &c.ex.rw
	rw.res = res
	panicked := c.runHandler(h, rw, req)
	rw.end() // from now on the handler's ResponseWriter fails
	rc.cancel()
	if stopParent != nil {
		stopParent()
	}
	c.watch.stop()
	if c.hijacked.Load() || panicked {
		// The body is not drained on these paths: close it so that a
		// goroutine of the handler still reading it fails instead of
		// reading a buffer the connection is about to give back.
		if c.reqBody != nil {
			_ = c.reqBody.Close()
		}
		if c.hijacked.Load() {
			return false, false
		}
		res.abort()
		return false, true
	}
	res.finish()
	// Deadlines a handler set applied to its own answer, as with
	// net/http; the next request gets the server's again.
	c.handlerReadDL.Store(false)
	c.handlerWriteDL = false
	keep, linger = res.reusable()
	// Keep nothing of the request alive while the connection idles.
	c.reqCtx, c.reqBody, c.ex = nil, nil, nil
	res.header = nil // the handler may still hold it: the next request gets its own
	c.lastPOST = req.Method == "POST"
	if keep && c.srv.shuttingDown() {
		keep = false
	}
	return keep, linger
}

// runHandler runs h and recovers a panic, which ends the connection.
func (c *conn) runHandler(h http.Handler, w *responseHandle, r *http.Request) (panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			if p != http.ErrAbortHandler {
				c.res.panicValue = p
				c.srv.logger().Error("h1server: panic serving request",
					"remote", c.remoteAddr, "method", r.Method, "path", r.URL.Path,
					"panic", p, "stack", stack())
			}
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

func stack() string {
	buf := make([]byte, 64<<10)
	return string(buf[:runtime.Stack(buf, false)])
}

// replyError answers a request the server refuses on its own; the
// connection is closed afterwards.
func (c *conn) replyError(e *protoError) {
	text := http.StatusText(e.code)
	body := strconv.Itoa(e.code) + " " + text
	if e.reason != "" {
		body += ": " + e.reason
	}
	b := c.wbuf[:0]
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(e.code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.wbuf = b
	_ = c.flush()
}

// flush writes the buffered output to the connection.
func (c *conn) flush() error {
	if len(c.wbuf) == 0 || c.werr != nil {
		c.wbuf = c.wbuf[:0]
		return c.werr
	}
	c.armWrite()
	_, err := c.rwc.Write(c.wbuf)
	c.res.flushed = true
	c.wbuf = c.bufs.w[:0]
	if err != nil {
		c.writeFailed(err)
	}
	return c.werr
}

// writeDirect writes p to the connection after the buffered output.
func (c *conn) writeDirect(p []byte) error {
	if err := c.flush(); err != nil {
		return err
	}
	c.armWrite()
	if _, err := c.rwc.Write(p); err != nil {
		c.writeFailed(err)
	}
	return c.werr
}

// appendOut adds body bytes to the output, writing out when full.
func (c *conn) appendOut(p []byte) error {
	if len(c.wbuf)+len(p) <= cap(c.wbuf) {
		c.wbuf = append(c.wbuf, p...)
		return c.werr
	}
	if len(p) >= writeBufSize/2 {
		return c.writeDirect(p)
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.wbuf = append(c.wbuf, p...)
	return nil
}

// writeFailed records a failed write: the client is gone (or too slow),
// so the request's context ends, as with net/http.
func (c *conn) writeFailed(err error) {
	if c.werr == nil {
		c.werr = err
	}
	if c.reqCtx != nil {
		c.reqCtx.cancel()
	}
}

// readFailed records a failed read of the connection while a request
// is being served; its context ends, as with net/http.
func (c *conn) readFailed(err error) {
	if c.rerr == nil {
		c.rerr = err
	}
	if c.reqCtx != nil {
		c.reqCtx.cancel()
	}
}

// --- reading -----------------------------------------------------------

// armBodyRead sets the deadline for reading the current request's body:
// ReadTimeout from the request's start, or none.
func (c *conn) armBodyRead() {
	if c.handlerReadDL.Load() {
		return
	}
	if d := c.srv.ReadTimeout; d > 0 {
		if c.reqStart.IsZero() {
			c.reqStart = time.Now()
		}
		c.armRead(c.reqStart.Add(d), 0)
		return
	}
	c.armRead(time.Time{}, 0)
}

// readBody reads body bytes: buffered ones first, then from the
// connection. It never blocks when something is buffered.
func (c *conn) readBody(p []byte) (int, error) {
	if c.rpos < c.rend {
		n := copy(p, c.rbuf[c.rpos:c.rend])
		c.rpos += n
		return n, nil
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.armBodyRead()
	if len(p) >= len(c.rbuf) {
		// Large read: straight into the caller's buffer.
		n, err := c.rwc.Read(p)
		if err != nil {
			c.readFailed(err)
			if n > 0 {
				err = nil
			}
		}
		return n, err
	}
	c.rpos, c.rend = 0, 0
	n, err := c.rwc.Read(c.rbuf)
	c.rend = n
	if err != nil {
		c.readFailed(err)
		if n == 0 {
			return 0, err
		}
	}
	k := copy(p, c.rbuf[:n])
	c.rpos = k
	return k, nil
}

// fill reads more bytes into the buffer, moving unread ones to its
// start when it is full. The caller makes sure there is room.
func (c *conn) fill() error {
	if c.rerr != nil {
		return c.rerr
	}
	if c.rend == len(c.rbuf) {
		n := copy(c.rbuf, c.rbuf[c.rpos:c.rend])
		c.scanPos -= c.rpos
		c.scanSeen -= c.rpos
		c.rpos, c.rend = 0, n
	}
	if c.rend == len(c.rbuf) {
		return errLineTooLong
	}
	c.armBodyRead()
	n, err := c.rwc.Read(c.rbuf[c.rend:])
	c.rend += n
	if err != nil {
		c.readFailed(err)
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// readLine returns the next line, through its '\n', from the buffer,
// reading as needed; the slice is valid until the next read.
func (c *conn) readLine(max int) ([]byte, error) {
	for {
		for i := c.rpos; i < c.rend; i++ {
			if c.rbuf[i] == '\n' {
				line := c.rbuf[c.rpos : i+1]
				c.rpos = i + 1
				return line, nil
			}
		}
		if c.rend-c.rpos >= max {
			return nil, errLineTooLong
		}
		if err := c.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// ensure makes n bytes available in the buffer (n is small).
func (c *conn) ensure(n int) error {
	for c.rend-c.rpos < n {
		if err := c.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// lineBuffered reports whether a whole line is already buffered.
func (c *conn) lineBuffered() bool {
	for i := c.rpos; i < c.rend; i++ {
		if c.rbuf[i] == '\n' {
			return true
		}
	}
	return false
}

// pushByte puts back a byte the watcher read ahead of the next request.
func (c *conn) pushByte(b byte) {
	if c.rend == len(c.rbuf) {
		n := copy(c.rbuf, c.rbuf[c.rpos:c.rend])
		c.rpos, c.rend = 0, n
		if c.rend == len(c.rbuf) {
			grown := make([]byte, 2*len(c.rbuf))
			copy(grown, c.rbuf)
			c.rbuf = grown
		}
	}
	c.rbuf[c.rend] = b
	c.rend++
}

// --- deadlines -----------------------------------------------------------

// deadline is what a connection's read or write deadline is set to.
type deadline struct {
	at    time.Time
	known bool // at is what the socket has
}

// slackFor is how much later than asked a long timeout may fire, so a
// busy keep-alive connection re-arms its deadline at most about once a
// second instead of on every request.
func slackFor(d time.Duration) time.Duration {
	return min(d/8, time.Second)
}

// next returns the deadline to set for want (zero: none), or false when
// the current one already falls in [want, want+slack].
func (d *deadline) next(want time.Time, slack time.Duration) (time.Time, bool) {
	if want.IsZero() {
		if d.known && d.at.IsZero() {
			return time.Time{}, false
		}
		return time.Time{}, true
	}
	if d.known && !d.at.IsZero() && !d.at.Before(want) && d.at.Sub(want) <= slack {
		return time.Time{}, false
	}
	return want.Add(slack), true
}

func (c *conn) armRead(want time.Time, slack time.Duration) {
	if at, ok := c.readDL.next(want, slack); ok {
		c.readDL = deadline{at: at, known: c.rwc.SetReadDeadline(at) == nil}
	}
}

// armWrite sets the write deadline for the current response: WriteTimeout
// from the end of the request's header, or none.
func (c *conn) armWrite() {
	if c.handlerWriteDL {
		return
	}
	want, slack := time.Time{}, time.Duration(0)
	if d := c.srv.WriteTimeout; d > 0 {
		if c.respStart.IsZero() {
			c.respStart = time.Now()
		}
		want, slack = c.respStart.Add(d), slackFor(d)
	}
	if at, ok := c.writeDL.next(want, slack); ok {
		c.writeDL = deadline{at: at, known: c.rwc.SetWriteDeadline(at) == nil}
	}
}

// globalOptionsHandler answers "OPTIONS *" as net/http does.
type globalOptionsHandler struct{}

func (globalOptionsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	if r.ContentLength != 0 {
		// Read up to 4 KB of OPTIONS body, then give up.
		mb := http.MaxBytesReader(w, r.Body, 4<<10)
		_, _ = io.Copy(io.Discard, mb)
	}
}
