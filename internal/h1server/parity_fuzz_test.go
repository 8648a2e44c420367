package h1server

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// parseOurs runs h1server's header reading and parsing on data.
func parseOurs(data []byte) (*http.Request, *protoError) {
	m := &memConn{in: data, chunk: len(data) + 1}
	c := newConn(&Server{MaxHeaderBytes: 1 << 20}, m, context.Background())
	c.bufs = new(connBuffers)
	c.rbuf, c.wbuf = c.bufs.r[:], c.bufs.w[:0]
	if err := c.awaitRequest(true); err != nil {
		return nil, errSilent
	}
	if _, perr := c.readRequest(); perr != nil {
		return nil, perr
	}
	r := c.scratch
	return &r, nil
}

// parseStd is what net/http's server makes of data: http.ReadRequest
// plus the checks its conn.readRequest adds.
func parseStd(data []byte) (*http.Request, bool) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, false
	}
	isH2Upgrade := req.Method == "PRI" && len(req.Header) == 0 && req.URL.Path == "*" && req.Proto == "HTTP/2.0"
	if req.ProtoMajor != 1 && !isH2Upgrade {
		return nil, false
	}
	// http.ReadRequest drops the Host field; the server looks at it
	// before, so read the header again as the server's textproto does.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, false
	}
	raw, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, false
	}
	hosts, haveHost := raw["Host"]
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && !isH2Upgrade && req.Method != "CONNECT" {
		return nil, false
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return nil, false
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, false
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, false
			}
		}
	}
	delete(req.Header, "Host")
	return req, true
}

// headerSection is data up to its first empty line.
func headerSection(data []byte) string {
	s := string(data)
	for _, sep := range []string{"\r\n\r\n", "\n\n", "\n\r\n"} {
		if i := strings.Index(s, sep); i >= 0 {
			s = s[:i+1]
		}
	}
	return s
}

// strictOnPurpose reports whether h1server may refuse what net/http
// takes: the differences the conformance table documents.
func strictOnPurpose(data []byte, std *http.Request) bool {
	h := headerSection(data)
	lines := strings.Split(h, "\n")
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			return true // obs-fold
		}
	}
	lower := strings.ToLower(h)
	hasTE := strings.Contains(lower, "\ntransfer-encoding:")
	switch {
	case std.Method == "PRI" && std.ProtoMajor == 2:
		return true // HTTP/2 preface
	case hasTE && !std.ProtoAtLeast(1, 1):
		return true // Transfer-Encoding on HTTP/1.0
	case hasTE && strings.Contains(lower, "\ncontent-length:"):
		return true // both framings
	}
	return false
}

// FuzzParseMatchesNetHTTP checks h1server's request parsing against
// net/http's on the same bytes: it must refuse everything net/http
// refuses, accept everything else except the documented strict cases,
// and produce the same Request fields.
func FuzzParseMatchesNetHTTP(f *testing.F) {
	for _, tc := range confCases {
		f.Add([]byte(tc.req))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, perr := parseOurs(data)
		std, stdOK := parseStd(data)
		switch {
		case !stdOK && perr == nil:
			t.Fatalf("h1server accepts what net/http refuses: %q", clip(data))
		case stdOK && perr != nil:
			if !strictOnPurpose(data, std) {
				t.Fatalf("h1server refuses (%v) what net/http accepts: %q", perr, clip(data))
			}
			return
		case !stdOK:
			return
		}
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"Method", ours.Method, std.Method},
			{"RequestURI", ours.RequestURI, std.RequestURI},
			{"Proto", ours.Proto, std.Proto},
			{"ProtoMinor", ours.ProtoMinor, std.ProtoMinor},
			{"URL", *ours.URL, *std.URL},
			{"Host", ours.Host, std.Host},
			{"Header", ours.Header, std.Header},
			{"ContentLength", ours.ContentLength, std.ContentLength},
			{"TransferEncoding", ours.TransferEncoding, std.TransferEncoding},
			{"Close", ours.Close, std.Close},
			{"Trailer", ours.Trailer, std.Trailer},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Fatalf("%s: h1server %#v, net/http %#v, for %q", f.name, f.got, f.want, clip(data))
			}
		}
	})
}

func clip(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}
