package probe

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"strings"
)

// csrfCookies, csrfHeaders and csrfFields are the names frameworks use:
// Django, Rails, Laravel, Spring, Angular, Express csurf, ASP.NET,
// Tornado.
var (
	csrfCookies = []string{"csrftoken", "XSRF-TOKEN", "_csrf", "csrf_token", "_xsrf", "CSRF-TOKEN", "__Host-csrf", "csrf"}
	csrfHeaders = []string{"X-Csrftoken", "X-Csrf-Token", "X-Xsrf-Token", "Requestverificationtoken", "X-Xsrftoken", "Csrf-Token"}
	csrfFields  = []string{"csrfmiddlewaretoken", "authenticity_token", "_token", "_csrf", "__RequestVerificationToken", "csrf_token", "_xsrf"}
)

type csrfState struct {
	cookieName, cookie string
	tokenWhere, token  string
	anyCookie          bool
}

func csrfOf(r *Request) csrfState {
	var s csrfState
	s.anyCookie = len(r.Cookies()) > 0
	for _, ck := range r.Cookies() {
		for _, n := range csrfCookies {
			if strings.EqualFold(ck.Name, n) || strings.HasPrefix(ck.Name, ".AspNetCore.Antiforgery.") {
				s.cookieName, s.cookie = ck.Name, ck.Value
			}
		}
	}
	for _, h := range csrfHeaders {
		if v := r.Header.Get(h); v != "" {
			s.tokenWhere, s.token = "header "+h, v
			return s
		}
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/") {
		if form, err := url.ParseQuery(string(r.Body)); err == nil && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			for _, f := range csrfFields {
				if v := form.Get(f); v != "" {
					s.tokenWhere, s.token = "field "+f, v
					return s
				}
			}
		}
		for _, f := range csrfFields {
			if strings.Contains(string(r.Body), `name="`+f+`"`) {
				s.tokenWhere, s.token = "field "+f, "(multipart)"
			}
		}
	}
	return s
}

// checkCSRF checks the token is present where the framework looks and
// matches its cookie. Safe methods are never CSRF-checked.
func checkCSRF(c *collector, r *Request) {
	if isSafeMethod(r.Method) {
		c.step(PhaseRequest, "CSRF token", Skip, r.Method+" is not CSRF-checked")
		return
	}
	s := csrfOf(r)
	switch {
	case s.token == "" && s.cookie != "":
		c.step(PhaseRequest, "CSRF token", Fail, fmt.Sprintf("cookie %s sent but no token header or form field", s.cookieName))
		c.find(Finding{ID: "csrf.token_missing", Title: "CSRF token missing: the cookie is sent but not the token", Confidence: 55, Phase: PhaseRequest,
			Evidence: []string{"cookie " + s.cookieName + " present", "no " + strings.Join(csrfHeaders[:3], "/") + " header and no token field"},
			Fix:      csrfFix(s.cookieName)})
	case s.token == "" && s.anyCookie:
		c.step(PhaseRequest, "CSRF token", Warn, "cookies sent without a CSRF token: cookie-authenticated POSTs need one in most frameworks")
	case s.token == "":
		c.step(PhaseRequest, "CSRF token", Info, "no cookies and no token (fine for token-authenticated APIs; Django still checks)")
	case s.cookie == "":
		c.step(PhaseRequest, "CSRF token", Info, "token in "+s.tokenWhere+", no CSRF cookie to compare")
	default:
		match, how := csrfMatch(s.cookieName, s.cookie, s.token)
		if how == "" {
			c.step(PhaseRequest, "CSRF token", Pass, "token in "+s.tokenWhere+" and cookie "+s.cookieName)
			return
		}
		if match {
			c.step(PhaseRequest, "CSRF token", Pass, "token in "+s.tokenWhere+" matches cookie "+s.cookieName+" ("+how+")")
			return
		}
		c.step(PhaseRequest, "CSRF token", Fail, "token in "+s.tokenWhere+" does not match cookie "+s.cookieName+" ("+how+")")
		c.find(Finding{ID: "csrf.token_mismatch", Title: "CSRF token does not match its cookie", Confidence: 70, Phase: PhaseRequest,
			Evidence: []string{s.tokenWhere + " = " + Mask(s.token), "cookie " + s.cookieName + " = " + Mask(s.cookie), "compared " + how},
			Fix:      "Copy the token from the same session as the cookie: reload the page (or call the token endpoint) and take both together."})
	}
}

func csrfFix(cookie string) string {
	switch cookie {
	case "csrftoken":
		return "Django: send the csrftoken cookie's value in X-CSRFToken (or the csrfmiddlewaretoken form field)."
	case "XSRF-TOKEN":
		return "Send the XSRF-TOKEN cookie's (URL-decoded) value in the X-XSRF-TOKEN header (Angular/Laravel/Spring do this automatically for same-origin requests)."
	}
	return "Send the CSRF token the page or a token endpoint gives you in the header or field the framework expects."
}

// csrfMatch compares token and cookie the way the framework would, and
// says how; an empty how means the scheme is unknown (encrypted or
// signed tokens cannot be compared offline).
func csrfMatch(cookieName, cookie, token string) (bool, string) {
	switch {
	case strings.EqualFold(cookieName, "csrftoken"):
		a, b := djangoSecret(cookie), djangoSecret(token)
		if a == "" || b == "" {
			// Not Django's 32/64-character format: cannot compare.
			return false, ""
		}
		return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1, "Django unmasked secret"
	case strings.EqualFold(cookieName, "XSRF-TOKEN"):
		dc, err := url.QueryUnescape(cookie)
		if err != nil {
			dc = cookie
		}
		return dc == token, "double-submit: header equals URL-decoded cookie"
	}
	return false, ""
}

const djangoChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// djangoSecret returns the 32-character secret of a Django CSRF value:
// a 32-character value is the secret itself, a 64-character one is a
// salt followed by the secret shifted by the salt (Django's masking,
// which changes the token on every page but not the secret).
func djangoSecret(v string) string {
	switch len(v) {
	case 32:
		return v
	case 64:
		salt, enc := v[:32], v[32:]
		out := make([]byte, 32)
		n := len(djangoChars)
		for i := 0; i < 32; i++ {
			x := strings.IndexByte(djangoChars, enc[i])
			y := strings.IndexByte(djangoChars, salt[i])
			if x < 0 || y < 0 {
				return ""
			}
			out[i] = djangoChars[((x-y)%n+n)%n]
		}
		return string(out)
	}
	return ""
}

// checkOrigin checks Origin and Referer, which CSRF defences (Django,
// Rails, pinpoint's own) and CORS compare against trusted origins.
func checkOrigin(c *collector, r *Request) {
	u, err := r.ParsedURL()
	if err != nil {
		return
	}
	self := u.Scheme + "://" + u.Host
	origin := r.Header.Get("Origin")
	ref := r.Header.Get("Referer")
	switch {
	case origin == "null":
		c.step(PhaseRequest, "Origin/Referer", Warn, "Origin: null (sandboxed iframe, file:// page or a redirect): servers refuse it as untrusted")
		c.find(Finding{ID: "request.origin_null", Title: "Origin is null", Confidence: 45, Phase: PhaseRequest,
			Evidence: []string{"Origin: null"}, Fix: "Send the request from a page served over http(s) on a trusted origin."})
	case origin != "" && !strings.EqualFold(strings.TrimSuffix(origin, "/"), self) && !sameDefaultPort(origin, self):
		c.step(PhaseRequest, "Origin/Referer", Warn, "cross-origin: Origin "+origin+" differs from "+self)
		c.find(Finding{ID: "request.cross_origin", Title: "Cross-origin request: the server must trust " + origin, Confidence: 30, Phase: PhaseRequest,
			Evidence: []string{"Origin: " + origin, "target: " + self},
			Fix:      "Add " + origin + " to the server's trusted origins (CORS allow-list; Django CSRF_TRUSTED_ORIGINS; Rails forgery_protection_origin_check)."})
	case origin == "" && ref == "" && u.Scheme == "https" && !isSafeMethod(r.Method) && len(r.Cookies()) > 0:
		c.step(PhaseRequest, "Origin/Referer", Warn, "no Origin and no Referer on an https POST with cookies: Django refuses it (\"Referer checking failed - no Referer\")")
	case origin == "" && ref == "":
		c.step(PhaseRequest, "Origin/Referer", Info, "neither sent (not a browser request)")
	default:
		c.step(PhaseRequest, "Origin/Referer", Pass, "same origin")
	}
}

func sameDefaultPort(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && hostKey(ua) == hostKey(ub)
}
