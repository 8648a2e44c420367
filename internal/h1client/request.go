package h1client

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/net/http/httpguts"

	"pinpoint/internal/httpfield"
)

// InMemory is implemented by a request body whose bytes are all in
// memory. The client writes such a body with the request head in one
// system call, and Takes accepts a request whose body implements it.
type InMemory interface {
	Bytes() []byte
}

// Bytes is an in-memory request body: an io.ReadCloser over b that also
// hands b to the client whole.
type Bytes struct {
	b   []byte
	off int
}

// NewBytes returns a request body over b (not copied).
func NewBytes(b []byte) *Bytes { return &Bytes{b: b} }

func (r *Bytes) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// Close does nothing: the bytes belong to the caller.
func (r *Bytes) Close() error { return nil }

// Bytes returns the whole body, whatever has been read.
func (r *Bytes) Bytes() []byte { return r.b }

// bodyBytes returns the in-memory body of req (nil for none) and whether
// req's body is in memory at all.
func bodyBytes(req *http.Request) ([]byte, bool) {
	switch b := req.Body.(type) {
	case nil:
		return nil, true
	case InMemory:
		return b.Bytes(), true
	}
	if req.Body == http.NoBody {
		return nil, true
	}
	return nil, false
}

// writeThreshold is the largest request sent from one buffer: below it
// the body is copied behind the head (a copy of a few KB costs less than
// a second iovec); above it head and body go out in one writev.
const writeThreshold = 16 << 10

// writeRequest writes req, whose body b is in memory, in one system
// call. What goes on the wire follows net/http's Request.Write for such
// a request, except that no User-Agent is added: a proxy forwards the
// client's, or none.
func (cn *conn) writeRequest(req *http.Request, b []byte) error {
	head, err := appendHead(cn.wbuf[:0], req, len(b))
	if err != nil {
		return err
	}
	if len(head)+len(b) <= writeThreshold {
		head = append(head, b...)
		cn.keepWriteBuffer(head)
		_, err = cn.nc.Write(head)
		return err
	}
	cn.keepWriteBuffer(head)
	bufs := net.Buffers{head, b}
	_, err = bufs.WriteTo(cn.nc)
	return err
}

// keepWriteBuffer keeps a grown write buffer for the connection's next
// request, unless it grew past what a usual request needs.
func (cn *conn) keepWriteBuffer(b []byte) {
	if cap(b) <= writeThreshold+bufSize {
		cn.wbuf = b[:0]
	}
}

var (
	errInvalidMethod = errors.New("h1client: invalid method")
	errInvalidHost   = errors.New("h1client: invalid Host header")
)

// appendHead appends req's request line and header section.
func appendHead(b []byte, req *http.Request, bodyLen int) ([]byte, error) {
	if !httpguts.ValidHeaderFieldName(req.Method) { // a method is a token too
		return nil, errInvalidMethod
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return nil, errInvalidHost
	}
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = appendRequestURI(b, req.URL)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	_, hasConnection := req.Header["Connection"]
	for k, vv := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			// The framing is the client's, from the body it sends.
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, &fieldError{what: "name", key: k}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, &fieldError{what: "value", key: k}
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, httpfield.TrimOWS(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if sendContentLength(req.Method, bodyLen) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(bodyLen), 10)
		b = append(b, "\r\n"...)
	}
	if req.Close && !hasConnection {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...), nil
}

// sendContentLength is net/http's rule for a body of known length:
// always when there is one, and for an empty one unless the method is
// GET or HEAD (servers expect it on the others).
func sendContentLength(method string, n int) bool {
	return n > 0 || (method != http.MethodGet && method != http.MethodHead)
}

// appendRequestURI appends u's path and query in origin form.
func appendRequestURI(b []byte, u *url.URL) []byte {
	if u.Opaque != "" {
		return append(b, u.RequestURI()...)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	b = append(b, p...)
	if u.ForceQuery || u.RawQuery != "" {
		b = append(b, '?')
		b = append(b, u.RawQuery...)
	}
	return b
}

// fieldError is a header field the client refuses to send.
type fieldError struct{ what, key string }

func (e *fieldError) Error() string {
	return "h1client: invalid header field " + e.what + " for " + strconv.Quote(e.key)
}
