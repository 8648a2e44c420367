package csrf

import (
	"net/url"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// checkOrigin refuses cross-origin requests from browsers, following the
// algorithm of Go's http.CrossOriginProtection: trust Sec-Fetch-Site when
// the browser sends it, fall back to comparing Origin with Host when it
// does not, and let through requests with neither (not from a browser, or
// from one too old to send them, where SameSite cookies are the defence).
// It returns a verdict only when it refuses, plus evidence of how it
// decided.
func (l *Layer) checkOrigin(r *pipeline.Request) (verdict.Verdict, []verdict.Field, bool) {
	h := r.HTTP.Header
	origin := h.Get("Origin")
	site := h.Get("Sec-Fetch-Site")
	switch site {
	case "same-origin", "none":
		// "none" is a user-initiated navigation (bookmark, typed URL).
		return verdict.Verdict{}, []verdict.Field{{Key: "sec_fetch_site", Value: site}}, true
	case "":
		if origin == "" {
			return verdict.Verdict{}, []verdict.Field{{Key: "origin_check", Value: "no Sec-Fetch-Site and no Origin: not a browser request"}}, true
		}
		if u, err := url.Parse(origin); err == nil && u.Host != "" && u.Host == r.HTTP.Host {
			return verdict.Verdict{}, []verdict.Field{{Key: "origin_check", Value: "Origin matches Host"}}, true
		}
	}
	if entry, ok := l.trusted.Match(origin); ok {
		return verdict.Verdict{}, []verdict.Field{{Key: "origin", Value: origin}, {Key: "trusted_by", Value: entry}}, true
	}
	seen := site
	if seen == "" {
		seen = "not sent"
	}
	var detail string
	if origin == "" {
		detail = "The browser marked this " + r.HTTP.Method + " request as " + site + " (Sec-Fetch-Site) and sent no Origin header, so it cannot come from a trusted origin."
	} else {
		detail = "The request came from origin " + origin + " (Sec-Fetch-Site: " + seen + "), which is not a trusted origin for this route."
	}
	v := verdict.Denied("csrf_origin_mismatch", "trusted_origins", detail).
		With("origin", origin).With("sec_fetch_site", seen).With("host", r.HTTP.Host)
	return v, nil, false
}
