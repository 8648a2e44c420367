package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Upstream is the demo's backend: it echoes what reached it, streams
// server-sent events, answers slowly, and denies on its own.
func Upstream() http.Handler {
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"upstream":        "demo",
			"method":          r.Method,
			"path":            r.URL.Path,
			"request_id":      r.Header.Get("Pinpoint-Request-Id"),
			"x_forwarded_for": r.Header.Get("X-Forwarded-For"),
			"body_bytes":      len(body),
			"received":        json.RawMessage(jsonOrString(body)),
		})
	}
	mux.HandleFunc("/", echo)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			return
		}
		echo(w, r)
	})
	mux.HandleFunc("/legacy/", func(w http.ResponseWriter, r *http.Request) {
		// The upstream's own denial, in its own format: the gateway passes
		// it through and marks it Pinpoint-Denied-By: upstream.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintln(w, "legacy app: account locked by the upstream's own rules")
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		// An answer no proxy may pass on: two Content-Lengths that
		// disagree, the framing fault behind response splitting. net/http
		// would refuse to write it, so it is written raw.
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "cannot hijack", http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nContent-Length: 12\r\n\r\nhello, world")
		_ = bw.Flush()
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n <= 0 || n > 20 {
			n = 3
		}
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "data: {\"event\": %d}\n\n", i)
			_ = rc.Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})
	return mux
}

func jsonOrString(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}
