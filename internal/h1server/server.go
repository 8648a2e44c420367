package h1server

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.1 and HTTP/1.0 on plain TCP listeners with any
// http.Handler. The zero value is usable; fields must not change once
// Serve has been called.
type Server struct {
	// Handler answers every request; nil means http.DefaultServeMux.
	Handler http.Handler

	// ReadHeaderTimeout bounds reading the request line and headers,
	// counted from the first byte of the request (from the accept for a
	// connection's first request), so slow-header clients cannot hold a
	// connection forever. Zero means ReadTimeout.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds reading the whole request, body included.
	// Zero means none.
	ReadTimeout time.Duration

	// WriteTimeout bounds writing the response, counted from the end of
	// the request's header. Zero means none.
	WriteTimeout time.Duration

	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Zero means ReadTimeout; both zero means no limit.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the request line plus headers; a request
	// over it is answered 431. Zero means http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// ErrorLog receives handler panics and handler misuse (a second
	// WriteHeader, say). Nil means slog.Default().
	ErrorLog *slog.Logger

	// BaseContext optionally gives the base context of every request
	// accepted on a listener; it must not return nil.
	BaseContext func(net.Listener) context.Context

	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	serving    sync.WaitGroup // Serve loops still accepting
	inShutdown atomic.Bool
}

// Serve accepts connections on ln and serves each on its own goroutine.
// It always returns a non-nil error and closes ln; after Shutdown or
// Close the error is http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	l := &onceCloseListener{Listener: ln}
	defer l.Close()

	var tracked net.Listener = l
	if !s.trackListener(&tracked, true) {
		return http.ErrServerClosed
	}
	defer s.trackListener(&tracked, false)

	base := context.Background()
	if s.BaseContext != nil {
		base = s.BaseContext(ln)
		if base == nil {
			panic("h1server: BaseContext returned a nil context")
		}
	}

	var delay time.Duration // how long to sleep on accept failure
	for {
		rwc, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return http.ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				// Out of file descriptors and the like: back off
				// instead of spinning, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Warn("h1server: accept failed; retrying", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, rwc, base)
		if !s.trackConn(c, true) {
			rwc.Close()
			continue
		}
		go c.serve()
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// connections still serving a request (body included) to finish, or for
// ctx to end, in which case it returns ctx.Err(). Hijacked connections
// are not waited for.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	lnerr := s.closeListenersLocked()
	s.mu.Unlock()
	s.serving.Wait()

	interval := time.Millisecond
	next := func() time.Duration {
		d := interval + rand.N(interval/10+1)
		interval = min(2*interval, 500*time.Millisecond)
		return d
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		if s.closeIdleConns() {
			return lnerr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			timer.Reset(next())
		}
	}
}

// Close closes the listeners and every connection at once, requests in
// flight included. Prefer Shutdown.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.rwc.Close()
		delete(s.conns, c)
	}
	return err
}

func (s *Server) shuttingDown() bool { return s.inShutdown.Load() }

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

func (s *Server) logger() *slog.Logger {
	if s.ErrorLog != nil {
		return s.ErrorLog
	}
	return slog.Default()
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return http.DefaultMaxHeaderBytes
}

func (s *Server) headerTimeout() time.Duration {
	if s.ReadHeaderTimeout > 0 {
		return s.ReadHeaderTimeout
	}
	return s.ReadTimeout
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return s.ReadTimeout
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shuttingDown() {
			return false
		}
		if s.listeners == nil {
			s.listeners = make(map[*net.Listener]struct{})
		}
		s.listeners[ln] = struct{}{}
		s.serving.Add(1)
		return true
	}
	delete(s.listeners, ln)
	s.serving.Done()
	return true
}

func (s *Server) closeListenersLocked() error {
	var err error
	for ln := range s.listeners {
		if cerr := (*ln).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (s *Server) trackConn(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shuttingDown() {
			return false
		}
		if s.conns == nil {
			s.conns = make(map[*conn]struct{})
		}
		s.conns[c] = struct{}{}
		return true
	}
	delete(s.conns, c)
	return true
}

// closeIdleConns closes the connections waiting between requests (and
// those that have sent nothing for five seconds since their accept) and
// reports whether none is left.
func (s *Server) closeIdleConns() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	quiescent := true
	staleNew := time.Now().Unix() - 5
	for c := range s.conns {
		st := c.state.Load()
		closeIt := (st == stateIdle && c.state.CompareAndSwap(stateIdle, stateClosed)) ||
			(st == stateNew && c.acceptedUnix < staleNew && c.state.CompareAndSwap(stateNew, stateClosed))
		if !closeIt {
			quiescent = false
			continue
		}
		c.rwc.Close()
		delete(s.conns, c)
	}
	return quiescent
}

// onceCloseListener lets Serve's deferred Close and Shutdown's close
// the same listener without a second error.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
