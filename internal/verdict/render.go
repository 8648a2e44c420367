package verdict

import (
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Format selects the body shape of a denial.
type Format uint8

const (
	// Problem is RFC 9457 application/problem+json (HTML for browsers).
	Problem Format = iota
	// OpenAI is OpenAI's error envelope, for AI routes, so SDKs surface
	// the message; pinpoint's members are added inside the error object.
	OpenAI
)

// Header names every gateway response carries.
const (
	HeaderRequestID = "Pinpoint-Request-Id"
	HeaderDeniedBy  = "Pinpoint-Denied-By"
)

// Write renders a denial. It is the only place the gateway writes a
// denial response. The verdict is resolved against the catalog first.
func Write(w http.ResponseWriter, r *http.Request, v Verdict, requestID string, format Format) {
	v = v.Resolved()
	if v.Status == 0 {
		v.Status = http.StatusInternalServerError
	}
	h := w.Header()
	for k, vals := range v.Header {
		h[k] = vals
	}
	// The names are canonical already, so the map is written directly,
	// and the six values share one allocation instead of one each: a
	// denial is on the hot path.
	hv := make([]string, 6)
	setHeader(h, hv[0:1:1], HeaderRequestID, requestID)
	setHeader(h, hv[1:2:2], HeaderDeniedBy, "gateway")
	setHeader(h, hv[2:3:3], "Cache-Control", "no-store")
	setHeader(h, hv[3:4:4], "X-Content-Type-Options", "nosniff")
	instance := ""
	if r != nil && r.URL != nil {
		instance = r.URL.Path
	}
	bp := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(bp)
	body := (*bp)[:0]
	switch {
	case format == OpenAI:
		setHeader(h, hv[4:5:5], "Content-Type", "application/json")
		body = AppendOpenAI(body, v, requestID)
	case r != nil && wantsHTML(r.Header.Get("Accept")):
		setHeader(h, hv[4:5:5], "Content-Type", "text/html; charset=utf-8")
		body = appendHTML(body, v, requestID, instance)
	default:
		setHeader(h, hv[4:5:5], "Content-Type", "application/problem+json")
		body = AppendProblem(body, v, requestID, instance)
	}
	setHeader(h, hv[5:6:6], "Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(v.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	if cap(body) <= 16<<10 {
		*bp = body
	}
}

// bodyPool holds denial body buffers: a ResponseWriter copies what it is
// given, so the buffer is free again when Write returns.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// setHeader sets a canonical header name to the one-element slice val
// holding v (http.Header.Set, minus canonicalizing and allocating).
func setHeader(h http.Header, val []string, name, v string) {
	val[0] = v
	h[name] = val
}

// wantsHTML is true for browsers: they list text/html in Accept, API
// clients send */* or application/json.
func wantsHTML(accept string) bool {
	return strings.Contains(accept, "text/html")
}

func title(code string) string {
	if e, ok := Lookup(code); ok {
		return e.Title
	}
	return code
}

// AppendProblem appends the RFC 9457 problem document of a resolved verdict.
// It is written by hand because it is on the hot path of every denial.
func AppendProblem(b []byte, v Verdict, requestID, instance string) []byte {
	b = append(b, `{"type":`...)
	b = appendTypeURI(b, v.Code)
	b = append(b, `,"title":`...)
	b = AppendString(b, title(v.Code))
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(v.Status), 10)
	b = append(b, `,"detail":`...)
	b = AppendString(b, v.Detail)
	b = append(b, `,"instance":`...)
	b = AppendString(b, instance)
	b = append(b, `,"request_id":`...)
	b = AppendString(b, requestID)
	b = append(b, `,"layer":`...)
	b = AppendString(b, v.Layer)
	b = append(b, `,"code":`...)
	b = AppendString(b, v.Code)
	if v.Rule != "" {
		b = append(b, `,"rule":`...)
		b = AppendString(b, v.Rule)
	}
	b = append(b, `,"hint":`...)
	b = AppendString(b, v.Hint)
	return append(b, "}\n"...)
}

// openAIType maps a status to the error "type" OpenAI SDKs switch on.
func openAIType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 429:
		return "rate_limit_error"
	case status >= 500:
		return "api_error"
	default:
		return "invalid_request_error"
	}
}

// AppendOpenAI appends OpenAI's error envelope for a resolved verdict.
func AppendOpenAI(b []byte, v Verdict, requestID string) []byte {
	msg := v.Detail
	if msg == "" {
		msg = title(v.Code)
	}
	b = append(b, `{"error":{"message":`...)
	b = AppendString(b, msg)
	b = append(b, `,"type":`...)
	b = AppendString(b, openAIType(v.Status))
	b = append(b, `,"param":null,"code":`...)
	b = AppendString(b, v.Code)
	b = append(b, `,"request_id":`...)
	b = AppendString(b, requestID)
	b = append(b, `,"layer":`...)
	b = AppendString(b, v.Layer)
	if v.Rule != "" {
		b = append(b, `,"rule":`...)
		b = AppendString(b, v.Rule)
	}
	b = append(b, `,"hint":`...)
	b = AppendString(b, v.Hint)
	b = append(b, `,"type_uri":`...)
	b = appendTypeURI(b, v.Code)
	return append(b, "}}\n"...)
}

func appendHTML(b []byte, v Verdict, requestID, instance string) []byte {
	esc := html.EscapeString
	b = append(b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>"...)
	b = strconv.AppendInt(b, int64(v.Status), 10)
	b = append(b, " "+esc(title(v.Code))+"</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">"...)
	b = append(b, "<h1>"+strconv.Itoa(v.Status)+" "+esc(title(v.Code))+"</h1>"...)
	b = append(b, "<p>"+esc(v.Detail)+"</p><dl>"...)
	row := func(k, val string) {
		b = append(b, "<dt>"+k+"</dt><dd><code>"+esc(val)+"</code></dd>"...)
	}
	row("Layer", v.Layer)
	row("Code", v.Code)
	if v.Rule != "" {
		row("Rule", v.Rule)
	}
	row("How to fix", v.Hint)
	row("Request id", requestID)
	row("Path", instance)
	b = append(b, "</dl><p><a href=\""+esc(TypeURI(v.Code))+"\">What this code means</a></p></body></html>\n"...)
	return b
}

const hexDigits = "0123456789abcdef"

// plainJSON marks the bytes AppendString copies as they are: printable
// ASCII except the quote, the backslash and the HTML-sensitive <, >, &.
// One table load per byte keeps the common all-plain string cheap (the
// call log encodes every request's record with it).
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendTypeURI appends TypeURI(code) as a JSON string without building it:
// catalog codes and the prefix are plain bytes, so they are copied as they
// are (AppendString of the whole for anything else).
func appendTypeURI(b []byte, code string) []byte {
	for i := 0; i < len(code); i++ {
		if !plainJSON[code[i]] {
			return AppendString(b, TypeURI(code))
		}
	}
	b = append(b, '"')
	b = append(b, TypePrefix...)
	b = append(b, code...)
	return append(b, '"')
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// and <, >, & are escaped so the body is safe to embed in HTML.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
