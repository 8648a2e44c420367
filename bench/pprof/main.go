// Command pprof is pinpoint with Go's profiler on a loopback address, for
// profiling the gateway under bench/run.sh's load:
//
//	go build -o /tmp/pinpoint-pprof ./bench/pprof
//	PINPOINT_PPROF=127.0.0.1:6060 taskset -c 0 /tmp/pinpoint-pprof serve -c cfg.yaml
//	go tool pprof -top 'http://127.0.0.1:6060/debug/pprof/profile?seconds=10'
//
// It is a separate binary so that the shipped one has no profiling
// endpoint to expose by mistake.
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux.
	"os"

	"pinpoint/internal/cli"
)

func main() {
	if addr := os.Getenv("PINPOINT_PPROF"); addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(os.Stderr, "PINPOINT_PPROF must be a loopback host:port, got %q\n", addr)
			os.Exit(2)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pprof listener:", err)
			os.Exit(2)
		}
		go func() { _ = http.Serve(ln, nil) }()
	}
	os.Exit(cli.Main(os.Args[1:]))
}
