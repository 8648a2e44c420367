package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"pinpoint/internal/httpfield"
)

// maxHeaderBytes bounds an answer's status line and header section
// together. nginx refuses an upstream header over its proxy buffer (4 or
// 8 KB); this is generous on purpose: refusing a working upstream is
// worse than holding a large header for the length of one exchange.
const maxHeaderBytes = 1 << 20

// max1xx bounds the informational answers read before the final one, as
// net/http's Transport does.
const max1xx = 5

// BadResponse is an upstream answer that breaks HTTP/1.1 framing or
// syntax. The gateway reports it as such rather than as an unreachable
// upstream: the service answered, and what it said is the problem.
type BadResponse struct{ Reason string }

func (e *BadResponse) Error() string { return "malformed response from the upstream: " + e.Reason }

func bad(reason string) error { return &BadResponse{Reason: reason} }

// errClosedBeforeAnswer is an upstream that closed the connection
// without sending a byte of its answer.
var errClosedBeforeAnswer = errors.New("the upstream closed the connection before answering")

// readResponse reads the answer to req, skipping informational (1xx)
// answers, and frames its body. The header values are substrings of one
// string holding the whole head, so a response costs a few allocations
// whatever its number of fields.
func (cn *conn) readResponse(req *http.Request) (*http.Response, error) {
	for n := 0; ; n++ {
		head, err := cn.readHead()
		if err != nil {
			return nil, err
		}
		resp, err := parseHead(head, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 {
			return resp, nil
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			// Only an upgrade request may be answered with 101, and the
			// client never sends one (Takes hands them on).
			return nil, bad("101 Switching Protocols to a request that asked for no upgrade")
		}
		if n == max1xx {
			return nil, bad("more than " + strconv.Itoa(max1xx) + " informational (1xx) answers")
		}
	}
}

// readHead reads a status line and header section up to and including
// the empty line, and returns them as one string.
func (cn *conn) readHead() (string, error) {
	blk := cn.rbuf[:0]
	lineStart := 0
	for {
		frag, err := cn.br.ReadSlice('\n')
		blk = append(blk, frag...)
		if len(blk) > maxHeaderBytes {
			return "", bad("header section larger than " + strconv.Itoa(maxHeaderBytes>>20) + " MB")
		}
		if err == bufio.ErrBufferFull {
			continue // a line longer than the read buffer
		}
		if err != nil {
			if err == io.EOF {
				if len(blk) == 0 {
					return "", errClosedBeforeAnswer
				}
				return "", bad("connection closed in the middle of the header section")
			}
			return "", err
		}
		line := blk[lineStart:]
		if lineStart > 0 && (len(line) == 1 || len(line) == 2 && line[0] == '\r') {
			break
		}
		lineStart = len(blk)
	}
	if cap(blk) <= 64<<10 {
		cn.rbuf = blk[:0]
	}
	return string(blk), nil
}

// parseHead parses a head read by readHead: status line, then fields.
func parseHead(s string, req *http.Request) (*http.Response, error) {
	line, rest := cutLine(s)
	proto, status, ok := strings.Cut(line, " ")
	if !ok {
		return nil, bad("status line " + quote(line))
	}
	status = strings.TrimLeft(status, " ")
	code, _, _ := strings.Cut(status, " ")
	if len(code) != 3 || !digits(code) {
		return nil, bad("status code " + quote(code))
	}
	major, minor, ok := parseVersion(proto)
	if !ok || major != 1 {
		return nil, bad("HTTP version " + quote(proto))
	}
	h, err := parseFields(rest)
	if err != nil {
		return nil, err
	}
	c := int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	return &http.Response{
		Status: status, StatusCode: c, Proto: proto, ProtoMajor: major, ProtoMinor: minor,
		Header: h, Request: req, ContentLength: -1,
	}, nil
}

// parseFields parses header field lines up to the empty one. Field
// names are taken canonical as they stand when they already are (the
// usual case), so a field costs no allocation of its own.
func parseFields(s string) (http.Header, error) {
	n := strings.Count(s, "\n") - 1
	h := make(http.Header, n)
	vals := make([]string, n)
	for {
		line, rest := cutLine(s)
		s = rest
		if line == "" {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 9112 section 5.2 lets a gateway refuse folding with a
			// 502 that says so, which is what this error becomes.
			return nil, bad("obsolete line folding (obs-fold) in the header section")
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return nil, bad("header line " + quote(line))
		}
		if !httpfield.IsToken(line[:colon]) {
			return nil, bad("header field name " + quote(line[:colon]))
		}
		key := httpfield.CanonicalKey(line[:colon])
		v := line[colon+1:]
		if !httpfield.ValidValue(v) {
			return nil, bad("value of header field " + key)
		}
		v = httpfield.TrimOWS(v)
		if vv, seen := h[key]; seen {
			h[key] = append(vv, v)
			continue
		}
		vals[0] = v
		h[key] = vals[:1:1]
		vals = vals[1:]
	}
}

// frame works out how resp's body is delimited, its content length and
// whether the connection closes after it, by net/http's rules for a
// response (RFC 9112 section 6.3), and removes the framing fields as
// ReadResponse does. ok is false for a response without a body, whose
// Body it sets to http.NoBody.
func frame(resp *http.Response, req *http.Request) (f framed, ok bool, err error) {
	h := resp.Header
	conn := h["Connection"]
	hasClose := httpguts.HeaderValuesContainsToken(conn, "close")
	if resp.ProtoMinor == 0 {
		resp.Close = hasClose || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else {
		resp.Close = hasClose
		if hasClose {
			delete(h, "Connection")
		}
	}
	chunked := false
	if te, ok := h["Transfer-Encoding"]; ok {
		delete(h, "Transfer-Encoding")
		if resp.ProtoMinor >= 1 {
			if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
				return f, false, bad("Transfer-Encoding " + quote(strings.Join(te, ", ")) + " (only chunked is understood)")
			}
			chunked = true
		}
	}
	length := int64(-1)
	if cl := h["Content-Length"]; len(cl) > 0 {
		for _, v := range cl[1:] {
			if v != cl[0] {
				return f, false, bad("Content-Length given twice with different values")
			}
		}
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil {
			return f, false, bad("Content-Length " + quote(cl[0]))
		}
		length = int64(n)
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1]
		}
	}
	noBody := req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified
	switch {
	case noBody:
		if req.Method == http.MethodHead {
			resp.ContentLength = length
		} else {
			resp.ContentLength = 0
		}
		resp.Body = http.NoBody
		return f, false, nil
	case chunked:
		delete(h, "Content-Length")
		resp.TransferEncoding = []string{"chunked"}
		resp.ContentLength = -1
		return framed{kind: chunkedBody}, true, nil
	case length == 0:
		resp.ContentLength = 0
		resp.Body = http.NoBody
		return f, false, nil
	case length > 0:
		resp.ContentLength = length
		return framed{kind: fixedBody, remaining: length}, true, nil
	default:
		// Neither length nor chunking: the body ends when the upstream
		// closes the connection.
		resp.Close = true
		return framed{kind: untilClose}, true, nil
	}
}

// bodyKind is how a response body's end is known.
type bodyKind uint8

const (
	fixedBody bodyKind = iota
	chunkedBody
	untilClose
)

// framed is a response body read from the connection's buffer. The
// client's body type wraps it and owns the connection; framed only knows
// where the body ends.
type framed struct {
	kind      bodyKind
	remaining int64
	chunks    io.Reader
	br        *bufio.Reader
}

func (f *framed) read(p []byte) (int, error) {
	switch f.kind {
	case fixedBody:
		if f.remaining == 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > f.remaining {
			p = p[:f.remaining]
		}
		n, err := f.br.Read(p)
		f.remaining -= int64(n)
		switch {
		case f.remaining == 0:
			return n, io.EOF
		case err == io.EOF:
			return n, bad("connection closed " + strconv.FormatInt(f.remaining, 10) + " bytes before the end of the body")
		}
		return n, err
	case chunkedBody:
		if f.chunks == nil {
			f.chunks = newChunkedReader(f.br)
		}
		n, err := f.chunks.Read(p)
		if err == io.EOF {
			if terr := skipTrailer(f.br); terr != nil {
				return n, terr
			}
		} else if err == io.ErrUnexpectedEOF {
			err = bad("connection closed in the middle of a chunked body")
		} else if err != nil && !isNetError(err) {
			err = bad("chunked body: " + err.Error())
		}
		return n, err
	default:
		return f.br.Read(p)
	}
}

// maxTrailerBytes bounds the trailer section after a chunked body.
const maxTrailerBytes = 64 << 10

// skipTrailer reads the trailer section after a chunked body's last
// chunk, up to and including its empty line, checking its fields as
// header fields are checked. The gateway does not forward trailers (RFC
// 9110 section 6.5.1 allows dropping them). As in net/http, a section
// without fields must end with CRLF, not a bare LF.
func skipTrailer(br *bufio.Reader) error {
	if p, _ := br.Peek(2); len(p) == 2 && p[0] == '\r' && p[1] == '\n' {
		_, _ = br.Discard(2)
		return nil
	} else if len(p) < 2 {
		return bad("connection closed in the trailer section")
	}
	var blk []byte
	lineStart := 0
	for {
		frag, err := br.ReadSlice('\n')
		blk = append(blk, frag...)
		if len(blk) > maxTrailerBytes {
			return bad("trailer section larger than 64 KB")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				return bad("connection closed in the trailer section")
			}
			return err
		}
		line := blk[lineStart:]
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			// net/http takes a trailer only when a CRLF CRLF ends it;
			// bare-LF line ends are refused here as well.
			if !bytes.HasSuffix(blk, []byte("\r\n\r\n")) {
				return bad("trailer section not ended by CRLF CRLF")
			}
			break
		}
		lineStart = len(blk)
	}
	if _, err := parseFields(string(blk)); err != nil {
		return bad("trailer section: " + err.(*BadResponse).Reason)
	}
	return nil
}

// cutLine splits s after its first line, returning the line without its
// CRLF (or bare LF, which net/http accepts in a response).
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// parseVersion parses "HTTP/1.1" and "HTTP/1.0" without help, and any
// other version the way net/http does.
func parseVersion(v string) (major, minor int, ok bool) {
	switch v {
	case "HTTP/1.1":
		return 1, 1, true
	case "HTTP/1.0":
		return 1, 0, true
	}
	return http.ParseHTTPVersion(v)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// quote quotes at most 80 bytes of an offending value for an error.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}

// newChunkedReader decodes a chunked body; net/http's own decoder.
func newChunkedReader(br *bufio.Reader) io.Reader { return httputil.NewChunkedReader(br) }

// isNetError reports whether err came from the connection itself (a
// reset, a deadline) rather than from the chunked decoder's parse.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
