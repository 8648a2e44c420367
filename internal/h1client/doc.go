// Package h1client is the gateway's HTTP/1.1 client for plain-HTTP
// upstreams: keep-alive connections in a pool, with each exchange run on
// the calling goroutine.
//
// net/http's Transport gives every connection a reader and a writer
// goroutine and hands each request and response between them over
// channels; for a small proxied request that machinery costs about as
// much CPU as the two system calls the exchange needs (measured on
// loopback: ~23 µs per 1 KB POST through Transport, ~12 µs on the
// caller's goroutine). This client keeps the parsing and framing of
// net/http (Request.Write, http.ReadResponse) and drops the machinery.
//
// It takes only what it can do simply and safely: http:// URLs, requests
// without Upgrade or Expect, and bodies that are absent or already in
// memory (so a body is written whole and never raced against an early
// answer). Everything else goes to the Fallback round tripper. A pooled
// connection is checked before reuse (one non-blocking peek), so a
// connection the upstream closed while idle is never used, and a request
// is never resent on a second connection: a POST is not retried here.
package h1client
