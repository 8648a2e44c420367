package h1server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"pinpoint/internal/httpfield"
)

// protoError is a request the server refuses itself: it answers with
// code and a plain reason, then closes the connection.
type protoError struct {
	code   int
	reason string
}

func (e *protoError) Error() string { return http.StatusText(e.code) + ": " + e.reason }

func badRequest(reason string) *protoError {
	return &protoError{http.StatusBadRequest, reason}
}

var (
	errSilent       = &protoError{} // close without an answer
	errHeaderTooBig = &protoError{http.StatusRequestHeaderFieldsTooLarge, "request header too large"}
	errLineTooLong  = errors.New("h1server: line too long")
)

// exchange holds a request's parts that live as long as the request, in
// one allocation.
type exchange struct {
	ctx  requestContext
	url  url.URL
	body body
	rw   responseHandle // the handler's ResponseWriter
	vals [8]string      // backing for the first header values
}

// reqInfo is what the server keeps of a request for answering it.
type reqInfo struct {
	is11              bool // HTTP/1.1 or later
	wants10KeepAlive  bool
	wantsClose        bool
	expectContinue    bool // the body waits for a 100 Continue
	expectUnsupported bool // an Expect the server cannot meet: 417
}

// readRequest reads the next request's header and parses it into
// c.scratch, with its body (if any) in c.reqBody.
func (c *conn) readRequest() (reqInfo, *protoError) {
	end, perr := c.readHeaderBlock()
	if perr != nil {
		return reqInfo{}, perr
	}
	c.ex = new(exchange)
	block := string(c.rbuf[c.rpos:end])
	c.rpos = end
	return c.parseRequest(block, c.scanLines, c.ex)
}

// readHeaderBlock buffers the request line and headers and returns the
// offset just past the blank line that ends them.
func (c *conn) readHeaderBlock() (int, *protoError) {
	limit := c.srv.maxHeaderBytes()
	if c.lastPOST {
		// Old clients send a CRLF after a POST body; net/http skips up
		// to four such bytes, so do we.
		for i := 0; i < 4 && c.rpos < c.rend && (c.rbuf[c.rpos] == '\r' || c.rbuf[c.rpos] == '\n'); i++ {
			c.rpos++
		}
	}
	c.scanPos, c.scanSeen, c.scanLines = c.rpos, c.rpos, 0
	headerPhase := false
	for {
		end, perr := c.scanHeader()
		if perr != nil {
			return 0, perr
		}
		if end >= 0 {
			if end-c.rpos > limit {
				return 0, errHeaderTooBig
			}
			return end, nil
		}
		if c.rend-c.rpos > limit {
			return 0, errHeaderTooBig
		}
		if c.rerr != nil {
			return 0, c.headerReadError(c.rerr)
		}
		// Make room for more.
		if c.rend == len(c.rbuf) {
			if c.rpos > 0 {
				n := copy(c.rbuf, c.rbuf[c.rpos:c.rend])
				c.scanPos -= c.rpos
				c.scanSeen -= c.rpos
				c.rpos, c.rend = 0, n
			} else {
				grown := make([]byte, min(2*len(c.rbuf), limit+readBufSize))
				copy(grown, c.rbuf[:c.rend])
				c.rbuf = grown
			}
		}
		if !headerPhase {
			// The header is still incomplete after the bytes that
			// arrived: from now on the header timeout bounds it.
			headerPhase = true
			if c.reqStart.IsZero() {
				c.reqStart = time.Now()
			}
			if d := c.srv.headerTimeout(); d > 0 {
				c.armRead(c.reqStart.Add(d), 0)
			} else {
				c.armRead(time.Time{}, 0)
			}
		}
		n, err := c.rwc.Read(c.rbuf[c.rend:])
		c.rend += n
		if err != nil {
			c.rerr = err
		}
	}
}

// headerReadError decides how a read failure while reading a header
// ends the connection: like net/http, silently when the client went
// quiet or away between requests, with a 400 when it hung up mid-header.
func (c *conn) headerReadError(err error) *protoError {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errSilent
	}
	if err == io.EOF && c.rend > c.rpos {
		return badRequest("unexpected EOF in request header")
	}
	return errSilent
}

// scanHeader looks for the blank line ending the header in
// rbuf[scanPos:rend], resuming where the last call stopped: at the
// start of the incomplete line, and searching for its end only in the
// bytes that arrived since (a long line dripped in byte by byte must not
// be searched again for every byte). The request line is checked as
// soon as it is complete, so garbage is refused without waiting for a
// header that never ends.
func (c *conn) scanHeader() (int, *protoError) {
	buf := c.rbuf[:c.rend]
	i := c.scanPos
	from := max(i, c.scanSeen)
	for i < len(buf) {
		nl := bytes.IndexByte(buf[from:], '\n')
		if nl < 0 {
			break
		}
		nl += from
		n := nl - i
		if n > 0 && buf[nl-1] == '\r' {
			n--
		}
		if i == c.rpos {
			if _, _, _, _, _, perr := splitRequestLine(buf[i : i+n]); perr != nil {
				return -1, perr
			}
		} else if n == 0 {
			c.scanPos = nl + 1
			return nl + 1, nil
		}
		c.scanLines++
		i = nl + 1
		from = i
	}
	c.scanPos, c.scanSeen = i, len(buf)
	return -1, nil
}

// splitRequestLine checks "METHOD SP target SP HTTP/x.y" the way
// net/http does and returns its parts' bounds and the version.
func splitRequestLine[T string | []byte](line T) (sp1, sp2, major, minor int, ok bool, perr *protoError) {
	sp1 = indexByte(line, ' ')
	if sp1 < 0 {
		return 0, 0, 0, 0, false, badRequest("malformed request line")
	}
	sp2 = indexByte(line[sp1+1:], ' ')
	if sp2 < 0 {
		return 0, 0, 0, 0, false, badRequest("malformed request line")
	}
	sp2 += sp1 + 1
	if sp1 == 0 || !httpfield.IsToken(line[:sp1]) {
		return 0, 0, 0, 0, false, badRequest("invalid method")
	}
	major, minor, ok = parseVersion(line[sp2+1:])
	if !ok {
		return 0, 0, 0, 0, false, badRequest("malformed HTTP version")
	}
	if major != 1 {
		// HTTP/2 (prior knowledge "PRI *" included) stays with
		// net/http; HTTP/0.x and 3+ are not HTTP/1 requests.
		return 0, 0, 0, 0, false, &protoError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	return sp1, sp2, major, minor, true, nil
}

// parseVersion is http.ParseHTTPVersion.
func parseVersion[T string | []byte](v T) (major, minor int, ok bool) {
	if len(v) != len("HTTP/X.Y") || string(v[:5]) != "HTTP/" || v[6] != '.' {
		return 0, 0, false
	}
	if v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return 0, 0, false
	}
	return int(v[5] - '0'), int(v[7] - '0'), true
}

// parseRequest turns a header block into c.scratch and, when the request
// has a body, c.reqBody. lines counts the block's lines before the blank
// one, request line included.
func (c *conn) parseRequest(block string, lines int, ex *exchange) (reqInfo, *protoError) {
	var info reqInfo
	r := &c.scratch
	*r = http.Request{}
	c.reqBody = nil

	nl := strings.IndexByte(block, '\n')
	line := block[:nl]
	if strings.HasSuffix(line, "\r") {
		line = line[:len(line)-1]
	}
	rest := block[nl+1:]
	sp1, sp2, major, minor, _, perr := splitRequestLine(line)
	if perr != nil {
		return info, perr
	}
	r.Method, r.RequestURI, r.Proto = line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	r.ProtoMajor, r.ProtoMinor = major, minor
	info.is11 = minor >= 1
	u, err := parseTarget(r.Method, r.RequestURI, &ex.url)
	if err != nil {
		return info, badRequest("malformed request target")
	}
	r.URL = u

	// Header fields. Host and Transfer-Encoding are kept aside: net/http
	// takes both out of Request.Header.
	// Size the map and the values' backing for the lines counted, but
	// no more than net/http does (1000): a flood of repeated fields must
	// not buy a huge allocation.
	hint := min(lines, 1000)
	h := make(http.Header, hint)
	vals := ex.vals[:0:len(ex.vals)]
	if hint > len(ex.vals) {
		vals = make([]string, 0, hint)
	}
	var host, te string
	hosts, tes := 0, 0
	for {
		nl := strings.IndexByte(rest, '\n')
		line := rest[:nl]
		rest = rest[nl+1:]
		if strings.HasSuffix(line, "\r") {
			line = line[:len(line)-1]
		}
		if line == "" {
			break
		}
		key, value, perr := parseField(line)
		if perr != nil {
			return info, perr
		}
		switch key {
		case "Host":
			hosts++
			host = value
			continue
		case "Transfer-Encoding":
			tes++
			te = value
			continue
		}
		switch vv, ok := h[key]; {
		case ok:
			h[key] = append(vv, value)
		case len(vals) < cap(vals):
			// One backing array for all single values; a capped
			// slice so that a later append cannot clobber the next.
			vals = append(vals, value)
			h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		default:
			h[key] = []string{value}
		}
	}
	r.Header = h

	// Host: exactly one on HTTP/1.1, and well formed.
	if hosts > 1 {
		return info, badRequest("too many Host headers")
	}
	if hosts == 0 && info.is11 && r.Method != "CONNECT" {
		return info, badRequest("missing required Host header")
	}
	if hosts == 1 && !httpguts.ValidHostHeader(host) {
		return info, badRequest("malformed Host header")
	}
	r.Host = u.Host
	if r.Host == "" {
		r.Host = host
	}

	// net/http's fixPragmaCacheControl.
	if hp, ok := h["Pragma"]; ok && len(hp) > 0 && hp[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}

	conns := h["Connection"]
	if info.is11 {
		r.Close = httpguts.HeaderValuesContainsToken(conns, "close")
	} else {
		r.Close = !httpguts.HeaderValuesContainsToken(conns, "keep-alive") || httpguts.HeaderValuesContainsToken(conns, "close")
	}
	firstConn := ""
	if len(conns) > 0 {
		firstConn = conns[0]
	}
	info.wantsClose = r.Close || hasToken(firstConn, "close")
	info.wants10KeepAlive = !info.is11 && hasToken(firstConn, "keep-alive")

	// Framing, strictly: a smuggling attempt is refused, not repaired.
	chunked := false
	if tes > 0 {
		switch {
		case !info.is11:
			// RFC 9112 6.1: faulty framing in HTTP/1.0.
			return info, badRequest("Transfer-Encoding in an HTTP/1.0 request")
		case tes > 1:
			return info, &protoError{http.StatusNotImplemented, "unsupported transfer encoding"}
		case !asciiEqualFold(te, "chunked"):
			return info, &protoError{http.StatusNotImplemented, "unsupported transfer encoding"}
		}
		chunked = true
	}
	var length int64
	if cls := h["Content-Length"]; len(cls) > 0 {
		if chunked {
			return info, badRequest("both Transfer-Encoding and Content-Length")
		}
		first := textproto.TrimString(cls[0])
		for _, cl := range cls[1:] {
			if textproto.TrimString(cl) != first {
				return info, badRequest("conflicting Content-Length headers")
			}
		}
		if len(cls) > 1 {
			h["Content-Length"] = []string{first}
		}
		n, ok := parseContentLength(first)
		if !ok {
			return info, badRequest("invalid Content-Length")
		}
		length = n
	}
	if chunked {
		length = -1
		r.TransferEncoding = []string{"chunked"}
		if vv, ok := h["Trailer"]; ok {
			trailer, perr := declaredTrailers(vv)
			if perr != nil {
				return info, perr
			}
			delete(h, "Trailer")
			r.Trailer = trailer
		}
	}
	r.ContentLength = length

	if exp := h["Expect"]; len(exp) > 0 && exp[0] != "" {
		if hasToken(exp[0], "100-continue") {
			info.expectContinue = info.is11 && length != 0
		} else {
			info.expectUnsupported = true
		}
	}

	r.RemoteAddr = c.remoteAddr
	if length == 0 {
		r.Body = http.NoBody
	} else {
		b := &ex.body
		b.c = c
		b.chunked = chunked
		b.remain = length
		b.expect = info.expectContinue
		r.Body = b
		c.reqBody = b
	}
	return info, nil
}

// parseField splits a header line into its canonical key and its value
// with optional whitespace trimmed, refusing what net/http's server
// refuses and obsolete line folding besides.
func parseField(line string) (key, value string, perr *protoError) {
	if line[0] == ' ' || line[0] == '\t' {
		return "", "", badRequest("obsolete line folding")
	}
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return "", "", badRequest("malformed header line")
	}
	key = line[:colon]
	if key == "" || !httpfield.IsToken(key) {
		return "", "", badRequest("invalid header name")
	}
	value = line[colon+1:]
	if !httpfield.ValidValue(value) {
		return "", "", badRequest("invalid header value")
	}
	return httpfield.CanonicalKey(key), httpfield.TrimOWS(value), nil
}

// parseContentLength accepts decimal digits only, as net/http does.
func parseContentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 63)
	return int64(n), err == nil
}

// declaredTrailers turns a request's Trailer header into the keys
// Request.Trailer announces, refusing framing fields.
func declaredTrailers(vv []string) (http.Header, *protoError) {
	t := make(http.Header)
	for _, v := range vv {
		for f := range strings.SplitSeq(v, ",") {
			f = textproto.TrimString(f)
			if f == "" {
				continue
			}
			switch k := http.CanonicalHeaderKey(f); k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return nil, badRequest("bad trailer key")
			default:
				t[k] = nil
			}
		}
	}
	if len(t) == 0 {
		return nil, nil
	}
	return t, nil
}

// parseTarget parses a request target as net/http does
// (url.ParseRequestURI, with CONNECT's authority form), with a fast path
// for an origin-form target that needs no unescaping.
func parseTarget(method, target string, u *url.URL) (*url.URL, error) {
	if simpleTarget(target) {
		path, query, hasQuery := strings.Cut(target, "?")
		*u = url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
		return u, nil
	}
	raw := target
	justAuthority := method == "CONNECT" && !strings.HasPrefix(raw, "/")
	if justAuthority {
		raw = "http://" + raw
	}
	pu, err := url.ParseRequestURI(raw)
	if err != nil {
		return nil, err
	}
	if justAuthority {
		pu.Scheme = ""
	}
	return pu, nil
}

// simpleTarget reports whether url.ParseRequestURI would give target's
// path as is (no RawPath, nothing to unescape) and its query verbatim.
func simpleTarget(t string) bool {
	if t == "" || t[0] != '/' {
		return false
	}
	i := 0
	for ; i < len(t) && t[i] != '?'; i++ {
		if !pathSafe[t[i]] {
			return false
		}
	}
	for ; i < len(t); i++ {
		if b := t[i]; b < ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

// pathSafe holds the bytes url.URL keeps unescaped in a path.
var pathSafe = func() (t [256]bool) {
	for b := 'a'; b <= 'z'; b++ {
		t[b] = true
	}
	for b := 'A'; b <= 'Z'; b++ {
		t[b] = true
	}
	for b := '0'; b <= '9'; b++ {
		t[b] = true
	}
	for _, b := range "-_.~$&+,/:;=@" {
		t[b] = true
	}
	return t
}()

func indexByte[T string | []byte](s T, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// asciiEqualFold is strings.EqualFold without Unicode folding, which
// would let "chunKed" with a Kelvin sign pass for "chunked".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// hasToken is net/http's: whether the comma-separated list v holds token,
// ASCII case-insensitively.
func hasToken(v, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	if v == token {
		return true
	}
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if asciiEqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }
