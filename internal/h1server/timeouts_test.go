package h1server

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// WriteTimeout counts from the end of the request's header, as with
// net/http: a client that connects ahead of time (a browser's
// preconnect, a pool's warm connection) and sends its first request
// later must get the whole WriteTimeout for the answer, not what is left
// of it since the accept.
func TestWriteTimeoutCountsFromTheRequest(t *testing.T) {
	const wt = 300 * time.Millisecond
	url, _ := serve(t, &Server{WriteTimeout: wt, ReadHeaderTimeout: bound, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})})
	nc, br := dial(t, url)
	time.Sleep(wt + 50*time.Millisecond) // connected, quiet
	write(t, nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("first request on a preconnected connection: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
}

// A handler that ends about when the watcher's timer fires makes stop
// and a late timer goroutine meet; the watcher's state must only change
// under its lock (go test -race finds the meeting within these rounds).
func TestWatcherStopMeetsLateTimer(t *testing.T) {
	var n atomic.Int64
	url, _ := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Around watchDelay, a little more or less each time.
		time.Sleep(watchDelay - 2*time.Millisecond + time.Duration(n.Add(1)%9)*500*time.Microsecond)
		_, _ = io.WriteString(w, "ok")
	})})
	var wg sync.WaitGroup
	for range 8 {
		nc, br := dial(t, url)
		wg.Go(func() {
			for i := range 40 {
				if _, err := io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
					t.Errorf("request %d: body %q", i, b)
					return
				}
			}
		})
	}
	wg.Wait()
}
