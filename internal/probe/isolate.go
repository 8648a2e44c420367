package probe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// variation is one changed copy of the original request.
type variation struct {
	name    string // short id: no_cookies, minimal_body, content_type, no_origin
	purpose string
	req     *Request
}

// denied is true for a response that refused the request (or none).
func denied(r *Response) bool { return r == nil || r.NetError != "" || r.Status >= 400 }

// bodyless copies the original's headers minus the body-related ones, for
// safe methods.
func bodyless(orig *Request, method string) *Request {
	v := orig.Clone()
	v.Method = method
	v.Body = nil
	v.Header.Del("Content-Type")
	v.Header.Del("Content-Length")
	return v
}

// preflight builds the OPTIONS request a browser would send before this
// request: Access-Control-Request-Method and the non-safelisted header
// names, no credentials (browsers never send cookies on a preflight).
func preflight(orig *Request) *Request {
	p := newRequest(orig.Source)
	p.Method = "OPTIONS"
	p.URL = orig.URL
	p.Insecure = orig.Insecure
	if o := orig.Header.Get("Origin"); o != "" {
		p.Header.Set("Origin", o)
		p.Header.Set("Access-Control-Request-Method", orig.Method)
		if hs := nonSafelisted(orig.Header); len(hs) > 0 {
			p.Header.Set("Access-Control-Request-Headers", strings.Join(hs, ","))
		}
	}
	if ua := orig.Header.Get("User-Agent"); ua != "" {
		p.Header.Set("User-Agent", ua)
	}
	return p
}

// nonSafelisted lists request headers that make a browser preflight.
func nonSafelisted(h http.Header) []string {
	var out []string
	for k := range h {
		switch k {
		case "Accept", "Accept-Language", "Content-Language", "Origin", "Referer", "User-Agent", "Cookie", "Host",
			"Accept-Encoding", "Connection", "Content-Length", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest",
			"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Priority", "Pragma", "Cache-Control", "Dnt":
			continue
		case "Content-Type":
			mt := strings.ToLower(strings.TrimSpace(strings.Split(h.Get(k), ";")[0]))
			if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain" {
				continue
			}
		}
		out = append(out, strings.ToLower(k))
	}
	sort.Strings(out)
	return out
}

// replayVariations lists the one-change variations of the POST, most
// telling first, so a small budget is spent where it proves most.
func replayVariations(orig *Request) []variation {
	var vs []variation
	if len(orig.Cookies()) > 0 {
		v := orig.Clone()
		v.Header.Del("Cookie")
		vs = append(vs, variation{"no_cookies", "the same " + orig.Method + " without cookies", v})
	}
	ct := strings.ToLower(orig.Header.Get("Content-Type"))
	body := strings.TrimSpace(string(orig.Body))
	looksJSON := json.Valid([]byte(body)) && (strings.HasPrefix(body, "{") || strings.HasPrefix(body, "["))
	if looksJSON && !strings.Contains(ct, "json") {
		v := orig.Clone()
		v.Header.Set("Content-Type", "application/json")
		vs = append(vs, variation{"content_type", "the same body as application/json", v})
	}
	if len(orig.Body) > 0 {
		v := orig.Clone()
		switch {
		case strings.Contains(ct, "json"), looksJSON:
			v.Body = []byte("{}")
		default:
			v.Body = nil
			// Keep the CSRF field: dropping it would change two things.
			s := csrfOf(orig)
			if strings.HasPrefix(s.tokenWhere, "field ") && s.token != "(multipart)" && strings.Contains(ct, "urlencoded") {
				v.Body = []byte(strings.TrimPrefix(s.tokenWhere, "field ") + "=" + s.token)
			}
		}
		vs = append(vs, variation{"minimal_body", "the same " + orig.Method + " with a minimal body", v})
	}
	if orig.Header.Get("Origin") != "" || orig.Header.Get("Referer") != "" {
		v := orig.Clone()
		v.Header.Del("Origin")
		v.Header.Del("Referer")
		vs = append(vs, variation{"no_origin", "the same " + orig.Method + " without Origin and Referer", v})
	}
	return vs
}

// analyseSafe interprets the preflight and the GET of the same URL.
func analyseSafe(c *collector, orig *Request, resp, opts, get *Response) {
	if opts != nil {
		allow := opts.Header.Get("Allow")
		if allow == "" {
			allow = opts.Header.Get("Access-Control-Allow-Methods")
		}
		detail := fmt.Sprintf("OPTIONS → %d", opts.Status)
		if allow != "" {
			detail += ", allows " + allow
		}
		if allow != "" && !headerListHas(allow, orig.Method) && !strings.Contains(allow, "*") {
			c.step(PhaseIsolation, "OPTIONS / Allow", Fail, detail)
			conf := 55
			if resp != nil && (resp.Status == 405 || resp.Status == 404) {
				conf = 88
			}
			c.find(Finding{ID: "request.method_not_allowed", Title: orig.Method + " is not allowed on this URL", Confidence: conf, Phase: PhaseIsolation,
				Evidence: []string{"OPTIONS says: " + allow},
				Fix:      "Check the URL (a missing trailing slash or version prefix often lands on another resource) or use one of: " + allow})
		} else if opts.Status == 404 {
			c.step(PhaseIsolation, "OPTIONS / Allow", Warn, detail+": the path may not exist (check for typos)")
		} else {
			c.step(PhaseIsolation, "OPTIONS / Allow", Pass, detail)
		}
		if origin := orig.Header.Get("Origin"); origin != "" {
			acao := opts.Header.Get("Access-Control-Allow-Origin")
			switch {
			case acao == "":
				c.step(PhaseIsolation, "CORS preflight", Warn, "no Access-Control-Allow-Origin for "+origin+": a browser would block this request")
				c.find(Finding{ID: "cors.origin_not_allowed", Title: "CORS: the server does not allow origin " + origin, Confidence: 45, Phase: PhaseIsolation,
					Evidence: []string{fmt.Sprintf("preflight OPTIONS → %d without Access-Control-Allow-Origin", opts.Status)},
					Fix:      "Add " + origin + " to the server's CORS allowed origins (this only matters for browsers; curl ignores CORS)."})
			case acao != "*" && !strings.EqualFold(acao, origin):
				c.step(PhaseIsolation, "CORS preflight", Fail, "Access-Control-Allow-Origin is "+acao+", not "+origin)
				c.find(Finding{ID: "cors.origin_not_allowed", Title: "CORS: the server allows " + acao + ", not " + origin, Confidence: 60, Phase: PhaseIsolation,
					Evidence: []string{"Access-Control-Allow-Origin: " + acao}, Fix: "Add " + origin + " to the allowed origins."})
			default:
				c.step(PhaseIsolation, "CORS preflight", Pass, "origin allowed")
			}
			if want := preflight(orig).Header.Get("Access-Control-Request-Headers"); want != "" && acao != "" {
				allowed := opts.Header.Get("Access-Control-Allow-Headers")
				var missing []string
				for _, h := range strings.Split(want, ",") {
					if !headerListHas(allowed, h) && allowed != "*" {
						missing = append(missing, h)
					}
				}
				if len(missing) > 0 {
					c.step(PhaseIsolation, "CORS headers", Fail, "not allowed: "+strings.Join(missing, ", "))
					c.find(Finding{ID: "cors.header_not_allowed", Title: "CORS: header " + strings.Join(missing, ", ") + " is not allowed", Confidence: 60, Phase: PhaseIsolation,
						Evidence: []string{"Access-Control-Allow-Headers: " + allowed}, Fix: "Allow the header in the CORS configuration, or stop sending it from the page."})
				}
			}
		}
	}
	if get == nil || resp == nil || !denied(resp) {
		return
	}
	top := topFingerprint(resp)
	switch {
	case denied(get) && get.Status == resp.Status && topFingerprint(get) == top:
		c.step(PhaseIsolation, "GET same URL", Info, fmt.Sprintf("GET → %d too: the denial does not depend on the method or body (path, IP, credentials or client)", get.Status))
		c.boost("nginx.forbidden", 80, "a GET of the same URL is refused the same way: an access rule on the path, not the body")
		c.boost("apache.forbidden", 80, "a GET of the same URL is refused the same way: a Require rule on the path, not the body")
		c.boost("haproxy.deny", 92, "")
	case !denied(get) || get.Status == 405 || get.Status == 404:
		c.step(PhaseIsolation, "GET same URL", Info, fmt.Sprintf("GET → %d while %s → %d: the %s itself is refused (body, method or CSRF, which checks only unsafe methods)", get.Status, orig.Method, resp.Status, orig.Method))
		ev := fmt.Sprintf("GET of the same URL → %d, only the %s is refused", get.Status, orig.Method)
		for _, p := range []string{"csrf.", "django.", "drf.", "rails.", "laravel.", "spring.", "express.", "aspnet.", "modsecurity.", "waf."} {
			for i := range c.findings {
				if strings.HasPrefix(c.findings[i].ID, p) {
					c.findings[i].Confidence = min(c.findings[i].Confidence+5, 97)
					c.findings[i].Evidence = append(c.findings[i].Evidence, ev)
				}
			}
		}
		if c.has("apache.forbidden") || c.has("nginx.forbidden") {
			c.find(Finding{ID: "waf.content_rule", Title: "A content rule (WAF such as ModSecurity/CRS) likely refused the body, not a path rule", Confidence: 70, Phase: PhaseIsolation,
				Evidence: []string{ev, "the server's generic 403 page is also what ModSecurity answers with"},
				Fix:      "Confirm with the server's error log (--log) which rule id fired, then add a targeted exclusion; or change the field that looks like an attack."})
		}
	default:
		c.step(PhaseIsolation, "GET same URL", Info, fmt.Sprintf("GET → %d", get.Status))
	}
}

func topFingerprint(r *Response) string {
	if ms := MatchFingerprints(r); len(ms) > 0 {
		return ms[0].Fingerprint.ID
	}
	return ""
}

func headerListHas(list, item string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(p), strings.TrimSpace(item)) {
			return true
		}
	}
	return false
}

// analyseReplay states what one variation proves.
func analyseReplay(c *collector, orig *Request, resp *Response, v variation, got *Response, gotErr error) {
	if gotErr != nil || got == nil {
		c.step(PhaseIsolation, v.purpose, Skip, fmt.Sprint(gotErr))
		return
	}
	if denied(got) && got.Status == resp.Status {
		c.step(PhaseIsolation, v.purpose, Info, fmt.Sprintf("→ %d as well: %s is not the cause", got.Status, map[string]string{
			"no_cookies": "the cookie", "content_type": "the Content-Type", "minimal_body": "the body content", "no_origin": "the Origin/Referer"}[v.name]))
		return
	}
	if denied(got) {
		c.step(PhaseIsolation, v.purpose, Info, fmt.Sprintf("→ %d instead of %d", got.Status, resp.Status))
		if v.name == "no_cookies" && (got.Status == 401) {
			c.find(Finding{ID: "isolation.cookie_is_credential", Title: "The session cookie authenticates; the denial comes after authentication (permissions or CSRF)", Confidence: 60, Phase: PhaseIsolation,
				Evidence: []string{fmt.Sprintf("%s → %d, without cookies → 401", v.purpose, resp.Status)},
				Fix:      "Check the user's permissions for this action and the CSRF token of the session."})
		}
		return
	}
	ev := []string{fmt.Sprintf("original → %d, %s → %d", resp.Status, v.purpose, got.Status)}
	c.step(PhaseIsolation, v.purpose, Pass, fmt.Sprintf("→ %d: this change makes it pass", got.Status))
	switch v.name {
	case "no_cookies":
		title := "The cookies cause the denial"
		fix := "Check what the cookies carry: an old session, or a cookie-authenticated request that then needs a CSRF token."
		if c.has("csrf.") || c.has("django.csrf") || c.has("drf.csrf") || c.has("rails.csrf") || c.has("laravel") || c.has("spring") || csrfOf(orig).cookie != "" {
			title = "The same POST without cookies passes CSRF → the session cookie triggers CSRF checking"
			fix = "Either send the CSRF token with the cookie-authenticated request, or call the API without the session cookie using token authentication."
		}
		c.find(Finding{ID: "isolation.cookie", Title: title, Confidence: 90, Phase: PhaseIsolation, Evidence: ev, Fix: fix})
	case "content_type":
		c.find(Finding{ID: "isolation.content_type", Title: "The Content-Type was wrong: the same body as application/json passes", Confidence: 93, Phase: PhaseIsolation, Evidence: ev,
			Fix: "Send Content-Type: application/json (curl --json, or -H 'Content-Type: application/json')."})
		c.boost("request.json_as_form", 93, "confirmed by replay")
	case "minimal_body":
		c.find(Finding{ID: "isolation.body", Title: "The body content triggers the denial (a WAF rule false positive or server-side validation)", Confidence: 88, Phase: PhaseIsolation, Evidence: ev,
			Fix: "Bisect the body to find the field; with a WAF, the log's rule id shows which pattern matched."})
		c.boost("modsecurity.", 93, "the minimal body passes: the content matched a rule")
		c.boost("waf.", 90, "the minimal body passes: the content matched a rule")
	case "no_origin":
		c.find(Finding{ID: "isolation.origin", Title: "The Origin/Referer is not trusted: the same request without them passes", Confidence: 90, Phase: PhaseIsolation, Evidence: ev,
			Fix: "Add the front end's origin to the server's trusted origins (CSRF_TRUSTED_ORIGINS, CORS allow-list), or serve the page from the API's origin."})
	}
}
