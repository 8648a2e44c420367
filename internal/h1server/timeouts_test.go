package h1server

import (
	"io"
	"net/http"
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
