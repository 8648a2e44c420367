package h1server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveMem serves one in-memory connection whose client sends in (in
// reads of at most 4 KB) and then half-closes, on base; it returns what
// the server wrote once the connection has ended, its buffers given back.
func serveMem(t *testing.T, base context.Context, h http.HandlerFunc, in string) string {
	t.Helper()
	srv := &Server{Handler: h, ErrorLog: slog.New(slog.DiscardHandler)}
	m := &memConn{in: []byte(in), chunk: readBufSize}
	c := newConn(srv, m, base)
	srv.trackConn(c, true)
	c.serve()
	return string(m.output())
}

// readAnswers parses the answers in out, which must hold exactly n.
func readAnswers(t *testing.T, out string, n int) []*http.Response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(out))
	var answers []*http.Response
	for i := range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v in %q", i, err, out)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("answer %d body: %v in %q", i, err, out)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		answers = append(answers, resp)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Fatalf("bytes after %d answers: %q", n, rest)
	}
	return answers
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// doesNotPanic runs f and fails the test if it panics.
func doesNotPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

// The connection's response serves every request on it: a handler that
// keeps its ResponseWriter (or its header map) past its return must not
// reach the next request's answer, which on a connection shared by a
// front proxy is another user's.
func TestStaleResponseWriterCannotReachNextAnswer(t *testing.T) {
	var stale http.ResponseWriter
	var staleHeader http.Header
	out := serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/one" {
			stale, staleHeader = w, w.Header()
			_, _ = io.WriteString(w, "one")
			return
		}
		staleHeader.Set("X-Leak", "map")
		stale.Header().Set("X-Leak", "header")
		if n, err := stale.Write([]byte("LEAK")); n != 0 || err == nil {
			t.Errorf("stale Write = %d, %v; want an error", n, err)
		}
		if n, err := io.WriteString(stale, "LEAK"); n != 0 || err == nil {
			t.Errorf("stale WriteString = %d, %v; want an error", n, err)
		}
		stale.WriteHeader(http.StatusTeapot)
		stale.(http.Flusher).Flush()
		if _, _, err := stale.(http.Hijacker).Hijack(); err == nil {
			t.Error("stale Hijack succeeded")
		}
		rc := http.NewResponseController(stale)
		if rc.SetReadDeadline(time.Now()) == nil || rc.SetWriteDeadline(time.Now()) == nil || rc.EnableFullDuplex() == nil {
			t.Error("stale ResponseController calls succeeded")
		}
		_, _ = io.WriteString(w, "two")
	}, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n")

	answers := readAnswers(t, out, 2)
	for i, want := range []string{"one", "two"} {
		a := answers[i]
		if got := bodyOf(a); a.StatusCode != 200 || got != want || a.Header.Get("X-Leak") != "" {
			t.Errorf("answer %d: %d %v %q, want 200 %q and no X-Leak", i, a.StatusCode, a.Header, got, want)
		}
	}
}

// The same with the late writes racing the connection's next requests
// from another goroutine (run with -race).
func TestLateGoroutineWritesNeverLeak(t *testing.T) {
	const requests = 50
	stop := make(chan struct{})
	var wg sync.WaitGroup
	in := strings.Repeat("GET /next HTTP/1.1\r\nHost: x\r\n\r\n", requests)
	out := serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			wg.Add(1)
			ctx := r.Context()
			go func() {
				defer wg.Done()
				<-ctx.Done() // the handler has returned
				for {
					select {
					case <-stop:
						return
					default:
					}
					w.Header().Set("X-Leak", "1")
					_, _ = w.Write([]byte("LEAK"))
					w.(http.Flusher).Flush()
				}
			}()
			_, _ = io.WriteString(w, "first")
			return
		}
		_, _ = io.WriteString(w, "next")
	}, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"+in)
	close(stop)
	wg.Wait()
	if strings.Contains(out, "LEAK") || strings.Contains(out, "X-Leak") {
		t.Fatalf("a late write reached the connection: %q", out)
	}
	readAnswers(t, out, requests+1)
}

// Once the connection has ended and given its buffers back, a kept
// ResponseWriter must fail, not panic (which would end the process).
func TestResponseWriterAfterConnectionEnded(t *testing.T) {
	var stale http.ResponseWriter
	serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		stale = w
		_, _ = w.Write(bytes.Repeat([]byte("x"), 5000)) // chunked: no length to refuse more
	}, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	doesNotPanic(t, "Write", func() {
		if _, err := stale.Write([]byte("late")); err == nil {
			t.Error("Write after the end succeeded")
		}
	})
	doesNotPanic(t, "Flush", func() { stale.(http.Flusher).Flush() })
	doesNotPanic(t, "WriteHeader", func() { stale.WriteHeader(http.StatusOK) })
}

// A handler that panics leaves its body undrained; a goroutine still
// reading it must get an error, not the connection's recycled buffer (or
// a slice-bounds panic that ends the process).
func TestBodyReadAfterPanicFails(t *testing.T) {
	var body io.Reader
	serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		body = r.Body
		panic(http.ErrAbortHandler)
	}, "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	doesNotPanic(t, "Read", func() {
		if n, err := body.Read(make([]byte, 10)); n != 0 || err == nil {
			t.Errorf("Read after the panic = %d, %v; want an error", n, err)
		}
	})
}

// The Content-Length written is the one the framing uses: once, as
// parsed at WriteHeader, whatever the handler's map holds by commit.
func TestContentLengthWrittenIsTheFramedOne(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"changed in place after WriteHeader": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "3")
			w.WriteHeader(http.StatusOK)
			w.Header()["Content-Length"][0] = "100"
			_, _ = io.WriteString(w, "abc")
		},
		"two values": func(w http.ResponseWriter) {
			w.Header()["Content-Length"] = []string{"3", "100"}
			_, _ = io.WriteString(w, "abc")
		},
		"non-canonical key": func(w http.ResponseWriter) {
			w.Header()["content-length"] = []string{"100"}
			_, _ = io.WriteString(w, "abc")
		},
		"non-canonical Transfer-Encoding": func(w http.ResponseWriter) {
			w.Header()["transfer-encoding"] = []string{"chunked"}
			_, _ = io.WriteString(w, "abc")
		},
	}
	for name, handle := range cases {
		t.Run(name, func(t *testing.T) {
			out := serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/one" {
					handle(w)
					return
				}
				_, _ = io.WriteString(w, "two")
			}, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n")
			head, _, _ := strings.Cut(out, "\r\n\r\n")
			if n := strings.Count(strings.ToLower(head), "content-length:"); n != 1 || strings.Contains(strings.ToLower(head), "transfer-encoding") {
				t.Errorf("first header has %d Content-Length fields: %q", n, head)
			}
			answers := readAnswers(t, out, 2)
			if got := bodyOf(answers[0]); got != "abc" || answers[0].ContentLength != 3 {
				t.Errorf("first answer: length %d, body %q", answers[0].ContentLength, got)
			}
			if got := bodyOf(answers[1]); got != "two" {
				t.Errorf("second answer: %q", got)
			}
		})
	}
}

// A request ended by its base context reports the base's error, as a
// context.WithCancel child of it would.
func TestRequestContextReportsParentError(t *testing.T) {
	base, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	var got error
	serveMem(t, base, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			got = r.Context().Err()
		case <-time.After(bound):
		}
	}, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("Err() = %v, want context.DeadlineExceeded", got)
	}
}

// scanHeader resumes its search for a line's end where the last one
// stopped, so a long header line dripped in byte by byte costs linear,
// not quadratic, time. Shown by an LF planted in bytes it has already
// searched: it must not look there again.
func TestScanHeaderDoesNotSearchAgain(t *testing.T) {
	c := &conn{rbuf: make([]byte, 256)}
	n := copy(c.rbuf, "GET / HTTP/1.1\r\nX-Long: aaaaaaaa")
	c.rend = n
	if end, perr := c.scanHeader(); end != -1 || perr != nil {
		t.Fatalf("incomplete header: %d, %v", end, perr)
	}
	lines := c.scanLines
	c.rbuf[n-4] = '\n' // in the part already searched
	c.rend += copy(c.rbuf[c.rend:], "aaaa")
	if end, perr := c.scanHeader(); end != -1 || perr != nil {
		t.Fatalf("incomplete header: %d, %v", end, perr)
	}
	if c.scanLines != lines {
		t.Fatalf("the scan searched bytes again: %d lines, want %d", c.scanLines, lines)
	}
	c.rend += copy(c.rbuf[c.rend:], "\r\n\r\n")
	if end, perr := c.scanHeader(); end != c.rend || perr != nil {
		t.Fatalf("complete header: end %d (want %d), %v", end, c.rend, perr)
	}
}

// An informational answer is not the start of the final one: a handler
// that panics after a 103 still gets its 500.
func TestPanicAfterInformationalGets500(t *testing.T) {
	out := serveMem(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		panic("boom")
	}, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	answers := readAnswers(t, out, 2)
	if answers[0].StatusCode != http.StatusEarlyHints || answers[1].StatusCode != http.StatusInternalServerError {
		t.Fatalf("answers %d, %d; want 103 then 500", answers[0].StatusCode, answers[1].StatusCode)
	}
}
