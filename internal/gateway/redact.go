package gateway

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"pinpoint/internal/config"
)

// Redacted replaces a secret in the call log.
const Redacted = "[redacted]"

// redactor removes secrets before anything reaches the store.
type redactor struct {
	headers map[string]bool
	query   map[string]bool
}

var defaultSecretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "Api-Key", "Apikey", "X-Auth-Token", "X-Csrf-Token", "X-Xsrf-Token", "X-Amz-Security-Token"}

var defaultSecretQuery = []string{"api_key", "apikey", "key", "token", "access_token", "id_token", "refresh_token", "password", "secret", "client_secret", "signature", "sig", "x-amz-signature", "code"}

func newRedactor(c config.Redact) *redactor {
	r := &redactor{headers: map[string]bool{}, query: map[string]bool{}}
	for _, h := range append(defaultSecretHeaders, c.Headers...) {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	for _, q := range append(defaultSecretQuery, c.Query...) {
		r.query[strings.ToLower(q)] = true
	}
	return r
}

// secretHeader reports whether a header's value must never be stored.
func (r *redactor) secretHeader(name string) bool {
	if r.headers[name] {
		return true
	}
	return containsFold(name, "token") || containsFold(name, "secret") || containsFold(name, "api-key") || containsFold(name, "apikey") || containsFold(name, "password")
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring ASCII case. It runs for every header of every request, where
// strings.ToLower would allocate a copy of each name.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// headers returns the request headers for the call log, secrets redacted
// (the scheme of an Authorization header is kept: "Bearer [redacted]").
func (r *redactor) headerMap(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vv := range h {
		var v string
		if len(vv) == 1 {
			v = vv[0]
		} else {
			v = strings.Join(vv, ", ")
		}
		if r.secretHeader(k) {
			if scheme, _, ok := strings.Cut(v, " "); ok && (k == "Authorization" || k == "Proxy-Authorization") && len(scheme) < 16 {
				v = scheme + " " + Redacted
			} else {
				v = Redacted
			}
		}
		if len(v) > 512 {
			v = v[:512] + "…"
		}
		out[k] = v
	}
	return out
}

// rawQuery redacts secret parameters in a query string.
func (r *redactor) rawQuery(q string) string {
	if q == "" {
		return ""
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return Redacted
	}
	changed := false
	for k := range vals {
		if r.query[strings.ToLower(k)] {
			vals[k] = []string{Redacted}
			changed = true
		}
	}
	if !changed {
		return q
	}
	return vals.Encode()
}

var secretPattern = regexp.MustCompile(`(?i)(pp_[a-z0-9]+_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,})`)

// secretField matches JSON members and form fields whose names say they
// hold a secret ("password": "...", token=...).
var secretField = regexp.MustCompile(`(?i)("(?:[a-z_-]*(?:password|passwd|secret|token|api_?key|apikey|authorization|credit_?card|card_?number|cvv|ssn))"\s*:\s*)"(?:[^"\\]|\\.)*"|\b((?:[a-z_-]*(?:password|passwd|secret|token|api_?key|apikey))=)[^&\s]*`)

// redactBody masks credential-looking strings and secret-named fields in a
// captured body excerpt.
func redactBody(s string) string {
	s = secretPattern.ReplaceAllString(s, Redacted)
	return secretField.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretField.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + `"` + Redacted + `"`
		}
		return sub[2] + Redacted
	})
}
