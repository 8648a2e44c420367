package h1server

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the state behind the http.ResponseWriter. One per
// connection, reset for each request; handlers reach it only through
// their request's responseHandle, which lets go of it when the handler
// returns.
//
// Output flows as in net/http, minus its goroutines and copies: body
// bytes wait in pending (bufferBeforeChunking) so that a short body gets
// a Content-Length; then the header is completed ("committed") in the
// connection's output buffer, followed by the body, chunked if its
// length is unknown. WriteHeader writes the status line and the
// handler's ordinary fields at once, which is the snapshot net/http
// takes by cloning the header map; the fields the server may still
// change (framing, Connection, Content-Type) are kept aside until commit.
type response struct {
	c      *conn
	header http.Header // the handler's, made on demand, one per request

	status      int
	wroteHeader bool // WriteHeader happened (the header is decided)
	committed   bool // the whole header is in the output buffer
	flushed     bool // bytes of this response reached the connection
	start       int  // where this response begins in the output buffer
	chunking    bool
	handlerDone bool
	closeAfter  bool
	fullDuplex  bool
	info        reqInfo
	isHEAD      bool

	contentLength int64 // declared or computed body length; -1 unknown
	written       int64 // body bytes the handler wrote
	pending       []byte

	// Fields kept aside at WriteHeader, written (or dropped) at commit.
	cl, te, ct, conn             []string
	hasCL, hasTE, hasCT, hasConn bool
	hasCE                        bool // a non-empty Content-Encoding
	hasDate                      bool
	upgrade                      bool // an Upgrade field is set
	anyTrailer                   bool
	trailers                     []string // declared trailer keys

	panicValue any
}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
	_ http.Hijacker       = (*response)(nil)
)

func (r *response) reset(req *http.Request, info reqInfo) {
	c := r.c
	trailers := r.trailers[:0]
	// The header map is the request's own (made by Header when asked
	// for): a handler's goroutine may hold the last one.
	*r = response{c: c, info: info, trailers: trailers}
	r.contentLength = -1
	r.isHEAD = req.Method == "HEAD"
	r.pending = c.bufs.pending[:0]
	r.start = len(c.wbuf)
	c.lastWrite = time.Time{}
	c.canContinue.Store(info.expectContinue)
}

func (r *response) Header() http.Header {
	if r.header == nil {
		r.header = make(http.Header)
	}
	return r.header
}

func (r *response) WriteHeader(code int) {
	if r.c.hijacked.Load() {
		r.logMisuse("WriteHeader on a hijacked connection")
		return
	}
	if r.wroteHeader {
		r.logMisuse("superfluous WriteHeader call")
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 101 || code > 199 {
		r.disableContinue()
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		r.writeInformational(code)
		return
	}
	r.wroteHeader = true
	r.status = code
	if cl := r.header.Get("Content-Length"); cl != "" {
		if n, ok := parseContentLength(cl); ok {
			r.contentLength = n
		} else {
			r.c.srv.logger().Warn("h1server: handler set an invalid Content-Length; dropped", "value", cl)
			r.header.Del("Content-Length")
		}
	}
	r.takeHeader()
}

// writeInformational sends a 1xx answer at once (RFC 8297: the header
// map is not cleared, the handler decides what follows).
func (r *response) writeInformational(code int) {
	c := r.c
	if !r.info.is11 {
		// RFC 9110 15.2: never to an HTTP/1.0 client, which would
		// take it for the final answer and the real one for the next
		// request's (a reverse proxy relays an upstream's 103).
		return
	}
	if r.info.expectContinue {
		c.continueMu.Lock()
		defer c.continueMu.Unlock()
	}
	c.wbuf = appendStatusLine(c.wbuf, r.info.is11, code)
	c.wbuf = r.appendFields(c.wbuf, r.sortedKeys(func(k string) bool {
		return k != "Content-Length" && k != "Transfer-Encoding" && !isFramingAlias(k)
	}))
	c.wbuf = append(c.wbuf, "\r\n"...)
	_ = c.flush()
	// Nothing of the final answer is out yet: a panic still gets a 500.
	r.start = len(c.wbuf)
	r.flushed = false
}

// takeHeader writes the status line and the handler's ordinary fields
// to the output buffer, and keeps aside the ones commit decides on.
func (r *response) takeHeader() {
	c := r.c
	r.start = len(c.wbuf)
	c.wbuf = appendStatusLine(c.wbuf, r.info.is11, r.status)
	keys := c.keys[:0]
	for k, vv := range r.header {
		switch k {
		case "Content-Length":
			r.cl, r.hasCL = vv, true
			continue
		case "Transfer-Encoding":
			r.te, r.hasTE = vv, true
			continue
		case "Content-Type":
			r.ct, r.hasCT = vv, true
			continue
		case "Connection":
			r.conn, r.hasConn = vv, true
			continue
		case "Content-Encoding":
			r.hasCE = len(vv) > 0 && vv[0] != ""
		case "Date":
			r.hasDate = true
		case "Upgrade":
			r.upgrade = len(vv) > 0 && vv[0] != ""
		case "Trailer":
			for _, v := range vv {
				r.anyTrailer = true
				r.declareTrailers(v)
			}
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			r.anyTrailer = true
			continue
		}
		if isFramingAlias(k) {
			r.logMisuse("non-canonical " + k + " field dropped")
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	c.wbuf = r.appendFields(c.wbuf, keys)
	c.keys = keys[:0]
}

// isFramingAlias reports whether k is Content-Length or
// Transfer-Encoding spelt in another case, a key set directly in the
// header map. The server would write it as it is, next to the framing
// it decides on, and a client or proxy that reads that one instead
// would split the connection's answers elsewhere than the server does.
func isFramingAlias(k string) bool {
	switch len(k) {
	case len("Content-Length"):
		return k != "Content-Length" && asciiEqualFold(k, "Content-Length")
	case len("Transfer-Encoding"):
		return k != "Transfer-Encoding" && asciiEqualFold(k, "Transfer-Encoding")
	}
	return false
}

func (r *response) declareTrailers(v string) {
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if k := http.CanonicalHeaderKey(f); httpguts.ValidTrailerHeader(k) {
			r.trailers = append(r.trailers, k)
		}
	}
}

func (r *response) sortedKeys(keep func(string) bool) []string {
	keys := r.c.keys[:0]
	for k := range r.header {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	r.c.keys = keys[:0]
	return keys
}

func (r *response) appendFields(b []byte, keys []string) []byte {
	for _, k := range keys {
		b = appendField(b, k, r.header[k])
	}
	return b
}

// appendField writes k's values as net/http does: an invalid name is
// dropped, a CR or LF in a value becomes a space, and values are
// trimmed.
func appendField(b []byte, k string, vv []string) []byte {
	if !httpguts.ValidHeaderFieldName(k) {
		return b
	}
	for _, v := range vv {
		b = append(b, k...)
		b = append(b, ": "...)
		b = appendValue(b, v)
		b = append(b, "\r\n"...)
	}
	return b
}

func appendValue(b []byte, v string) []byte {
	for len(v) > 0 && isASCIISpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isASCIISpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	if strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}

func isASCIISpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func appendStatusLine(b []byte, is11 bool, code int) []byte {
	if is11 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	if text := http.StatusText(code); text != "" {
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, ' ')
		b = append(b, text...)
		return append(b, "\r\n"...)
	}
	return fmt.Appendf(b, "%03d status code %d\r\n", code, code)
}

func (r *response) Write(p []byte) (int, error) {
	if err := r.beforeWrite(len(p)); err != nil || len(p) == 0 {
		return 0, err
	}
	n := len(p)
	// As bufio.Writer: fill pending, emit it when full; a large write
	// with nothing pending goes out directly.
	for len(p) > cap(r.pending)-len(r.pending) {
		if len(r.pending) == 0 {
			r.emit(p)
			return n, r.c.werr
		}
		k := copy(r.pending[len(r.pending):cap(r.pending)], p)
		r.pending = r.pending[:len(r.pending)+k]
		p = p[k:]
		r.emitPending()
	}
	r.pending = append(r.pending, p...)
	return n, r.c.werr
}

// WriteString spares io.WriteString the copy of s into a new slice.
func (r *response) WriteString(s string) (int, error) {
	if err := r.beforeWrite(len(s)); err != nil || len(s) == 0 {
		return 0, err
	}
	n := len(s)
	for len(s) > cap(r.pending)-len(r.pending) {
		k := copy(r.pending[len(r.pending):cap(r.pending)], s)
		r.pending = r.pending[:len(r.pending)+k]
		s = s[k:]
		r.emitPending()
	}
	r.pending = append(r.pending, s...)
	return n, r.c.werr
}

// beforeWrite does what net/http does before buffering body bytes.
func (r *response) beforeWrite(n int) error {
	if r.c.hijacked.Load() {
		if n > 0 {
			r.logMisuse("Write on a hijacked connection")
		}
		return http.ErrHijacked
	}
	if r.c.canContinue.Load() {
		r.disableContinue()
	}
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return nil
	}
	if !bodyAllowedForStatus(r.status) {
		return http.ErrBodyNotAllowed
	}
	r.written += int64(n)
	if r.contentLength != -1 && r.written > r.contentLength {
		return http.ErrContentLength
	}
	return r.c.werr
}

func (r *response) emitPending() {
	r.emit(r.pending)
	r.pending = r.pending[:0]
}

// emit sends body bytes on: commit the header first if needed, then
// frame them.
func (r *response) emit(p []byte) {
	if !r.committed {
		r.commit(p)
	}
	if len(p) == 0 || r.isHEAD || !bodyAllowedForStatus(r.status) {
		return
	}
	c := r.c
	if r.chunking {
		c.wbuf = strconv.AppendUint(c.wbuf, uint64(len(p)), 16)
		c.wbuf = append(c.wbuf, "\r\n"...)
		_ = c.appendOut(p)
		c.wbuf = append(c.wbuf, "\r\n"...)
		return
	}
	_ = c.appendOut(p)
}

// commit completes the header, deciding framing and connection reuse as
// net/http's chunkWriter.writeHeader does. p is the body's first bytes
// (all of it when the handler is done).
func (r *response) commit(p []byte) {
	r.committed = true
	c := r.c
	keepAlives := !c.srv.shuttingDown()
	te := firstValue(r.te)
	hasTE := te != ""
	trailers := r.anyTrailer
	setCL := int64(-1) // a Content-Length the server adds
	var setCT, setConn, setTE string
	dropCL, dropTE, dropCT, dropConn := false, false, false, false

	if r.handlerDone && !trailers && !hasTE && bodyAllowedForStatus(r.status) && !r.hasCL && (!r.isHEAD || len(p) > 0) {
		r.contentLength = int64(len(p))
		setCL = int64(len(p))
	}
	if r.info.wants10KeepAlive && keepAlives && firstValue(r.cl) != "" && firstValue(r.conn) == "keep-alive" {
		r.closeAfter = false
	}
	hasCL := r.contentLength != -1
	if r.info.wants10KeepAlive && (r.isHEAD || hasCL || !bodyAllowedForStatus(r.status)) {
		if !r.hasConn {
			setConn = "keep-alive"
		}
	} else if !r.info.is11 || r.info.wantsClose {
		r.closeAfter = true
	}
	if firstValue(r.conn) == "close" || !keepAlives {
		r.closeAfter = true
	}
	b := c.reqBody
	if b != nil && r.info.expectContinue && !b.sawEOF.Load() {
		// The 100 Continue was never asked for: the body may never come.
		r.closeAfter = true
	}
	if b != nil && !r.closeAfter && !r.fullDuplex {
		// Clients that send the whole request before reading the
		// answer deadlock if the answer starts with body unread.
		if !b.drain(maxPostHandlerReadBytes) {
			r.closeAfter = true
			if !b.sawEOF.Load() {
				dropConn, setConn = true, "close"
			}
		}
	}

	if bodyAllowedForStatus(r.status) {
		if !r.hasCT && !r.hasCE && !hasTE && len(p) > 0 {
			setCT = http.DetectContentType(p)
		}
	} else {
		dropCL, dropTE = true, true
		if r.status == http.StatusNotModified {
			dropCT = true
		}
	}
	var now time.Time
	if !r.hasDate || r.handlerDone {
		now = time.Now()
		if r.handlerDone {
			c.lastWrite = now
		}
	}
	if hasCL && hasTE && te != "identity" {
		r.c.srv.logger().Warn("h1server: handler set both Transfer-Encoding and Content-Length; Content-Length dropped", "transfer_encoding", te)
		dropCL, hasCL = true, false
		r.contentLength = -1
	}
	switch {
	case r.isHEAD || !bodyAllowedForStatus(r.status):
		dropTE = true
	case hasCL:
		dropTE = true
	case r.info.is11:
		if hasTE && te == "identity" {
			r.closeAfter = true
			dropTE = true
		} else {
			r.chunking = true
			setTE = "chunked"
			dropTE = true // the handler's "chunked", if any, is written by us
		}
	default:
		r.closeAfter = true
		dropTE = true
	}
	if r.chunking {
		dropCL, setCL = true, -1
	}
	if r.closeAfter && (!keepAlives || !hasToken(firstValue(r.conn), "close")) && !(r.status == http.StatusSwitchingProtocols && r.upgrade && httpguts.HeaderValuesContainsToken(r.conn, "Upgrade")) {
		dropConn = true
		if r.info.is11 {
			setConn = "close"
		}
	}

	w := c.wbuf
	if r.hasCL && !dropCL && r.contentLength >= 0 {
		// The length the framing uses, once: not the handler's values,
		// which may be several or changed in place since WriteHeader.
		w = append(w, "Content-Length: "...)
		w = strconv.AppendInt(w, r.contentLength, 10)
		w = append(w, "\r\n"...)
	}
	if r.hasCT && !dropCT {
		w = appendField(w, "Content-Type", r.ct)
	}
	if r.hasConn && !dropConn {
		w = appendField(w, "Connection", r.conn)
	}
	if r.hasTE && !dropTE {
		w = appendField(w, "Transfer-Encoding", r.te)
	}
	if !r.hasDate {
		w = append(w, "Date: "...)
		w = appendDate(w, now)
		w = append(w, "\r\n"...)
	}
	if setCL >= 0 {
		w = append(w, "Content-Length: "...)
		w = strconv.AppendInt(w, setCL, 10)
		w = append(w, "\r\n"...)
	}
	if setCT != "" {
		w = append(w, "Content-Type: "...)
		w = append(w, setCT...)
		w = append(w, "\r\n"...)
	}
	if setConn != "" {
		w = append(w, "Connection: "...)
		w = append(w, setConn...)
		w = append(w, "\r\n"...)
	}
	if setTE != "" {
		w = append(w, "Transfer-Encoding: "...)
		w = append(w, setTE...)
		w = append(w, "\r\n"...)
	}
	c.wbuf = append(w, "\r\n"...)
}

func firstValue(vv []string) string {
	if len(vv) > 0 {
		return vv[0]
	}
	return ""
}

func bodyAllowedForStatus(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// finish ends the response after the handler returned: header if still
// due, pending body, last chunk and trailers; then one write.
func (r *response) finish() {
	r.handlerDone = true
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if len(r.pending) > 0 || !r.committed {
		r.emitPending()
	}
	c := r.c
	if r.chunking {
		c.wbuf = append(c.wbuf, "0\r\n"...)
		c.wbuf = r.appendTrailers(c.wbuf)
		c.wbuf = append(c.wbuf, "\r\n"...)
	}
	if b := c.reqBody; b != nil {
		// Read what the handler left (full duplex) and forbid reading
		// on: the buffer belongs to the next request now.
		if !b.drain(maxPostHandlerReadBytes) {
			r.closeAfter = true
		}
	}
	_ = c.flush()
}

// appendTrailers writes the trailer fields: the declared ones and those
// under http.TrailerPrefix, sorted.
func (r *response) appendTrailers(b []byte) []byte {
	if !r.anyTrailer {
		return b
	}
	t := make(http.Header)
	for k, vv := range r.header {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[kk] = vv
		}
	}
	for _, k := range r.trailers {
		for _, v := range r.header[k] {
			t.Add(k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		b = appendField(b, k, t[k])
	}
	return b
}

// reusable reports whether the connection may carry another request
// (net/http's shouldReuseConnection), and if not, whether input may be
// left unread so that closing should linger.
func (r *response) reusable() (keep, linger bool) {
	c := r.c
	unread := c.reqBody != nil && !c.reqBody.sawEOF.Load()
	switch {
	case r.closeAfter,
		!r.isHEAD && r.contentLength != -1 && bodyAllowedForStatus(r.status) && r.contentLength != r.written,
		c.werr != nil, c.rerr != nil && c.rpos == c.rend:
		return false, unread && c.werr == nil
	}
	return !unread, unread
}

// abort ends a response whose handler panicked: a 500 if nothing has
// reached the client yet (and the panic was not http.ErrAbortHandler),
// then the connection closes.
func (r *response) abort() {
	c := r.c
	if r.flushed {
		return
	}
	c.wbuf = c.wbuf[:r.start]
	if r.panicValue == nil {
		_ = c.flush()
		return
	}
	c.replyError(&protoError{code: http.StatusInternalServerError})
}

// sendContinue writes "100 Continue" when the handler first reads a body
// the client holds back until asked.
func (r *response) sendContinue() {
	c := r.c
	if !c.canContinue.Load() {
		return
	}
	c.continueMu.Lock()
	defer c.continueMu.Unlock()
	if !c.canContinue.Load() {
		return
	}
	c.canContinue.Store(false)
	c.wbuf = append(c.wbuf, "HTTP/1.1 100 Continue\r\n\r\n"...)
	_ = c.flush()
	r.start = len(c.wbuf)
	r.flushed = false
}

// disableContinue stops a pending 100 Continue once the answer starts;
// it waits for one being written.
func (r *response) disableContinue() {
	if !r.info.expectContinue {
		return
	}
	r.c.continueMu.Lock()
	r.c.canContinue.Store(false)
	r.c.continueMu.Unlock()
}

// Flush sends what is buffered (header included) to the client.
func (r *response) Flush() { _ = r.FlushError() }

// FlushError is Flush for http.ResponseController.
func (r *response) FlushError() error {
	if r.c.hijacked.Load() {
		return http.ErrHijacked
	}
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if len(r.pending) > 0 || !r.committed {
		r.emitPending()
	}
	return r.c.flush()
}

// SetReadDeadline is for http.ResponseController.
func (r *response) SetReadDeadline(t time.Time) error {
	c := r.c
	c.handlerReadDL.Store(true)
	err := c.rwc.SetReadDeadline(t)
	c.readDL = deadline{at: t, known: err == nil}
	return err
}

// SetWriteDeadline is for http.ResponseController.
func (r *response) SetWriteDeadline(t time.Time) error {
	c := r.c
	c.handlerWriteDL = true
	err := c.rwc.SetWriteDeadline(t)
	c.writeDL = deadline{at: t, known: err == nil}
	return err
}

// EnableFullDuplex is for http.ResponseController: the handler may read
// the body while writing the answer.
func (r *response) EnableFullDuplex() error {
	r.fullDuplex = true
	return nil
}

// Hijack hands the connection to the handler, with a reader holding what
// the server had already read past the request's header.
func (r *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if r.handlerDone {
		panic("h1server: Hijack called after ServeHTTP finished")
	}
	c := r.c
	if c.hijacked.Load() {
		return nil, nil, http.ErrHijacked
	}
	r.disableContinue()
	if r.wroteHeader {
		if len(r.pending) > 0 || !r.committed {
			r.emitPending()
		}
	}
	if err := c.flush(); err != nil {
		return nil, nil, err
	}
	c.watch.stop()
	c.hijacked.Store(true)
	c.state.Store(stateHijacked)
	c.srv.trackConn(c, false)
	_ = c.rwc.SetDeadline(time.Time{})

	buffered := c.rbuf[c.rpos:c.rend]
	br := bufio.NewReaderSize(&prefixReader{prefix: buffered, r: c.rwc}, max(readBufSize, len(buffered)))
	if len(buffered) > 0 {
		// Pull the buffered bytes in now: the server's buffer is
		// recycled when the handler returns.
		if _, err := br.Peek(len(buffered)); err != nil {
			return nil, nil, err
		}
	}
	c.rpos = c.rend
	return c.rwc, bufio.NewReadWriter(br, bufio.NewWriter(c.rwc)), nil
}

// prefixReader reads prefix, then r.
type prefixReader struct {
	prefix []byte
	r      net.Conn
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		if len(p.prefix) == 0 {
			p.prefix = nil
		}
		return n, nil
	}
	return p.r.Read(b)
}

// ownPrefix is this package's path, to skip its frames in logMisuse.
var ownPrefix = reflect.TypeFor[response]().PkgPath()

// logMisuse reports a handler bug with the handler's calling line.
func (r *response) logMisuse(what string) {
	fn, file, line := "?", "?", 0
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, ownPrefix+".(*response") && !strings.HasPrefix(f.Function, ownPrefix+".(*conn)") && !strings.HasPrefix(f.Function, "net/http.") {
			fn, file, line = f.Function, path.Base(f.File), f.Line
			break
		}
		if !more {
			break
		}
	}
	r.c.srv.logger().Warn("h1server: "+what, "caller", fn, "at", file+":"+strconv.Itoa(line))
}
