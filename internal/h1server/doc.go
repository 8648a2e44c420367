// Package h1server is the gateway's server for plain-TCP HTTP/1.1 (and
// 1.0) listeners: it runs any http.Handler, with net/http's parsing,
// framing and connection rules, for about two thirds of net/http's CPU
// per request.
//
// # Why
//
// On the bench's 1 KB JSON POST answered with a small 415, net/http's
// server spends 10-14 µs of CPU per request (depending on the machine's
// load) where a bare read/write loop spends about 8 µs (bench/floor,
// internal/h1server/cmd/h1floor). Its
// overhead is per-request machinery: a goroutine started for a
// background read after every request and stopped again with a
// deadline, context.WithCancel, a cloned header map, a textproto reader
// and a dozen allocations to parse the request, the chunkWriter's
// layers, three or four SetReadDeadline calls (each one costs as much as
// the whole header parse). This server keeps what correctness needs and
// drops the rest; h1floor measures it at the bare loop's cost (7-8 µs).
//
// # Design
//
// One goroutine per connection reads a request, runs the handler on
// itself and writes the answer; the connection's buffers (4 KB in, 4 KB
// out, 2 KB of held-back body) come from a pool and serve every request
// on it, as does the response state behind the ResponseWriter. A request
// costs ten allocations, three of them the handler's: the header block
// as one string that every header value slices, the header map, one
// "exchange" holding the URL, the body reader, the context, the
// ResponseWriter handle and the values' backing array, the http.Request
// that WithContext copies, and the response's header map (never reused:
// a handler's goroutine may still hold the last one).
//
//   - Parsing is its own, and strict: the request line is checked as soon
//     as it is complete, header names and values byte by byte as net/http
//     does, keys canonicalised without a copy when already canonical.
//     Framing follows net/http (one Content-Length value, duplicates only
//     if equal; Transfer-Encoding exactly "chunked", else 501; chunk lines
//     as strict as net/http's), and refuses four things net/http
//     repairs or tolerates, as an API gateway should: obs-fold,
//     Content-Length together with Transfer-Encoding,
//     Transfer-Encoding on HTTP/1.0, and a bare LF in a chunked body's
//     trailer section. FuzzParseMatchesNetHTTP checks that,
//     these aside, it accepts and refuses what net/http's server does and
//     yields the same Request fields.
//   - Deadlines are set lazily: only when a read or write could block and
//     the socket's deadline is not already right. A long timeout may fire
//     up to min(timeout/8, 1 s) late, so a busy keep-alive connection
//     re-arms its idle deadline about once a second, not per request.
//   - The response is net/http's (short bodies get a Content-Length and a
//     sniffed Content-Type, longer ones are chunked on 1.1 and
//     close-delimited on 1.0; HEAD, 1xx, 204 and 304 send no body; 1xx are
//     sent at once, and never to an HTTP/1.0 client, which would take one
//     for the final answer; trailers, declared or with
//     http.TrailerPrefix; Date, formatted once a second). WriteHeader
//     writes the status line and the handler's ordinary fields straight
//     to the output buffer, which is the snapshot net/http takes by
//     cloning the header map; the fields the server may still change are
//     kept aside until the header is completed. The Content-Length
//     written is the one the framing uses, once; Content-Length or
//     Transfer-Encoding keys set in another case are dropped.
//   - The request context is cancelled when the handler returns, when a
//     read or write of the connection fails, and when the client goes
//     away while the handler runs. For the last, net/http keeps a
//     goroutine blocked in Read during every request; here a handler that
//     has read its whole request arms a timer (watchDelay, 5 ms), and only
//     one still running then gets that goroutine. A short request costs a
//     timer reset and stop; a client that leaves is noticed within 5 ms
//     of the request's end (plus the time the kernel takes to tell). A
//     byte the watcher reads is the next pipelined request's, and is kept.
//     The context is a small type of this package (the context package's
//     AfterFunc protocol included, so derived contexts need no goroutine),
//     sparing context.WithCancel's allocations.
//   - After the handler, an unread body up to 256 KB is read and dropped
//     to keep the connection; more closes it. A 100 Continue is sent only
//     when the handler first reads the body; a body it never asked for
//     closes the connection. A handler panic is logged with its stack
//     (http.ErrAbortHandler silently), the client gets a 500 if nothing of
//     the answer was sent yet (net/http sends nothing; after
//     ErrAbortHandler this server does not either) and the connection
//     closes. Refused requests get a short plain-text 400, 417, 431, 501
//     or 505 and the connection closes, lingering up to 500 ms to drain
//     what the client still sends, so it reads the answer, not a reset.
//
// The ResponseWriter implements http.Flusher, http.Hijacker (the
// bufio.Reader holds what was read past the request) and what
// http.NewResponseController looks for: FlushError, SetReadDeadline,
// SetWriteDeadline and EnableFullDuplex. Like net/http's, it and the
// request body must not be used once the handler has returned. Since
// the response state serves the connection's next request (perhaps
// another user's, behind a proxy), the handler gets a per-request handle
// that fails from its return on, under a lock so that a late call from
// another goroutine cannot slip past; the body is closed on every path
// (reads fail with http.ErrBodyReadAfterClose) before the connection
// reuses or gives back its buffer.
//
// # What it does not do
//
// TLS, HTTP/2 (h2c prior knowledge included: "PRI * HTTP/2.0" gets 505)
// and everything net/http.Server offers beyond the fields of Server
// (ConnState hooks, ServerContextKey in the context, CloseNotifier,
// RegisterOnShutdown, keep-alives off) stay with net/http: the gateway
// uses this server only for its plain HTTP/1.1 listeners.
package h1server
