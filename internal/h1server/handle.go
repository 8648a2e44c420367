package h1server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// errHandlerReturned is what a ResponseWriter answers once its handler
// has returned.
var errHandlerReturned = errors.New("h1server: ResponseWriter used after its handler returned")

// responseHandle is the http.ResponseWriter a handler gets. The
// connection's response serves every request on it, so a handler's
// goroutine that keeps the ResponseWriter past the handler's return
// would otherwise write into (or hijack) the next request's answer, on
// a connection a front proxy may share between users. The handle lives
// in the request's exchange, one per request at no extra allocation; it
// forwards to the response until the handler returns and fails from
// then on. Its lock orders a late call with the end of the handler: the
// call either completes before the server finishes the answer, or sees
// the handler gone.
type responseHandle struct {
	mu  sync.Mutex
	res *response // nil once the handler has returned
}

var (
	_ http.ResponseWriter = (*responseHandle)(nil)
	_ http.Flusher        = (*responseHandle)(nil)
	_ http.Hijacker       = (*responseHandle)(nil)
)

// end detaches the handle from the response: the handler has returned.
func (h *responseHandle) end() {
	h.mu.Lock()
	h.res = nil
	h.mu.Unlock()
}

// Header returns the request's header map; once the handler has
// returned, a fresh map that nothing reads.
func (h *responseHandle) Header() http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return make(http.Header)
	}
	return h.res.Header()
}

func (h *responseHandle) WriteHeader(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res != nil {
		h.res.WriteHeader(code)
	}
}

func (h *responseHandle) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return 0, errHandlerReturned
	}
	return h.res.Write(p)
}

func (h *responseHandle) WriteString(s string) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return 0, errHandlerReturned
	}
	return h.res.WriteString(s)
}

func (h *responseHandle) Flush() { _ = h.FlushError() }

func (h *responseHandle) FlushError() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return errHandlerReturned
	}
	return h.res.FlushError()
}

func (h *responseHandle) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return nil, nil, errHandlerReturned
	}
	return h.res.Hijack()
}

func (h *responseHandle) SetReadDeadline(t time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return errHandlerReturned
	}
	return h.res.SetReadDeadline(t)
}

func (h *responseHandle) SetWriteDeadline(t time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return errHandlerReturned
	}
	return h.res.SetWriteDeadline(t)
}

func (h *responseHandle) EnableFullDuplex() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.res == nil {
		return errHandlerReturned
	}
	return h.res.EnableFullDuplex()
}
