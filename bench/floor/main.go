// Command floor is the least a Go net/http server can do for the bench's
// request: read the 1 KB body and answer a fixed 415 problem document of
// the size pinpoint's denial has, with no routing, no layers and no
// trace. Its row in bench/run.sh is the floor under any gateway built on
// net/http on this machine: what Go's server, the runtime and the
// system calls cost per request before the gateway does anything.
//
//	go build -o /tmp/floor ./bench/floor && taskset -c 0 /tmp/floor 127.0.0.1:18082
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// problem is shaped like pinpoint's 415 body (same members, similar size).
const problem = `{"type":"/_pinpoint/denials/unsupported_media_type","title":"Unsupported media type","status":415,` +
	`"detail":"This route accepts text/plain; the request sent application/json.","instance":"/denied",` +
	`"request_id":"01kb0000000000000000000000","layer":"request","code":"unsupported_media_type",` +
	`"hint":"Send the body as one of the accepted content types."}`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor 127.0.0.1:PORT")
		os.Exit(2)
	}
	host, _, err := net.SplitHostPort(os.Args[1])
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "floor listens on loopback only, got %q\n", os.Args[1])
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
	fmt.Fprintln(os.Stderr, http.ListenAndServe(os.Args[1], h))
	os.Exit(1)
}
