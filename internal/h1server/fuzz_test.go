package h1server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// memConn is a client that sends its input (in reads of at most chunk
// bytes, to exercise resumed parsing) and then half-closes: reads return
// io.EOF once the input is used up. Writes never block.
type memConn struct {
	mu     sync.Mutex
	in     []byte
	chunk  int
	out    bytes.Buffer
	closed bool
}

func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	if len(m.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), m.chunk)], m.in)
	m.in = m.in[n:]
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	return m.out.Write(p)
}

func (m *memConn) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memConn) output() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.out.Bytes())
}

var memAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func (m *memConn) LocalAddr() net.Addr              { return memAddr }
func (m *memConn) RemoteAddr() net.Addr             { return memAddr }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzHandler is echo plus paths that wait for the client to go away and
// that hijack.
func fuzzHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/wait":
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(200 * time.Millisecond): // a pipelined request keeps the context live
		}
		_, _ = io.WriteString(w, "waited")
	case "/hijack":
		nc, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString(line)
		_ = brw.Flush()
		nc.Close()
	default:
		echo(w, r)
	}
}

// FuzzServe feeds arbitrary bytes to a connection: the server must not
// panic (a handler's panic is recovered, not the server's), must not
// hang, and must only ever answer with HTTP/1.x.
func FuzzServe(f *testing.F) {
	for _, tc := range confCases {
		f.Add(uint8(255), []byte(tc.req))
		f.Add(uint8(3), []byte(tc.req))
	}
	f.Add(uint8(7), []byte("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add(uint8(9), []byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nhello\nGET / HTTP/1.1\r\n\r\n"))
	f.Add(uint8(1), []byte("POST /wait HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n"))
	srv := &Server{Handler: http.HandlerFunc(fuzzHandler), MaxHeaderBytes: 1024, ErrorLog: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, chunk uint8, data []byte) {
		m := &memConn{in: data, chunk: int(chunk)%64 + 1}
		c := newConn(srv, m, context.Background())
		srv.trackConn(c, true)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.serve()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("connection still served after 20 s")
		}
		if out := m.output(); len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.")) {
			t.Fatalf("answer does not start with a status line: %q", out[:min(len(out), 80)])
		}
	})
}

// FuzzServeLoopback is FuzzServe over real loopback TCP, where reads
// split where the kernel splits them, deadlines are real, and the
// client half-closes after its input: every connection must end by
// itself with the client reading only HTTP/1.x answers.
func FuzzServeLoopback(f *testing.F) {
	for _, tc := range confCases {
		f.Add([]byte(tc.req))
	}
	f.Add([]byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nhello\n"))
	srv := &Server{
		Handler:           http.HandlerFunc(fuzzHandler),
		MaxHeaderBytes:    1024,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       5 * time.Second,
		ErrorLog:          slog.New(slog.DiscardHandler),
	}
	ln := listen(f)
	go func() { _ = srv.Serve(ln) }()
	f.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
		go func() {
			_, _ = nc.Write(data)
			_ = nc.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(nc)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after 20 s (%d bytes answered)", len(out))
		}
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.")) {
			t.Fatalf("answer does not start with a status line: %q", out[:min(len(out), 80)])
		}
	})
}
