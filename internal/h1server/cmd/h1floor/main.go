// Command h1floor is bench/floor with a choice of server: the least a Go
// server costs for the bench's request (read the 1 KB body, answer the
// fixed 415 problem document), served by h1server or by net/http, so the
// two can be measured the same way (CPU per request from /proc/PID/stat
// under wrk, as bench/run.sh does).
//
//	go build -o /tmp/h1floor ./internal/h1server/cmd/h1floor
//	taskset -c 0 /tmp/h1floor -addr 127.0.0.1:18082 -engine h1
//	taskset -c 1 wrk -t1 -c32 -d8s -s bench/post.lua http://127.0.0.1:18082/ -- bench/body.json
//
// With -gateway-timeouts both servers get the gateway listener's
// settings (10 s header timeout, 120 s idle timeout, 64 KB header limit)
// instead of bench/floor's bare defaults.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"pinpoint/internal/h1server"
)

// problem is shaped like pinpoint's 415 body (same members, similar size).
const problem = `{"type":"/_pinpoint/denials/unsupported_media_type","title":"Unsupported media type","status":415,` +
	`"detail":"This route accepts text/plain; the request sent application/json.","instance":"/denied",` +
	`"request_id":"01kb0000000000000000000000","layer":"request","code":"unsupported_media_type",` +
	`"hint":"Send the body as one of the accepted content types."}`

func main() {
	addr := flag.String("addr", "127.0.0.1:18082", "loopback address to listen on")
	engine := flag.String("engine", "h1", "server: h1 (h1server) or std (net/http)")
	gatewayTimeouts := flag.Bool("gateway-timeouts", false, "use the gateway listener's timeouts and header limit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGINT or SIGTERM")
	flag.Parse()
	if *cpuProfile != "" {
		stop := profile(*cpuProfile)
		defer stop()
	}

	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "h1floor listens on loopback only, got %q\n", *addr)
		os.Exit(2)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Pinpoint-Request-Id", "01kb0000000000000000000000")
		w.Header().Set("Pinpoint-Denied-By", "gateway")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		_, _ = io.WriteString(w, problem)
	})
	var headerTimeout, idleTimeout time.Duration
	var maxHeader int
	if *gatewayTimeouts {
		headerTimeout, idleTimeout, maxHeader = 10*time.Second, 120*time.Second, 64<<10
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch *engine {
	case "h1":
		srv := &h1server.Server{Handler: h, ReadHeaderTimeout: headerTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeader}
		err = srv.Serve(ln)
	case "std":
		srv := &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeader}
		err = srv.Serve(ln)
	default:
		fmt.Fprintf(os.Stderr, "unknown -engine %q (h1 or std)\n", *engine)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, err)
}

// profile writes a CPU profile to path; the returned func, also run on
// SIGINT or SIGTERM (which then close the listener's process), ends it.
func profile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		stop()
		os.Exit(0)
	}()
	return stop
}
