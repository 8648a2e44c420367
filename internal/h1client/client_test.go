package h1client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.HandlerFunc, setup ...func(*http.Server)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	for _, f := range setup {
		f(srv.Config)
	}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// post is a POST with an in-memory body, as the gateway sends it.
func post(t *testing.T, ctx context.Context, rawURL, body string) *http.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(body)
	req := (&http.Request{
		Method: http.MethodPost, URL: u, Host: u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(b)),
		Body: NewBytes(b),
	}).WithContext(ctx)
	return req
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return string(b)
}

func TestKeepAliveReusesOneConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), b)
	})
	c := &Client{}
	defer c.Close()
	for i := range 5 {
		resp, err := c.RoundTrip(post(t, context.Background(), srv.URL+"/orders?n="+fmt.Sprint(i), `{"i":`+fmt.Sprint(i)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := readAll(t, resp), fmt.Sprintf(`POST /orders?n=%d {"i":%d}`, i, i); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential requests, want 1", n)
	}
}

// An upstream that closes idle connections (its idle timeout) must not
// make the next request fail: the closed connection is noticed before
// reuse, and a POST is sent once, on a fresh connection.
func TestClosedIdleConnectionIsNotUsed(t *testing.T) {
	var posts atomic.Int32
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		io.WriteString(w, "ok")
	}, func(s *http.Server) { s.IdleTimeout = 50 * time.Millisecond })
	c := &Client{}
	defer c.Close()
	for range 3 {
		resp, err := c.RoundTrip(post(t, context.Background(), srv.URL+"/", "{}"))
		if err != nil {
			t.Fatalf("request after the upstream closed the idle connection: %v", err)
		}
		readAll(t, resp)
		time.Sleep(200 * time.Millisecond) // the server closes the idle connection
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (each idle one closed by the server)", n)
	}
	if n := posts.Load(); n != 3 {
		t.Errorf("upstream saw %d POSTs, want exactly 3", n)
	}
}

func TestResponseHeaderTimeoutIsATimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c := &Client{ResponseHeaderTimeout: 100 * time.Millisecond}
	defer c.Close()
	start := time.Now()
	_, err := c.RoundTrip(post(t, context.Background(), srv.URL+"/", "{}"))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("error %v, want a header timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed out after %s", d)
	}
}

func TestContextCancelStopsTheWait(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c := &Client{}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.RoundTrip(post(t, ctx, srv.URL+"/", "{}"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}

// A response body streams: the first event arrives before the upstream
// finishes (server-sent events), and cancelling mid-body ends the read.
func TestBodyStreamsAndCancelEndsIt(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := &Client{ResponseHeaderTimeout: 50 * time.Millisecond}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := c.RoundTrip(post(t, ctx, srv.URL+"/", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:n]) != "data: one\n\n" {
		t.Fatalf("first event %q, %v", buf[:n], err)
	}
	// Longer than the header timeout: the body has no such bound.
	time.Sleep(150 * time.Millisecond)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := resp.Body.Read(buf); err == nil {
		t.Fatal("read after cancel returned no error")
	}
	resp.Body.Close()
}

func TestConnectionCloseIsNotPooled(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	c := &Client{}
	defer c.Close()
	for range 2 {
		resp, err := c.RoundTrip(post(t, context.Background(), srv.URL+"/", "{}"))
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp); got != "bye" {
			t.Errorf("body %q", got)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (Connection: close)", n)
	}
}

func TestUnreadBodyClosesTheConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 64<<10))
	})
	c := &Client{}
	defer c.Close()
	for range 2 {
		resp, err := c.RoundTrip(post(t, context.Background(), srv.URL+"/", "{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // nothing read
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: an abandoned body's connection is not reused", n)
	}
}

// rawServer answers each connection with canned bytes after reading one
// request head, for framing the standard server would not produce.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				buf := make([]byte, 4096)
				n := 0
				for !bytes.Contains(buf[:n], []byte("\r\n\r\n{}")) {
					m, err := nc.Read(buf[n:])
					if err != nil {
						return
					}
					n += m
				}
				io.WriteString(nc, answer)
				time.Sleep(100 * time.Millisecond)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// Framing the standard server does not produce: 1xx informational
// answers (103 Early Hints) before the real one are skipped; bytes after
// a complete response break the framing, so that connection is not
// pooled and the next request gets a fresh one rather than reading the
// stray bytes as its answer.
func TestUnusualFraming(t *testing.T) {
	for name, c := range map[string]struct {
		answer   string
		status   int
		requests int
	}{
		// rawServer answers once per connection: one request.
		"early hints": {"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 201, 1},
		"stray bytes": {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n", 200, 2},
	} {
		base := rawServer(t, c.answer)
		cl := &Client{}
		for range c.requests {
			resp, err := cl.RoundTrip(post(t, context.Background(), base+"/", "{}"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if body := readAll(t, resp); resp.StatusCode != c.status || body != "ok" {
				t.Fatalf("%s: status %d body %q", name, resp.StatusCode, body)
			}
		}
		cl.Close()
	}
}

func TestUnreachableIsADialError(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c := &Client{}
	_, err := c.RoundTrip(post(t, context.Background(), "http://"+addr+"/", "{}"))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("error %v, want a dial error", err)
	}
}

type recordingRT struct{ n atomic.Int32 }

func (r *recordingRT) RoundTrip(*http.Request) (*http.Response, error) {
	r.n.Add(1)
	return &http.Response{StatusCode: 299, Body: http.NoBody}, nil
}

func TestFallbackTakesWhatTheClientDoesNot(t *testing.T) {
	fb := &recordingRT{}
	c := &Client{Fallback: fb}
	mk := func(raw string, h http.Header, body io.ReadCloser) *http.Request {
		u, _ := url.Parse(raw)
		if h == nil {
			h = http.Header{}
		}
		return &http.Request{Method: "POST", URL: u, Header: h, Body: body, ContentLength: -1}
	}
	streamed := io.NopCloser(strings.NewReader("stream"))
	for name, req := range map[string]*http.Request{
		"https":    mk("https://127.0.0.1:1/", nil, nil),
		"upgrade":  mk("http://127.0.0.1:1/", http.Header{"Upgrade": {"websocket"}}, nil),
		"expect":   mk("http://127.0.0.1:1/", http.Header{"Expect": {"100-continue"}}, nil),
		"streamed": mk("http://127.0.0.1:1/", nil, streamed),
	} {
		before := fb.n.Load()
		resp, err := c.RoundTrip(req)
		if err != nil || resp.StatusCode != 299 || fb.n.Load() != before+1 {
			t.Errorf("%s: not handed to the fallback (%v)", name, err)
		}
	}
}
