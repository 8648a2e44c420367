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
	bw     *bufio.Writer
	idleAt time.Time
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
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// RoundTrip sends req and returns the upstream's response, whose body
// must be read to the end or closed. It serves the requests Takes
// accepts; a request with a body must set GetBody (the proof that the
// body is in memory), which is how the caller states it.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	if !Takes(req) {
		if c.Fallback == nil {
			return nil, errors.New("h1client: request needs the fallback round tripper, and none is set")
		}
		return c.Fallback.RoundTrip(req)
	}
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
		stop = context.AfterFunc(ctx, func() { _ = cn.nc.SetDeadline(time.Unix(1, 0)) })
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
	if err := req.Write(cn.bw); err != nil {
		return fail(err)
	}
	if err := cn.bw.Flush(); err != nil {
		return fail(err)
	}
	if c.ResponseHeaderTimeout > 0 {
		_ = cn.nc.SetReadDeadline(time.Now().Add(c.ResponseHeaderTimeout))
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(cn.br, req)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				err = &headerTimeout{after: c.ResponseHeaderTimeout}
			}
			return fail(err)
		}
		// 1xx informational answers (103 Early Hints) precede the real one.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		break
	}
	if c.ResponseHeaderTimeout > 0 {
		// The body streams for as long as it takes (SSE); only the
		// context bounds it. A cancellation that fired before this reset
		// is seen by the check below.
		_ = cn.nc.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			resp.Body.Close()
			return fail(ctx.Err())
		}
	}
	b := &body{rc: resp.Body, cn: cn, c: c, addr: addr, stop: stop, keep: !resp.Close && !req.Close}
	if resp.Body == http.NoBody {
		b.finish(true)
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

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
	rc   io.ReadCloser
	cn   *conn
	c    *Client
	addr string
	stop func() bool
	keep bool
	done atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
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
