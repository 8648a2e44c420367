package h1client

import (
	"bufio"
	"context"
	"net"
	"time"
)

const (
	defaultIdleTimeout    = 90 * time.Second
	defaultMaxIdlePerHost = 256
)

// get returns a live pooled connection to addr, or dials a new one.
// Pooled connections are taken newest first (the likeliest to be warm);
// expired ones and ones the upstream has closed are dropped on the way.
func (c *Client) get(ctx context.Context, addr string) (*conn, error) {
	now := time.Now()
	for {
		c.mu.Lock()
		list := c.idle[addr]
		if len(list) == 0 {
			c.mu.Unlock()
			break
		}
		cn := list[len(list)-1]
		list[len(list)-1] = nil
		c.idle[addr] = list[:len(list)-1]
		c.mu.Unlock()
		if now.Sub(cn.idleAt) < c.idleTimeout() && cn.peek.alive() {
			return cn, nil
		}
		_ = cn.nc.Close()
	}
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{nc: nc, br: bufio.NewReaderSize(nc, bufSize)}
	cn.peek.init(nc)
	return cn, nil
}

// put pools a connection whose last response was read to the end.
func (c *Client) put(addr string, cn *conn) {
	if cn.br.Buffered() > 0 {
		// Bytes after the response: the upstream broke the framing.
		_ = cn.nc.Close()
		return
	}
	cn.idleAt = time.Now()
	max := c.MaxIdlePerHost
	if max <= 0 {
		max = defaultMaxIdlePerHost
	}
	c.mu.Lock()
	if c.closed || len(c.idle[addr]) >= max {
		c.mu.Unlock()
		_ = cn.nc.Close()
		return
	}
	if c.idle == nil {
		c.idle = map[string][]*conn{}
	}
	c.idle[addr] = append(c.idle[addr], cn)
	c.mu.Unlock()
}

// CloseIdleConnections closes every pooled connection. After Close, no
// connection is pooled again.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, list := range idle {
		for _, cn := range list {
			_ = cn.nc.Close()
		}
	}
}

// Close closes the pooled connections and stops pooling; requests in
// flight finish, and their connections are closed afterwards.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.CloseIdleConnections()
}

// PruneIdle closes pooled connections idle longer than IdleTimeout, so
// that connections the upstream closes do not linger half-closed here.
// The owner calls it now and then.
func (c *Client) PruneIdle() {
	cut := time.Now().Add(-c.idleTimeout())
	var stale []*conn
	c.mu.Lock()
	for addr, list := range c.idle {
		keep := list[:0]
		for _, cn := range list {
			if cn.idleAt.Before(cut) {
				stale = append(stale, cn)
			} else {
				keep = append(keep, cn)
			}
		}
		clear(list[len(keep):])
		c.idle[addr] = keep
	}
	c.mu.Unlock()
	for _, cn := range stale {
		_ = cn.nc.Close()
	}
}

func (c *Client) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return defaultIdleTimeout
}
