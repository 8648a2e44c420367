// Command reverseproxy is Go's standard reverse proxy, as a user would set
// it up in a few lines: net/http's server, httputil.ReverseProxy and a
// Transport keeping enough idle connections for the bench's load. Its row
// in bench/run.sh puts a figure for the stock Go building blocks beside
// nginx and pinpoint, measured in the same window on the same machine.
//
//	go build -o /tmp/reverseproxy ./bench/reverseproxy
//	taskset -c 0 /tmp/reverseproxy 127.0.0.1:18083 http://127.0.0.1:18000
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: reverseproxy 127.0.0.1:PORT http://127.0.0.1:BACKEND")
		os.Exit(2)
	}
	host, _, err := net.SplitHostPort(os.Args[1])
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "reverseproxy listens on loopback only, got %q\n", os.Args[1])
		os.Exit(2)
	}
	backend, err := url.Parse(os.Args[2])
	if err != nil || backend.Scheme != "http" {
		fmt.Fprintf(os.Stderr, "backend must be an http:// URL, got %q\n", os.Args[2])
		os.Exit(2)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	rp := httputil.NewSingleHostReverseProxy(backend)
	rp.Transport = tr
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], rp))
	os.Exit(1)
}
