package h1server

import (
	"bufio"
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// floorProblem is shaped like pinpoint's 415 body, as in bench/floor.
const floorProblem = `{"type":"/_pinpoint/denials/unsupported_media_type","title":"Unsupported media type","status":415,` +
	`"detail":"This route accepts text/plain; the request sent application/json.","instance":"/denied",` +
	`"request_id":"01kb0000000000000000000000","layer":"request","code":"unsupported_media_type",` +
	`"hint":"Send the body as one of the accepted content types."}`

// floorHandler is bench/floor's handler: read the body, deny with 415.
var floorHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Pinpoint-Request-Id", "01kb0000000000000000000000")
	w.Header().Set("Pinpoint-Denied-By", "gateway")
	w.WriteHeader(http.StatusUnsupportedMediaType)
	_, _ = io.WriteString(w, floorProblem)
})

// BenchmarkFloor is bench/floor's load in one process: 32 keep-alive
// connections POSTing 1 KB of JSON, served by net/http ("std") or by
// h1server ("h1"). The clients are raw and allocate nothing, but they
// share the process: ns/op, B/op and cpu-µs/op (getrusage, user+system)
// include their work, so compare the two servers, not absolute figures.
// For the server's own CPU per request use cmd/h1floor under wrk.
func BenchmarkFloor(b *testing.B) {
	body := strings.Repeat(`{"k":"0123456789abcdef"},`, 41)[:1000]
	body = `[` + body[:len(body)-2] + `]` + strings.Repeat(" ", 1024-len(body))
	req := "POST /denied HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	for _, e := range []string{"std", "h1"} {
		b.Run(e, func(b *testing.B) {
			ln := listen(b)
			if e == "std" {
				srv := &http.Server{Handler: floorHandler, ErrorLog: log.New(io.Discard, "", 0)}
				go func() { _ = srv.Serve(ln) }()
				defer srv.Close()
			} else {
				srv := &Server{Handler: floorHandler, ErrorLog: slog.New(slog.DiscardHandler)}
				go func() { _ = srv.Serve(ln) }()
				defer srv.Close()
			}
			runFloorClients(b, ln.Addr().String(), req, 32)
		})
	}
}

func runFloorClients(b *testing.B, addr, req string, conns int) {
	// Learn the answer's size once: it is the same every time (the
	// Date field has a fixed width).
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.WriteString(nc, req); err != nil {
		b.Fatal(err)
	}
	cr := &countingReader{r: nc}
	resp, err := http.ReadResponse(bufio.NewReaderSize(cr, 1), nil)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	nc.Close()
	size := cr.n
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		b.Fatalf("status %d", resp.StatusCode)
	}

	clients := make([]net.Conn, conns)
	for i := range clients {
		if clients[i], err = net.Dial("tcp", addr); err != nil {
			b.Fatal(err)
		}
		defer clients[i].Close()
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	reqBytes := []byte(req)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			for left.Add(-1) >= 0 {
				if _, err := c.Write(reqBytes); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseRequest is the header parser alone on the bench's
// request header.
func BenchmarkParseRequest(b *testing.B) {
	block := "POST /denied HTTP/1.1\r\nHost: 127.0.0.1:18082\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n"
	c := &conn{srv: &Server{}, remoteAddr: "127.0.0.1:1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, perr := c.parseRequest(block, 4, new(exchange)); perr != nil {
			b.Fatal(perr)
		}
	}
}

// BenchmarkDrippedHeaderLine is a client sending one long header line
// (60 KB, under the gateway's 64 KB default limit) 16 bytes per read:
// the header scan must not search the line again for every read.
func BenchmarkDrippedHeaderLine(b *testing.B) {
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + strings.Repeat("a", 60<<10) + "\r\n\r\n")
	srv := &Server{
		Handler:        http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.New(slog.DiscardHandler),
	}
	b.ReportAllocs()
	for b.Loop() {
		c := newConn(srv, &memConn{in: req, chunk: 16}, context.Background())
		srv.trackConn(c, true)
		c.serve()
	}
}
