package h1client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Client is an http.RoundTripper for plain-HTTP upstreams (see the
// package documentation for what it takes and what it hands on).
type Client struct {
	// Dial opens a connection; nil means a net.Dialer with a 5 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ResponseHeaderTimeout bounds the wait for the status line and
	// headers after the request is written (0: no bound but the
	// request's context).
	ResponseHeaderTimeout time.Duration
	// IdleTimeout closes a pooled connection unused for this long
	// (default 90 s).
	IdleTimeout time.Duration
	// MaxIdlePerHost caps the pooled connections per host (default 256).
	MaxIdlePerHost int
	// Fallback serves the requests this client does not take.
	Fallback http.RoundTripper

	mu     sync.Mutex
	idle   map[string][]*conn
	closed bool
}

// conn is one upstream connection with its buffers.
type conn struct {
	nc     net.Conn
	br     *bufio.Reader
	wbuf   []byte // the request being written, kept for the next one
	rbuf   []byte // the response head being read, kept likewise
	idleAt time.Time
	peek   peeker
}

const bufSize = 4 << 10

// Takes reports whether the client itself serves req (rather than its
// Fallback).
func Takes(req *http.Request) bool {
	if req.URL == nil || req.URL.Scheme != "http" || req.URL.Host == "" {
		return false
	}
	if _, ok := req.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := req.Header["Expect"]; ok {
		return false
	}
	_, inMemory := bodyBytes(req)
	return inMemory
}

// RoundTrip sends req and returns the upstream's response, whose body
// must be read to the end or closed. It serves the requests Takes
// accepts: a request with a body must carry it as an InMemory body
// (NewBytes), which is how the caller states that it is all in memory.
// An answer that breaks HTTP/1.1 is a *BadResponse error.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	if !Takes(req) {
		if c.Fallback == nil {
			return nil, errors.New("h1client: request needs the fallback round tripper, and none is set")
		}
		return c.Fallback.RoundTrip(req)
	}
	b, _ := bodyBytes(req)
	ctx := req.Context()
	addr := hostPort(req.URL.Host)
	cn, err := c.get(ctx, addr)
	if err != nil {
		return nil, err
	}
	// Cancellation (the client went away, the total timeout) unblocks
	// any read or write on the connection by expiring its deadline.
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, cn.expire)
	}
	fail := func(err error) (*http.Response, error) {
		if stop != nil {
			stop()
		}
		_ = cn.nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	if err := cn.writeRequest(req, b); err != nil {
		return fail(err)
	}
	if c.ResponseHeaderTimeout > 0 {
		_ = cn.nc.SetReadDeadline(time.Now().Add(c.ResponseHeaderTimeout))
	}
	resp, err := cn.readResponse(req)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			err = &headerTimeout{after: c.ResponseHeaderTimeout}
		}
		return fail(err)
	}
	if c.ResponseHeaderTimeout > 0 {
		// The body streams for as long as it takes (SSE); only the
		// context bounds it. A cancellation that fired before this reset
		// is seen by the check below.
		_ = cn.nc.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
	f, hasBody, err := frame(resp, req)
	if err != nil {
		return fail(err)
	}
	bd := &body{framed: f, cn: cn, c: c, addr: addr, stop: stop, keep: !resp.Close && !req.Close}
	if !hasBody {
		bd.finish(true)
		return resp, nil
	}
	bd.br = cn.br
	resp.Body = bd
	return resp, nil
}

// expire makes every pending and future read and write on the
// connection fail at once.
func (cn *conn) expire() { _ = cn.nc.SetDeadline(time.Unix(1, 0)) }

// headerTimeout is the error for an upstream that wrote no response
// headers within ResponseHeaderTimeout.
type headerTimeout struct{ after time.Duration }

func (e *headerTimeout) Error() string {
	return fmt.Sprintf("timeout awaiting response headers (%s)", e.after)
}
func (e *headerTimeout) Timeout() bool   { return true }
func (e *headerTimeout) Temporary() bool { return true }

var _ net.Error = (*headerTimeout)(nil)

// body returns its connection to the pool once read to the end.
type body struct {
	framed
	cn   *conn
	c    *Client
	addr string
	stop func() bool
	keep bool
	err  error // sticky: once the body ended, the connection is not read again
	done atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.read(p)
	if err != nil {
		b.err = err
		b.finish(err == io.EOF)
	}
	return n, err
}

// Close before the end abandons the connection: what is left unread
// would have to be drained first, and an abandoned response may be long.
func (b *body) Close() error {
	b.finish(false)
	return nil
}

func (b *body) finish(eof bool) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	// stop reports false when the cancellation already fired: the
	// connection's deadline is expired, so it cannot be reused.
	live := b.stop == nil || b.stop()
	if eof && b.keep && live {
		b.c.put(b.addr, b.cn)
		return
	}
	_ = b.cn.nc.Close()
}

// hostPort adds HTTP's default port to a URL host without one.
func hostPort(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(trimBrackets(host), "80")
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
