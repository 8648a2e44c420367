package h1server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bound is how long any wait in these tests may take before it fails:
// generous, as the machine is shared; never a measure of speed.
const bound = 10 * time.Second

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serve starts srv on a loopback listener and returns its base URL and
// the listener; the server is closed when the test ends.
func serve(t *testing.T, srv *Server) (string, *countingListener) {
	t.Helper()
	if srv.ErrorLog == nil {
		srv.ErrorLog = slog.New(slog.DiscardHandler)
	}
	ln := &countingListener{Listener: listen(t)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case err := <-done:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		case <-time.After(bound):
			t.Error("Serve did not return after Close")
		}
	})
	return "http://" + ln.Addr().String(), ln
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: bound}
}

func echoBody(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Len", fmt.Sprint(len(b)))
	_, _ = w.Write(b)
}

func TestClientPOSTsSequentialAndConcurrent(t *testing.T) {
	url, ln := serve(t, &Server{Handler: http.HandlerFunc(echoBody)})
	client := newClient()
	defer client.CloseIdleConnections()

	post := func(i int) error {
		body := fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("x", i%3000))
		resp, err := client.Post(url+"/echo", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || string(got) != body || resp.Header.Get("X-Len") != fmt.Sprint(len(body)) {
			return fmt.Errorf("request %d: %d %q", i, resp.StatusCode, got)
		}
		return nil
	}
	for i := range 200 {
		if err := post(i); err != nil {
			t.Fatal(err)
		}
	}
	// The client hands a connection back to its pool asynchronously, so
	// an occasional new dial is its doing; what matters is reuse.
	if n := ln.n.Load(); n > 10 {
		t.Errorf("200 sequential requests used %d connections: keep-alive not working", n)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if err := post(g*1000 + i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := ln.n.Load(); n > 200 {
		t.Errorf("800 requests from 8 concurrent clients used %d connections", n)
	}
}

func TestChunkedRequestAndResponseWithClient(t *testing.T) {
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Len")
		for range 10 {
			_, _ = w.Write(b) // 10× the body: chunked
		}
		w.Header().Set("X-Len", fmt.Sprint(10*len(b)))
	})})
	body := strings.Repeat("abcdefgh", 1000)
	// An io.Reader of unknown length makes the client send chunked.
	resp, err := newClient().Post(url, "text/plain", io.MultiReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat(body, 10) {
		t.Fatalf("got %d bytes", len(got))
	}
	if len(resp.TransferEncoding) != 1 || resp.Trailer.Get("X-Len") != fmt.Sprint(len(got)) {
		t.Errorf("TE %v, trailer %v", resp.TransferEncoding, resp.Trailer)
	}
}

func TestExpectContinueWithClient(t *testing.T) {
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(echoBody)})
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: bound}, Timeout: bound}
	req, _ := http.NewRequest("POST", url, strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "payload" {
		t.Fatalf("got %q", got)
	}
}

// The body is sent only after the 100 Continue: if the server did not
// send it, this would wait for the deadline.
func TestExpectContinueRaw(t *testing.T) {
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(echoBody)})
	nc, br := dial(t, url)
	write(t, nc, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue first, got %v %v", resp, err)
	}
	write(t, nc, "hello")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != "hello" {
		t.Fatalf("%d %q", resp.StatusCode, got)
	}
}

func dial(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(bound))
	t.Cleanup(func() { nc.Close() })
	return nc, bufio.NewReader(nc)
}

func write(t *testing.T, nc net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(nc, s); err != nil {
		t.Fatal(err)
	}
}

// A WebSocket-style upgrade: the handler hijacks, answers 101 itself and
// echoes lines, including the ones the client sent right behind its
// request (already buffered by the server when it hijacked).
func TestHijackUpgradeEcho(t *testing.T) {
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		nc, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		if _, _, err := w.(http.Hijacker).Hijack(); !errors.Is(err, http.ErrHijacked) {
			t.Errorf("second Hijack: %v", err)
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
			t.Errorf("Write after Hijack: %v", err)
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = brw.WriteString("echo: " + line)
			_ = brw.Flush()
			if line == "bye\n" {
				return
			}
		}
	})})
	nc, br := dial(t, url)
	write(t, nc, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%v %v", resp, err)
	}
	for _, line := range []string{"early\n", "later\n", "bye\n"} {
		if line != "early\n" {
			write(t, nc, line)
		}
		got, err := br.ReadString('\n')
		if err != nil || got != "echo: "+line {
			t.Fatalf("got %q, %v; want echo of %q", got, err, line)
		}
	}
}

// The client sees the first flushed chunk while the handler still runs.
func TestFlushStreams(t *testing.T) {
	release := make(chan struct{})
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
		select {
		case <-release:
		case <-time.After(bound):
		}
		_, _ = io.WriteString(w, "second\n")
	})})
	resp, err := newClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("%q %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
}

// A client that goes away while its request runs cancels the request's
// context: with no body, and with a body the handler has read.
func TestClientGoneCancelsContext(t *testing.T) {
	for _, tc := range []struct{ name, req string }{
		{"no body", "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"body read", "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"},
		{"chunked body read", "POST /wait HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			cancelled := make(chan error, 1)
			url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				close(started)
				select {
				case <-r.Context().Done():
					cancelled <- r.Context().Err()
				case <-time.After(bound):
					cancelled <- errors.New("context not cancelled")
				}
			})})
			nc, _ := dial(t, url)
			write(t, nc, tc.req)
			<-started
			nc.Close()
			if err := <-cancelled; !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		})
	}
}

// A pipelined request arriving while the watcher reads must neither
// cancel the running request nor get lost.
func TestWatcherKeepsPipelinedRequest(t *testing.T) {
	reading := make(chan struct{})
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			c := w.(*responseHandle).res.c
			waitState := func(want watchState) {
				deadline := time.Now().Add(bound)
				for time.Now().Before(deadline) {
					c.watch.mu.Lock()
					s := c.watch.state
					c.watch.mu.Unlock()
					if s == want {
						return
					}
					time.Sleep(time.Millisecond)
				}
				t.Errorf("watcher never reached state %d", want)
			}
			waitState(watchReading)
			close(reading)
			waitState(watchEnded) // it read the next request's first byte
			if err := r.Context().Err(); err != nil {
				t.Errorf("pipelined request cancelled the running one: %v", err)
			}
		}
		_, _ = io.WriteString(w, r.URL.Path)
	})})
	nc, br := dial(t, url)
	write(t, nc, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-reading
	write(t, nc, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"/slow", "/next"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestContextEndsWithHandler(t *testing.T) {
	var saved context.Context
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saved = r.Context()
		if r.Context().Err() != nil {
			t.Error("context done while the handler runs")
		}
	})})
	resp, err := newClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if saved.Err() == nil {
		t.Error("context still live after the handler returned")
	}
}

func TestRequestFields(t *testing.T) {
	type key struct{}
	got := make(chan *http.Request, 1)
	srv := &Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }),
		BaseContext: func(net.Listener) context.Context { return context.WithValue(context.Background(), key{}, "base") },
	}
	url, _ := serve(t, srv)
	nc, br := dial(t, url)
	write(t, nc, "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-got
	switch {
	case r.Method != "GET", r.RequestURI != "/p?q=1", r.URL.Path != "/p", r.URL.RawQuery != "q=1":
		t.Errorf("request line: %s %s %+v", r.Method, r.RequestURI, r.URL)
	case r.Proto != "HTTP/1.1" || r.ProtoMajor != 1 || r.ProtoMinor != 1:
		t.Errorf("proto %s", r.Proto)
	case r.Host != "example.com" || r.Header.Get("Host") != "":
		t.Errorf("host %q, header %v", r.Host, r.Header)
	case r.RemoteAddr != nc.LocalAddr().String():
		t.Errorf("RemoteAddr %q, want %q", r.RemoteAddr, nc.LocalAddr())
	case r.Body != http.NoBody || r.ContentLength != 0:
		t.Errorf("body %T, length %d", r.Body, r.ContentLength)
	case r.Context().Value(key{}) != "base":
		t.Error("BaseContext value missing")
	case r.Context().Value(http.LocalAddrContextKey).(net.Addr).String() != nc.RemoteAddr().String():
		t.Error("LocalAddrContextKey missing")
	case r.Header.Get("X-A") != "1":
		t.Errorf("header %v", r.Header)
	}
}

func TestResponseControllerMethods(t *testing.T) {
	url, _ := serve(t, &Server{WriteTimeout: time.Minute, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for name, err := range map[string]error{
			"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
			"SetWriteDeadline": rc.SetWriteDeadline(time.Now().Add(time.Minute)),
			"EnableFullDuplex": rc.EnableFullDuplex(),
		} {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})})
	for range 3 { // the deadlines set by the handler must not leak into the next request
		resp, err := newClient().Post(url, "text/plain", strings.NewReader("abc"))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "abc" {
			t.Fatalf("%q", got)
		}
	}
}

// syncBuffer is a log sink tests can read while servers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPanicRecovered(t *testing.T) {
	var logs syncBuffer
	url, _ := serve(t, &Server{
		ErrorLog: slog.New(slog.NewTextHandler(&logs, nil)),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/abort":
				panic(http.ErrAbortHandler)
			case "/after-write":
				_, _ = io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic("late boom")
			}
			panic("boom")
		}),
	})
	resp, err := newClient().Get(url + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || !resp.Close {
		t.Errorf("panic: %d close=%v, want 500 and close", resp.StatusCode, resp.Close)
	}
	if l := logs.String(); !strings.Contains(l, "boom") || !strings.Contains(l, "TestPanicRecovered") {
		t.Errorf("panic not logged with a stack: %s", l)
	}

	if _, err := newClient().Get(url + "/abort"); err == nil {
		t.Error("ErrAbortHandler: want the connection dropped without an answer")
	}
	if strings.Count(logs.String(), "panic serving") != 1 {
		t.Errorf("ErrAbortHandler was logged: %s", logs.String())
	}

	resp, err = newClient().Get(url + "/after-write")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("panic after a flush: want a truncated answer")
	}
}

func TestSuperfluousWriteHeaderLogged(t *testing.T) {
	var logs syncBuffer
	url, _ := serve(t, &Server{
		ErrorLog: slog.New(slog.NewTextHandler(&logs, nil)),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
		}),
	})
	resp, err := newClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d", resp.StatusCode)
	}
	if l := logs.String(); !strings.Contains(l, "superfluous WriteHeader") || !strings.Contains(l, "TestSuperfluousWriteHeaderLogged") {
		t.Errorf("log: %s", l)
	}
}

// Shutdown closes idle connections at once but waits for a POST whose
// body is still arriving, which then completes normally.
func TestShutdownWaitsForInFlightPOST(t *testing.T) {
	inHandler := make(chan struct{}, 1)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			inHandler <- struct{}{}
		}
		echoBody(w, r)
	})}
	url, _ := serve(t, srv)

	idle, idleBr := dial(t, url)
	write(t, idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(idleBr, nil); err != nil {
		t.Fatal(err)
	} else {
		_, _ = io.ReadAll(resp.Body)
	}

	busy, busyBr := dial(t, url)
	write(t, busy, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
	<-inHandler // accepted and reading its body

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	// The idle connection is closed...
	if _, err := idleBr.ReadByte(); err == nil {
		t.Fatal("idle connection still open during Shutdown")
	}
	// ...new ones are refused...
	waitUntil(t, func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// ...and the busy one is waited for.
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	write(t, busy, "world")
	resp, err := http.ReadResponse(busyBr, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "helloworld" || !resp.Close {
		t.Errorf("in-flight POST: %q close=%v", got, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := srv.Serve(listen(t)); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

func TestShutdownContextExpires(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })}
	url, _ := serve(t, srv)
	nc, _ := dial(t, url)
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, func() bool { return connsInState(srv, stateActive) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown: %v, want context.Canceled", err)
	}
}

func connsInState(s *Server, st int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.state.Load() == st {
			n++
		}
	}
	return n
}

// expectClosed waits (bounded) for the server to close the connection.
func expectClosed(t *testing.T, nc net.Conn, br *bufio.Reader) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(bound))
	if _, err := io.ReadAll(br); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection still open")
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	url, _ := serve(t, &Server{IdleTimeout: 50 * time.Millisecond, Handler: http.HandlerFunc(echoBody)})
	nc, br := dial(t, url)
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	expectClosed(t, nc, br)
}

func TestReadHeaderTimeout(t *testing.T) {
	url, _ := serve(t, &Server{ReadHeaderTimeout: 50 * time.Millisecond, IdleTimeout: time.Hour, Handler: http.HandlerFunc(echoBody)})
	t.Run("silent new connection", func(t *testing.T) {
		nc, br := dial(t, url)
		expectClosed(t, nc, br)
	})
	t.Run("slow header", func(t *testing.T) {
		nc, br := dial(t, url)
		write(t, nc, "GET / HTTP/1.1\r\nHo")
		expectClosed(t, nc, br)
	})
	t.Run("slow second header", func(t *testing.T) {
		nc, br := dial(t, url)
		write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHo")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		expectClosed(t, nc, br)
	})
}

func TestReadTimeoutCutsSlowBody(t *testing.T) {
	bodyErr := make(chan error, 1)
	ctxErr := make(chan error, 1)
	url, _ := serve(t, &Server{ReadTimeout: 50 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		bodyErr <- err
		ctxErr <- r.Context().Err()
	})})
	nc, br := dial(t, url)
	write(t, nc, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
	if err := <-bodyErr; err == nil {
		t.Error("slow body read without error")
	}
	if err := <-ctxErr; err == nil {
		t.Error("context live after the body read failed")
	}
	expectClosed(t, nc, br)
}

func TestWriteTimeoutUnblocksHandler(t *testing.T) {
	writeErr := make(chan error, 1)
	url, _ := serve(t, &Server{WriteTimeout: 100 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
	})})
	nc, _ := dial(t, url)
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	// Never read: the server's writes block until the deadline.
	select {
	case err := <-writeErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("write error %v, want a timeout", err)
		}
	case <-time.After(bound):
		t.Fatal("handler still writing")
	}
}

func TestCloseEndsEverything(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := &Server{ErrorLog: slog.New(slog.DiscardHandler), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})}
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	nc, br := dial(t, "http://"+ln.Addr().String())
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, func() bool { return connsInState(srv, stateActive) == 1 })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	expectClosed(t, nc, br)
}
