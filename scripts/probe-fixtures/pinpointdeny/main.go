// Command pinpointdeny serves pinpoint's own denial responses on
// loopback so capture.sh can record them with curl exactly as a client
// sees them. It uses verdict.Write, the gateway's only denial renderer,
// so the fixture cannot drift from what the gateway really sends.
package main

import (
	"flag"
	"log"
	"net/http"

	"pinpoint/internal/verdict"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "loopback address to listen on")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/orders", func(w http.ResponseWriter, r *http.Request) {
		v := verdict.Denied("key_expired", "key:k_7f3a", "The API key k_7f3a expired on 2025-01-31.")
		v.Layer = "authn"
		verdict.Write(w, r, v, "01JCAPTUREKEYEXPIRED0000000", verdict.Problem)
	})
	mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		v := verdict.Denied("waf_blocked", "942100", "The request matched a SQL injection rule.")
		v.Layer = "waf"
		verdict.Write(w, r, v, "01JCAPTUREWAFBLOCKED0000000", verdict.Problem)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
