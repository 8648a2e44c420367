package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"pinpoint/internal/config"
	"pinpoint/internal/h1server"
)

// httpServer is what a listener runs: Go's net/http server or the builtin
// HTTP/1.1 server (package h1server).
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Server runs the gateway's listeners.
type Server struct {
	// drain, when the handler has one, is told first on Shutdown.
	drain     func()
	servers   []httpServer
	listeners []net.Listener
	logger    *slog.Logger
	grace     time.Duration
}

// Listen opens every configured listener. Addresses are bound here so a
// port clash is reported before anything is served.
func Listen(cfg *config.Config, h http.Handler, logger *slog.Logger) (*Server, error) {
	s := &Server{logger: logger, grace: cfg.Server.ShutdownGrace}
	if d, ok := h.(interface{ Drain() }); ok {
		s.drain = d.Drain
	}
	if s.grace <= 0 {
		s.grace = 30 * time.Second
	}
	sc := cfg.Server
	for i, l := range cfg.Listeners {
		if l.UsesBuiltin() {
			ln, err := net.Listen("tcp", l.Addr)
			if err != nil {
				s.closeListeners()
				return nil, fmt.Errorf("listeners[%d]: %w", i, err)
			}
			s.servers = append(s.servers, &h1server.Server{
				Handler:           h,
				ReadHeaderTimeout: orDefault(sc.ReadHeaderTimeout, 10*time.Second),
				ReadTimeout:       sc.ReadTimeout,
				WriteTimeout:      sc.WriteTimeout,
				IdleTimeout:       orDefault(sc.IdleTimeout, 120*time.Second),
				MaxHeaderBytes:    maxHeaderBytes(sc),
				ErrorLog:          logger,
			})
			s.listeners = append(s.listeners, ln)
			continue
		}
		srv := &http.Server{
			Handler: h,
			// Slow-header clients cannot hold a connection forever.
			ReadHeaderTimeout: orDefault(sc.ReadHeaderTimeout, 10*time.Second),
			ReadTimeout:       sc.ReadTimeout,
			WriteTimeout:      sc.WriteTimeout,
			IdleTimeout:       orDefault(sc.IdleTimeout, 120*time.Second),
			MaxHeaderBytes:    maxHeaderBytes(sc),
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		}
		var protos http.Protocols
		protos.SetHTTP1(true)
		if l.TLS != nil {
			cert, err := tls.LoadX509KeyPair(l.TLS.CertFile, l.TLS.KeyFile)
			if err != nil {
				s.closeListeners()
				return nil, fmt.Errorf("listeners[%d].tls: %w", i, err)
			}
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
			protos.SetHTTP2(true)
		}
		if l.H2C {
			protos.SetUnencryptedHTTP2(true)
		}
		srv.Protocols = &protos
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listeners[%d]: %w", i, err)
		}
		if srv.TLSConfig != nil {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		s.servers = append(s.servers, srv)
		s.listeners = append(s.listeners, ln)
	}
	return s, nil
}

func maxHeaderBytes(sc config.Server) int {
	if sc.MaxHeaderBytes > 0 {
		return int(sc.MaxHeaderBytes)
	}
	return 64 << 10
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Addrs are the bound addresses (useful with port 0).
func (s *Server) Addrs() []string {
	out := make([]string, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr().String()
	}
	return out
}

// Serve serves until ctx is cancelled, then shuts down gracefully: new
// connections are refused and requests in flight (POST bodies included)
// get up to the grace period to finish.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, len(s.servers))
	for i, srv := range s.servers {
		go func(srv httpServer, ln net.Listener) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(srv, s.listeners[i])
	}
	select {
	case err := <-errc:
		s.Shutdown()
		return err
	case <-ctx.Done():
	}
	return s.Shutdown()
}

// Shutdown stops the listeners and waits for in-flight requests.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.grace)
	defer cancel()
	if s.drain != nil {
		s.drain()
	}
	var first error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}
