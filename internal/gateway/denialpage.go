package gateway

import (
	"html"
	"net/http"
	"strings"

	"pinpoint/internal/verdict"
)

// serveDenialPage answers the "type" URI of a problem: one page per code
// that says what it means, the common causes and how to fix it.
func serveDenialPage(w http.ResponseWriter, r *http.Request, requestID string) {
	code := strings.Trim(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(verdict.TypePrefix, "/")), "/")
	w.Header().Set(verdict.HeaderRequestID, requestID)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	var entries []verdict.Entry
	if code == "" {
		entries = verdict.All()
	} else if e, ok := verdict.Lookup(code); ok {
		entries = []verdict.Entry{e}
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("pinpoint has no denial code " + code + "; see " + verdict.TypePrefix + " for the list.\n"))
		return
	}
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><meta charset=\"utf-8\"><title>pinpoint denial codes</title></head><body style=\"font-family:sans-serif;max-width:48em;margin:2em auto\">")
	for _, e := range entries {
		b.WriteString("<section id=\"" + e.Code + "\"><h2><code>" + e.Code + "</code> — " + html.EscapeString(e.Title) + "</h2>")
		b.WriteString("<p>Layer <code>" + e.Layer + "</code>, status " + itoa(e.Status) + ".</p>")
		b.WriteString("<p>" + html.EscapeString(e.Meaning) + "</p><h3>Common causes</h3><ul>")
		for _, c := range e.Causes {
			b.WriteString("<li>" + html.EscapeString(c) + "</li>")
		}
		b.WriteString("</ul><h3>How to fix it</h3><p>" + html.EscapeString(e.Fix) + "</p>")
		b.WriteString("<p>Operators: <code>pinpoint explain &lt;request id&gt;</code> shows the whole decision.</p></section>")
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
