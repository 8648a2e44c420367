package h1server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The conformance table runs every case over loopback TCP, as raw bytes,
// against net/http's server and against h1server, and checks both
// against the expected answers. Where the two legitimately differ, the
// case says why in diff and gives net/http's answers in std.

// echo answers most paths with what the server made of the request, so
// that the two servers' parsing can be compared field by field.
func echo(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping":
		_, _ = io.WriteString(w, "pong")
		return
	case "/noread":
		_, _ = io.WriteString(w, "ignored")
		return
	case "/status/204":
		w.WriteHeader(http.StatusNoContent)
		return
	case "/status/304":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotModified)
		return
	case "/big":
		_, _ = w.Write(bytes.Repeat([]byte("x"), 5000))
		return
	case "/flush":
		_, _ = io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "b")
		return
	case "/trailers":
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "data")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
		return
	case "/103":
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "after hints")
		return
	case "/panic":
		panic("boom")
	case "/close":
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
		return
	case "/short":
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "short")
		return
	case "/sniff":
		_, _ = io.WriteString(w, "<html><body>hi</body></html>")
		return
	case "/cl":
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
		return
	case "/too-much":
		w.Header().Set("Content-Length", "3")
		if _, err := io.WriteString(w, "hello"); err != http.ErrContentLength {
			panic("want ErrContentLength")
		}
		return
	case "/inject":
		w.Header().Set("X-Inject", "a\r\nX-Evil: 1")
		w.Header()["Bad Name"] = []string{"x"}
		_, _ = io.WriteString(w, "ok")
		return
	case "/te-identity":
		w.Header().Set("Transfer-Encoding", "identity")
		_, _ = io.WriteString(w, "ok")
		return
	case "/late-header":
		w.WriteHeader(http.StatusAccepted)
		w.Header().Set("X-Too-Late", "1") // no effect after WriteHeader
		_, _ = io.WriteString(w, "ok")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "body error")
		return
	}
	fmt.Fprintf(w, "method=%s\nuri=%s\npath=%s\nrawpath=%s\nquery=%s force=%v\nurlhost=%s\nhost=%s\nproto=%s %d.%d\ncl=%d\nte=%v\nclose=%v\nbody=%q\ntrailer=%v\nheader=%v\n",
		r.Method, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.ForceQuery, r.URL.Host, r.Host,
		r.Proto, r.ProtoMajor, r.ProtoMinor, r.ContentLength, r.TransferEncoding, r.Close, body, r.Trailer, r.Header)
}

type engine struct {
	name  string
	start func(t testing.TB, h http.Handler) string // returns the address
}

const confMaxHeader = 4096

var engines = []engine{
	{"net/http", func(t testing.TB, h http.Handler) string {
		ln := listen(t)
		srv := &http.Server{Handler: h, MaxHeaderBytes: confMaxHeader, ErrorLog: quietLog()}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}},
	{"h1server", func(t testing.TB, h http.Handler) string {
		ln := listen(t)
		srv := &Server{Handler: h, MaxHeaderBytes: confMaxHeader, ErrorLog: slog.New(slog.DiscardHandler)}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}},
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// answer is one response as the client saw it: the fields compared.
type answer map[string]string

// expect lists the fields an answer must have; a key ending in "~"
// means "contains".
type expect map[string]string

type confCase struct {
	name string
	req  string
	head []bool   // which answers are to HEAD requests (default none)
	want []expect // answers, in order
	// closed: the server closes the connection after the answers;
	// otherwise a follow-up request on it must be answered.
	closed  bool
	diff    string   // why net/http answers otherwise, if it does
	std     []expect // net/http's answers when diff is set
	stdOpen bool     // net/http keeps the connection open when h1server closes it
}

const body1k = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var confCases = []confCase{
	// --- request line and target ---------------------------------------
	{name: "simple GET", req: "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=/a/b\nrawpath=\nquery=c=d force=false\nurlhost=\nhost=example.com\nproto=HTTP/1.1 1.1\ncl=0\n"}}},
	{name: "escaped path keeps RawPath", req: "GET /a%2Fb/%7Ec HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=/a/b/~c\nrawpath=/a%2Fb/%7Ec\n"}}},
	{name: "path with characters url escapes", req: "GET /a!b'(c)*d HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=/a!b'(c)*d\nrawpath=/a!b'(c)*d\n"}}},
	{name: "empty query forces ?", req: "GET /q? HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "query= force=true\n"}}},
	{name: "double slash is a path", req: "GET //evil.com/x HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=//evil.com/x\n"}}},
	{name: "absolute-form target wins over Host", req: "GET http://example.com:8080/x?y=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=/x\nrawpath=\nquery=y=1 force=false\nurlhost=example.com:8080\nhost=example.com:8080\n"}}},
	{name: "absolute-form still needs Host on 1.1", req: "GET http://example.com/x HTTP/1.1\r\n\r\n",
		want: []expect{{"status": "400", "conn": "close"}}, closed: true},
	{name: "CONNECT authority-form", req: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		want: []expect{{"status": "200", "body~": "method=CONNECT\nuri=example.com:443\npath=\n"}}},
	{name: "OPTIONS *", req: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "cl": "0", "body": ""}}},
	{name: "target with control byte", req: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "relative target", req: "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "garbage request line", req: "GARBAGE\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "request line with extra word", req: "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "double space in request line", req: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "invalid method", req: "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "HTTP/0.9 style", req: "GET /\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "lower-case version", req: "GET / http/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "HTTP/2.0 request line", req: "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "505"}}, closed: true},
	{name: "HTTP/3.0", req: "GET / HTTP/3.0\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "505"}}, closed: true},
	{name: "HTTP/1.9 is HTTP/1", req: "GET / HTTP/1.9\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "proto=HTTP/1.9 1.9\n"}}},
	{name: "h2 prior-knowledge preface", req: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		want:   []expect{{"status": "505"}},
		closed: true,
		diff:   "net/http hands the preface to the handler (or to its h2c server); h1server leaves HTTP/2 to net/http",
		std:    []expect{{"status": "200", "conn": "close"}}},

	// --- header fields ---------------------------------------------------
	{name: "header keys canonicalised", req: "GET / HTTP/1.1\r\nhost: x\r\ncontent-type: a/b\r\nx-FOO-bar: 1\r\nX-Foo-Bar: 2\r\n\r\n",
		want: []expect{{"status": "200", "body~": "header=map[Content-Type:[a/b] X-Foo-Bar:[1 2]]\n"}}},
	{name: "value whitespace trimmed", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: \t v a \t\r\n\r\n",
		want: []expect{{"status": "200", "body~": "header=map[X-A:[v a]]\n"}}},
	{name: "empty value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n",
		want: []expect{{"status": "200", "body~": "header=map[X-Empty:[]]\n"}}},
	{name: "bare LF line endings", req: "GET / HTTP/1.1\nHost: x\nX-A: 1\n\n",
		want: []expect{{"status": "200", "body~": "header=map[X-A:[1]]\n"}}},
	{name: "obs-fold", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n",
		want:    []expect{{"status": "400"}},
		closed:  true,
		diff:    "net/http joins a folded line to the previous value (RFC 9112 allows either); h1server refuses it, as a gateway should not reinterpret",
		stdOpen: true,
		std:     []expect{{"status": "200", "body~": "header=map[X-A:[1 2]]\n"}}},
	{name: "leading whitespace before first field", req: "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "space before colon", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "invalid name byte", req: "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "empty name", req: "GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "control byte in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "bare CR in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "missing colon", req: "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "obs-text value accepted", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xe9\r\n\r\n",
		want: []expect{{"status": "200", "body~": "X-A:[caf\xe9]"}}},
	{name: "missing Host on 1.1", req: "GET / HTTP/1.1\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "missing Host on 1.0 is fine", req: "GET / HTTP/1.0\r\n\r\n",
		want: []expect{{"status": "200", "proto": "HTTP/1.0", "body~": "host=\n"}}, closed: true},
	{name: "two Host headers", req: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "malformed Host", req: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "Pragma no-cache implies Cache-Control", req: "GET / HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\n\r\n",
		want: []expect{{"status": "200", "body~": "header=map[Cache-Control:[no-cache] Pragma:[no-cache]]\n"}}},
	{name: "header block over MaxHeaderBytes", req: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20000) + "\r\n\r\n",
		want: []expect{{"status": "431"}}, closed: true},
	{name: "header block under MaxHeaderBytes", req: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 3000) + "\r\n\r\n",
		want: []expect{{"status": "200", "body~": "X-Big:[aaa"}}},

	// --- framing: Content-Length / Transfer-Encoding -------------------------
	{name: "POST with Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		want: []expect{{"status": "200", "body~": "cl=5\nte=[]\nclose=false\nbody=\"hello\"\n"}}},
	{name: "Content-Length zero", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		want: []expect{{"status": "200", "body~": "cl=0\n"}}},
	{name: "Content-Length with leading zeros", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nhello",
		want: []expect{{"status": "200", "body~": "body=\"hello\"\n"}}},
	{name: "duplicate equal Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
		want: []expect{{"status": "200", "body~": "Content-Length:[5]"}}},
	{name: "comma-joined equal Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "conflicting Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "negative Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "signed Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "hex Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "empty Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "huge Content-Length", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "chunked body", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
		want: []expect{{"status": "200", "body~": "cl=-1\nte=[chunked]\nclose=false\nbody=\"hello world\"\ntrailer=map[]\nheader=map[]\n"}}},
	{name: "chunked upper case", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\na\r\n0\r\n\r\n",
		want: []expect{{"status": "200", "body~": "body=\"a\"\n"}}},
	{name: "chunked with trailer", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 7\r\nX-Other: 8\r\n\r\n",
		want: []expect{{"status": "200", "body~": "body=\"abc\"\ntrailer=map[X-Other:[8] X-Sum:[7]]\nheader=map[]\n"}}},
	{name: "chunked declares forbidden trailer", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n",
		want: []expect{{"status": "400"}}, closed: true},
	{name: "Content-Length and Transfer-Encoding", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		want:    []expect{{"status": "400"}},
		closed:  true,
		diff:    "net/http drops the Content-Length and reads the chunked body (RFC 9112 allows it); a gateway refuses the smuggling pattern outright",
		stdOpen: true,
		std:     []expect{{"status": "200", "body~": "cl=-1\nte=[chunked]\nclose=false\nbody=\"abc\"\n"}}},
	{name: "gzip transfer coding", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
		want: []expect{{"status": "501"}}, closed: true},
	{name: "chunked not last", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		want: []expect{{"status": "501"}}, closed: true},
	{name: "two Transfer-Encoding fields", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		want: []expect{{"status": "501"}}, closed: true},
	{name: "Kelvin-sign chunked", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chun\u212aed\r\n\r\n",
		want: []expect{{"status": "501"}}, closed: true},
	{name: "Transfer-Encoding on HTTP/1.0", req: "POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
		want:   []expect{{"status": "400"}},
		closed: true,
		diff:   "net/http ignores Transfer-Encoding on HTTP/1.0 and uses Content-Length; RFC 9112 6.1 calls the framing faulty, so h1server refuses",
		std:    []expect{{"status": "200", "proto": "HTTP/1.0", "body~": "body=\"abc\"\n"}}},
	{name: "bad chunk size", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		want: []expect{{"status": "400", "body": "body error"}}, closed: true},
	{name: "chunk line bare LF", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
		want: []expect{{"status": "400", "body": "body error"}}, closed: true},
	{name: "chunk data overruns its size", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
		want: []expect{{"status": "400", "body": "body error"}}, closed: true},
	{name: "trailer section ended by a bare LF", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		want:    []expect{{"status": "400", "body": "body error"}},
		closed:  true,
		diff:    "net/http ends the trailer at the bare LF and serves the next request; a proxy in front that skips trailers up to CRLF CRLF sees one request where the server sees two, so h1server wants CRLF there as in chunk lines",
		stdOpen: true,
		std:     []expect{{"status": "200", "body~": "body=\"\"\n"}, {"status": "200", "body": "pong"}}},
	{name: "trailer field ended by a bare LF", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n",
		want:    []expect{{"status": "400", "body": "body error"}},
		closed:  true,
		diff:    "net/http accepts a bare LF in the trailer section; h1server wants CRLF there as in chunk lines",
		stdOpen: true,
		std:     []expect{{"status": "200", "body~": "trailer=map[X-T:[1] X-U:[2]]\n"}}},
	{name: "chunk size with 17 hex digits", req: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\na\r\n0\r\n\r\n",
		want: []expect{{"status": "400", "body": "body error"}}, closed: true},

	// --- connection management -----------------------------------------
	{name: "pipelined GETs answered in order", req: "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "path=/one\n"}, {"status": "200", "body~": "path=/two\n"}, {"status": "200", "body": "pong"}}},
	{name: "pipelined POST then GET", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /two HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body~": "body=\"abc\"\n"}, {"status": "200", "body~": "path=/two\n"}}},
	{name: "stray CRLF after POST body", req: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200"}, {"status": "200", "body~": "path=/two\n"}}},
	{name: "HTTP/1.0 closes by default", req: "GET /x HTTP/1.0\r\n\r\n",
		want: []expect{{"status": "200", "proto": "HTTP/1.0", "conn": ""}}, closed: true},
	{name: "HTTP/1.0 keep-alive", req: "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		want: []expect{{"status": "200", "proto": "HTTP/1.0", "conn": "keep-alive", "body~": "close=false\n"}}},
	{name: "HTTP/1.0 keep-alive with unknown length", req: "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		want: []expect{{"status": "200", "proto": "HTTP/1.0", "te": "", "cl": "-1", "len": "5000"}}, closed: true},
	{name: "Connection: close from the client", req: "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "conn": "close", "body~": "close=true\n"}}, closed: true},
	{name: "Connection: close from the handler", req: "GET /close HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "conn": "close", "body": "bye"}}, closed: true},
	{name: "handler writes less than its Content-Length", req: "GET /short HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "cl": "10", "bodyerr": "unexpected EOF"}}, closed: true},

	// --- response framing --------------------------------------------------
	{name: "small body gets Content-Length and sniffed type", req: "GET /sniff HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "cl": "28", "te": "", "ct": "text/html; charset=utf-8", "date": "yes"}}},
	{name: "header changes after WriteHeader ignored", req: "GET /late-header HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "202", "x-too-late": "", "body": "ok"}}},
	{name: "declared Content-Length", req: "GET /cl HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "cl": "5", "te": "", "body": "hello"}}},
	{name: "HEAD with declared Content-Length", req: "HEAD /cl HTTP/1.1\r\nHost: x\r\n\r\n", head: []bool{true},
		want: []expect{{"status": "200", "cl": "5", "body": ""}}},
	{name: "handler writes more than its Content-Length", req: "GET /too-much HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "cl": "3", "bodyerr": "unexpected EOF"}}, closed: true},
	{name: "CR LF in a response value and an invalid name", req: "GET /inject HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "x-inject": "a  X-Evil: 1", "x-evil": "", "body": "ok"}}},
	{name: "Transfer-Encoding identity from the handler", req: "GET /te-identity HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "te": "", "cl": "-1", "body": "ok"}}, closed: true},
	{name: "large body chunked on 1.1", req: "GET /big HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "te": "chunked", "cl": "-1", "len": "5000"}}},
	{name: "large body close-delimited on 1.0", req: "GET /big HTTP/1.0\r\n\r\n",
		want: []expect{{"status": "200", "te": "", "cl": "-1", "len": "5000"}}, closed: true},
	{name: "flush forces chunking", req: "GET /flush HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "te": "chunked", "body": "ab"}}},
	{name: "HEAD gets length, no body", req: "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n", head: []bool{true},
		want: []expect{{"status": "200", "body": ""}}},
	{name: "HEAD of a large body", req: "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n", head: []bool{true},
		want: []expect{{"status": "200", "body": ""}}},
	{name: "204 has no body or length", req: "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "204", "cl": "0", "te": "", "body": ""}}},
	{name: "304 drops Content-Type", req: "GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "304", "ct": "", "te": "", "body": ""}}},
	{name: "declared and prefixed trailers", req: "GET /trailers HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "te": "chunked", "body": "data", "trailer": "X-Late=late X-Sum=42"}}},
	{name: "103 Early Hints then the answer", req: "GET /103 HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "103", "link": "</a.css>; rel=preload"}, {"status": "200", "body": "after hints"}}},
	{name: "no 1xx to an HTTP/1.0 client", req: "GET /103 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		want: []expect{{"status": "200", "proto": "HTTP/1.0", "conn": "keep-alive", "body": "after hints"}},
		diff: "net/http sends the 103, which RFC 9110 15.2 forbids: an HTTP/1.0 client (or proxy) takes it for the final answer and the real one for the next request's",
		std:  []expect{{"status": "103"}, {"status": "200", "body": "after hints"}}},
	{name: "handler panic", req: "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n",
		want:   []expect{{"status": "500"}},
		closed: true,
		diff:   "net/http closes the connection without an answer; h1server answers 500 when nothing was sent yet",
		std:    []expect{}},

	// --- Expect and unread bodies ----------------------------------------
	{name: "unknown expectation", req: "POST /p HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 3\r\n\r\nabc",
		want: []expect{{"status": "417"}}, closed: true},
	{name: "100-continue on HTTP/1.0 is ignored", req: "POST /p HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		want: []expect{{"status": "200", "body~": "body=\"abc\"\n"}}, closed: true},
	{name: "100-continue and the handler does not read", req: "POST /noread HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
		want: []expect{{"status": "200", "conn": "close", "body": "ignored"}}, closed: true},
	{name: "unread small body is drained", req: "POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body": "ignored"}, {"status": "200", "body": "pong"}}},
	{name: "unread chunked body is drained", req: "POST /noread HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		want: []expect{{"status": "200", "body": "ignored"}, {"status": "200", "body": "pong"}}},
	{name: "unread large body closes", req: "POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat(body1k, 16),
		want: []expect{{"status": "200", "conn": "close", "body": "ignored"}}, closed: true},
}

func TestConformance(t *testing.T) {
	for _, tc := range confCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.diff != "" && tc.std == nil {
				t.Fatal("a case that differs must give net/http's answers")
			}
			var results [2][]answer
			var closed [2]bool
			for i, e := range engines {
				want, wantClosed := tc.want, tc.closed
				if e.name == "net/http" && tc.diff != "" {
					want = tc.std
					wantClosed = !tc.stdOpen && tc.closed
				}
				addr := e.start(t, http.HandlerFunc(echo))
				got, isClosed, err := rawExchange(addr, tc.req, len(want), tc.head)
				if err != nil {
					t.Fatalf("%s: %v", e.name, err)
				}
				for j, w := range want {
					checkAnswer(t, e.name, j, got[j], w)
				}
				if isClosed != wantClosed {
					t.Errorf("%s: connection closed=%v, want %v", e.name, isClosed, wantClosed)
				}
				results[i], closed[i] = got, isClosed
			}
			if tc.diff == "" {
				comparable := []string{"status", "proto", "te", "conn", "trailer"}
				for j := range results[0] {
					if results[0][j]["status"] < "400" {
						comparable = append(comparable, "cl", "ct", "body", "len")
					}
					for _, k := range comparable {
						if results[0][j][k] != results[1][j][k] {
							t.Errorf("answer %d: %s differs: net/http %q, h1server %q", j, k, results[0][j][k], results[1][j][k])
						}
					}
				}
			}
		})
	}
}

// rawExchange sends raw on a new connection, reads n answers, then checks
// whether the connection is closed: a closed one reads EOF, an open one
// answers a follow-up request.
func rawExchange(addr, raw string, n int, head []bool) ([]answer, bool, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, false, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, _ = io.WriteString(nc, raw)
	}()
	br := bufio.NewReader(nc)
	var out []answer
	for i := 0; i < n; i++ {
		method := "GET"
		if i < len(head) && head[i] {
			method = "HEAD"
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out, false, fmt.Errorf("answer %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		bodyErr := ""
		if err != nil {
			bodyErr = err.Error()
		}
		a := answer{
			"bodyerr":    bodyErr,
			"status":     strconv.Itoa(resp.StatusCode),
			"proto":      resp.Proto,
			"cl":         strconv.FormatInt(resp.ContentLength, 10),
			"te":         strings.Join(resp.TransferEncoding, ","),
			"conn":       resp.Header.Get("Connection"),
			"ct":         resp.Header.Get("Content-Type"),
			"link":       resp.Header.Get("Link"),
			"x-too-late": resp.Header.Get("X-Too-Late"),
			"x-inject":   resp.Header.Get("X-Inject"),
			"x-evil":     resp.Header.Get("X-Evil"),
			"body":       string(body),
			"len":        strconv.Itoa(len(body)),
			"date":       map[bool]string{true: "yes", false: "no"}[resp.Header.Get("Date") != ""],
		}
		if resp.Close && resp.ProtoAtLeast(1, 1) {
			a["conn"] = "close" // ReadResponse takes "Connection: close" out
		}
		var tr []string
		for k, vv := range resp.Trailer {
			tr = append(tr, k+"="+strings.Join(vv, ","))
		}
		slices.Sort(tr)
		a["trailer"] = strings.Join(tr, " ")
		out = append(out, a)
	}
	// Closed or open?
	<-written
	if _, err := io.WriteString(nc, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return out, true, nil
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
			return out, true, nil
		}
		return out, false, fmt.Errorf("follow-up: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "pong" {
		return out, false, fmt.Errorf("follow-up answered %d %q", resp.StatusCode, body)
	}
	return out, false, nil
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

func checkAnswer(t *testing.T, engine string, i int, got answer, want expect) {
	t.Helper()
	for k, v := range want {
		if sub, ok := strings.CutSuffix(k, "~"); ok {
			if !strings.Contains(got[sub], v) {
				t.Errorf("%s answer %d: %s = %q, want it to contain %q", engine, i, sub, got[sub], v)
			}
			continue
		}
		if got[k] != v {
			t.Errorf("%s answer %d: %s = %q, want %q", engine, i, k, got[k], v)
		}
	}
}
