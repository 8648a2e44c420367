package probe

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request is the request under diagnosis, whatever it was given as (curl
// flags, a pasted curl command or a HAR entry).
type Request struct {
	Method string
	URL    string
	// Header keeps canonical names; Cookie is folded into one header.
	Header http.Header
	Body   []byte
	// Insecure mirrors curl -k: the user's own client skips TLS checks,
	// so the probe's sends do too (the TLS check still reports the cert).
	Insecure bool
	// FollowRedirects mirrors curl -L.
	FollowRedirects bool
	// Source says where the request came from: flags, curl or har.
	Source string
}

func newRequest(source string) *Request {
	return &Request{Header: http.Header{}, Source: source}
}

// Clone deep-copies the request so a variation can never alter the
// original that is reported and compared against.
func (r *Request) Clone() *Request {
	c := *r
	c.Header = r.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Body = append([]byte(nil), r.Body...)
	return &c
}

// ParsedURL parses the URL; a URL without a scheme is taken as http, as
// curl does.
func (r *Request) ParsedURL() (*url.URL, error) {
	raw := strings.TrimSpace(r.URL)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	return url.Parse(raw)
}

// Cookies returns the cookies of the Cookie header(s) in order.
func (r *Request) Cookies() []*http.Cookie {
	var out []*http.Cookie
	for _, line := range r.Header.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || name == "" {
				continue
			}
			out = append(out, &http.Cookie{Name: name, Value: value})
		}
	}
	return out
}

// Cookie finds one cookie by exact name.
func (r *Request) Cookie(name string) (string, bool) {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// sensitiveHeaders are never shown in full: a diagnosis is pasted into
// tickets and chats, and a leaked key is worse than the 403.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "Api-Key": true, "Apikey": true, "X-Auth-Token": true, "X-Access-Token": true,
	"X-Csrftoken": true, "X-Csrf-Token": true, "X-Xsrf-Token": true, "Requestverificationtoken": true,
	"X-Amz-Security-Token": true, "Ocp-Apim-Subscription-Key": true, "X-Goog-Api-Key": true,
}

// isSensitiveHeader also catches vendor-specific key headers by name.
func isSensitiveHeader(name string) bool {
	c := http.CanonicalHeaderKey(name)
	if sensitiveHeaders[c] {
		return true
	}
	l := strings.ToLower(c)
	return strings.Contains(l, "token") || strings.Contains(l, "secret") || strings.HasSuffix(l, "-key") || strings.Contains(l, "password")
}

// Mask shows a secret's first characters and its length: enough to tell
// which key was used and whether it was truncated, not enough to use it.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	n := len(v)
	show := 4
	if n <= 8 {
		show = 0
	}
	return v[:show] + "…(" + strconv.Itoa(n) + " chars)"
}

// maskHeaderValue masks a header value keeping its structure readable:
// the auth scheme and cookie names stay visible.
func maskHeaderValue(name, value string) string {
	if !isSensitiveHeader(name) {
		return value
	}
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization":
		if scheme, cred, ok := strings.Cut(value, " "); ok && !strings.ContainsAny(scheme, "=.") {
			return scheme + " " + Mask(cred)
		}
		return Mask(value)
	case "Cookie":
		parts := strings.Split(value, ";")
		for i, p := range parts {
			name, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok {
				parts[i] = name + "=" + Mask(v)
			} else {
				parts[i] = Mask(strings.TrimSpace(p))
			}
		}
		return strings.Join(parts, "; ")
	}
	return Mask(value)
}

// MaskedHeaders renders the headers sorted, secrets masked.
func MaskedHeaders(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, k+": "+maskHeaderValue(k, v))
		}
	}
	return out
}

// sensitiveFields are body fields masked when a body is shown.
var sensitiveFields = []string{"password", "passwd", "secret", "token", "csrfmiddlewaretoken", "authenticity_token", "_token", "_csrf", "api_key", "apikey", "client_secret"}

// maskBody shows at most 200 bytes of the body, masking obvious secret
// fields (form or JSON) so a password typed into a form never ends up in a
// terminal scrollback.
func maskBody(body []byte) string {
	s := string(body)
	for _, f := range sensitiveFields {
		s = maskField(s, f)
	}
	if len(s) > 200 {
		s = s[:200] + "…(" + strconv.Itoa(len(body)) + " bytes)"
	}
	return s
}

func maskField(s, field string) string {
	// ASCII-only lowering keeps byte offsets identical to s; ToLower
	// would turn invalid UTF-8 into longer U+FFFD runes (found by fuzzing).
	lower := asciiLower(s)
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lower[i:], field)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		j += i
		end := j + len(field)
		// Skip the JSON closing quote and separators up to the value.
		k := end
		for k < len(s) && (s[k] == '"' || s[k] == ' ' || s[k] == ':') {
			k++
		}
		if k < len(s) && s[k] == '=' {
			k++
		}
		quoted := k < len(s) && s[k] == '"'
		if quoted {
			k++
		}
		if k == end || (k < len(s) && s[k-1] != '=' && s[k-1] != ':' && s[k-1] != '"' && s[k-1] != ' ') {
			b.WriteString(s[i:end])
			i = end
			continue
		}
		v := k
		for v < len(s) && s[v] != '&' && s[v] != '"' && s[v] != ',' && s[v] != '}' && s[v] != '\n' {
			v++
		}
		b.WriteString(s[i:k])
		b.WriteString(Mask(s[k:v]))
		i = v
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
