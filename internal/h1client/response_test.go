package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// parse reads one response from raw as the client does, body included.
func parse(raw, method string) (*http.Response, string, error) {
	cn := &conn{br: bufio.NewReaderSize(strings.NewReader(raw), bufSize)}
	req := &http.Request{Method: method, URL: &url.URL{Path: "/"}}
	resp, err := cn.readResponse(req)
	if err != nil {
		return nil, "", err
	}
	f, hasBody, err := frame(resp, req)
	if err != nil {
		return nil, "", err
	}
	if !hasBody {
		return resp, "", nil
	}
	f.br = cn.br
	var out []byte
	buf := make([]byte, 7) // small reads cross every boundary
	for {
		n, err := f.read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return resp, string(out), nil
		}
		if err != nil {
			return resp, string(out), err
		}
	}
}

func TestResponseFraming(t *testing.T) {
	long := strings.Repeat("v", 6000) // a field longer than the read buffer
	for name, c := range map[string]struct {
		raw, method string
		status      int
		body        string
		length      int64
		close       bool
		header      http.Header
	}{
		"content length": {raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			status: 200, body: "hello", length: 5, header: http.Header{"Content-Length": {"5"}, "Content-Type": {"text/plain"}}},
		"chunked with trailer": {raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
			status: 200, body: "hello world", length: -1, header: http.Header{}},
		"chunked overrides length": {raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			status: 200, body: "ok", length: -1, header: http.Header{}},
		"until close": {raw: "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nall of it",
			status: 200, body: "all of it", length: -1, close: true, header: http.Header{"X-A": {"1"}}},
		"HEAD keeps its length": {raw: "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", method: "HEAD",
			status: 200, length: 42, header: http.Header{"Content-Length": {"42"}}},
		"204 has no body": {raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, length: 0, header: http.Header{}},
		"304 has no body": {raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
			status: 304, length: 0, header: http.Header{"Content-Length": {"10"}}},
		"equal lengths are one": {raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, header: http.Header{"Content-Length": {"2"}}},
		"HTTP/1.0 closes": {raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, close: true, header: http.Header{"Content-Length": {"2"}}},
		"HTTP/1.0 keep-alive": {raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, header: http.Header{"Connection": {"keep-alive"}, "Content-Length": {"2"}}},
		"connection close": {raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, close: true, header: http.Header{"Content-Length": {"2"}}},
		"bare LF and odd case": {raw: "HTTP/1.1 201 Created\ncontent-TYPE:  a/b \nx-multi: 1\nX-Multi: 2\n\n",
			status: 201, length: -1, close: true, header: http.Header{"Content-Type": {"a/b"}, "X-Multi": {"1", "2"}}},
		"long field": {raw: "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 0\r\n\r\n",
			status: 200, length: 0, header: http.Header{"X-Long": {long}, "Content-Length": {"0"}}},
		"early hints skipped": {raw: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
			status: 200, body: "x", length: 1, header: http.Header{"Content-Length": {"1"}}},
	} {
		method := c.method
		if method == "" {
			method = "GET"
		}
		resp, body, err := parse(c.raw, method)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if resp.StatusCode != c.status || body != c.body || resp.ContentLength != c.length || resp.Close != c.close {
			t.Errorf("%s: status %d body %q length %d close %v; want %d %q %d %v",
				name, resp.StatusCode, body, resp.ContentLength, resp.Close, c.status, c.body, c.length, c.close)
		}
		if !reflect.DeepEqual(resp.Header, c.header) {
			t.Errorf("%s: header %v, want %v", name, resp.Header, c.header)
		}
	}
}

// Answers that break HTTP/1.1 are refused with a reason that names the
// fault, as a *BadResponse.
func TestMalformedResponses(t *testing.T) {
	for name, c := range map[string]struct{ raw, reason string }{
		"status line":        {"HTTP/1.1200 OK\r\n\r\n", "status code"},
		"status code":        {"HTTP/1.1 2000 OK\r\n\r\n", "status code"},
		"signed code":        {"HTTP/1.1 +20 OK\r\n\r\n", "status code"},
		"version":            {"HTTP/2.0 200 OK\r\n\r\n", "HTTP version"},
		"not HTTP":           {"SSH-2.0-OpenSSH\r\n\r\n", "status line"},
		"two lengths":        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "Content-Length given twice"},
		"bad length":         {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
		"empty length":       {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "Content-Length"},
		"gzip coding":        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "only chunked"},
		"two codings":        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "only chunked"},
		"obs-fold":           {"HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\n\r\n", "obs-fold"},
		"space before colon": {"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", "header field name"},
		"no colon":           {"HTTP/1.1 200 OK\r\nX-A 1\r\n\r\n", "header line"},
		"control byte":       {"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", "value of header field X-A"},
		"truncated head":     {"HTTP/1.1 200 OK\r\nX-A: 1\r\n", "in the middle of the header section"},
		"truncated body":     {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "bytes before the end of the body"},
		"bad chunk":          {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunked body"},
		"truncated chunk":    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", "chunked body"},
		"switching":          {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"},
		"endless 1xx":        {strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 7) + "HTTP/1.1 200 OK\r\n\r\n", "informational"},
		"huge head":          {"HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n", "larger than"},
	} {
		_, _, err := parse(c.raw, "GET")
		var br *BadResponse
		if !errors.As(err, &br) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: error %v, want a *BadResponse naming %q", name, err, c.reason)
		}
	}
	if _, _, err := parse("", "GET"); !errors.Is(err, errClosedBeforeAnswer) {
		t.Errorf("empty answer: %v, want errClosedBeforeAnswer", err)
	}
}

// FuzzResponseMatchesNetHTTP checks the client's response parser against
// http.ReadResponse: what both accept must come out the same (status,
// version, fields, length, close, body), and the parser may refuse only
// what it refuses on purpose (see allowedStricter).
func FuzzResponseMatchesNetHTTP(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody",
		"HTTP/1.1 200 OK\nx-a:b\nX-A:  c \n\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nConnection: close, x\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 500\r\n\r\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, head bool) {
		method := "GET"
		if head {
			method = http.MethodHead
		}
		got, gotBody, gotErr := parse(raw, method)

		req := &http.Request{Method: method, URL: &url.URL{Path: "/"}}
		br := bufio.NewReader(strings.NewReader(raw))
		var want *http.Response
		var err error
		for range max1xx + 1 {
			want, err = http.ReadResponse(br, req)
			if err != nil || want.StatusCode >= 200 || want.StatusCode == 101 {
				break
			}
		}
		var wantBody []byte
		if err == nil {
			wantBody, err = io.ReadAll(want.Body)
		}
		if err != nil {
			if gotErr == nil {
				if allowedLaxer(raw, got) {
					return
				}
				t.Fatalf("net/http refuses (%v), the client accepts: %q", err, raw)
			}
			return
		}
		if gotErr != nil {
			if allowedStricter(raw, want, gotErr) {
				return
			}
			t.Fatalf("the client refuses (%v), net/http accepts: %q", gotErr, raw)
		}
		// ReadResponse adds Cache-Control for Pragma: no-cache, which a
		// proxy must not; and it keeps declared trailers apart.
		wh := want.Header.Clone()
		if _, ok := got.Header["Cache-Control"]; !ok {
			delete(wh, "Cache-Control")
		}
		delete(wh, "Trailer")
		gh := got.Header.Clone()
		delete(gh, "Trailer")
		if got.StatusCode != want.StatusCode || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
			got.ContentLength != want.ContentLength || got.Close != want.Close || gotBody != string(wantBody) ||
			!reflect.DeepEqual(gh, wh) {
			t.Fatalf("differs for %q:\nclient:   %d %d.%d len=%d close=%v %v body=%q\nnet/http: %d %d.%d len=%d close=%v %v body=%q",
				raw, got.StatusCode, got.ProtoMajor, got.ProtoMinor, got.ContentLength, got.Close, gh, gotBody,
				want.StatusCode, want.ProtoMajor, want.ProtoMinor, want.ContentLength, want.Close, wh, wantBody)
		}
	})
}

// allowedStricter: what the client refuses on purpose although net/http
// takes it — obs-fold, a field name with a space before the colon,
// status codes that are not three digits, versions other than 1.x, a
// 101 to a request without Upgrade, bytes net/http's body reader leaves
// to the next read (a value after the chunked body's end is not checked
// by ReadAll), and 1xx answers past the bound.
func allowedStricter(raw string, want *http.Response, err error) bool {
	var br *BadResponse
	if !errors.As(err, &br) {
		return false
	}
	for _, r := range []string{"obs-fold", "header field name", "status code", "HTTP version", "101", "informational", "trailer", "header line"} {
		if strings.Contains(br.Reason, r) {
			return true
		}
	}
	return false
}

// allowedLaxer: what the client takes although net/http refuses it — a
// Trailer field naming what may not be a trailer (the client neither
// reads nor forwards declared trailers).
func allowedLaxer(raw string, got *http.Response) bool {
	_, ok := got.Header["Trailer"]
	return ok || bytes.Contains([]byte(raw), []byte("railer"))
}
