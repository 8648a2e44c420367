package csrf

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/layer/cors/origins"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// Name is the layer's name in pipeline.Order and in config.
const Name = "csrf"

// Config is the csrf section of a route.
type Config struct {
	// TrustedOrigins may send cross-origin state-changing requests
	// (exact origins or https://*.example.com wildcards).
	TrustedOrigins []string `yaml:"trusted_origins"`
	// ExemptWhenHeader exempts requests that carry one of these headers
	// and no Cookie header (API clients, not browser sessions).
	ExemptWhenHeader []string `yaml:"exempt_when_header"`
	// Token turns on the signed double-submit token.
	Token *TokenConfig `yaml:"token"`
}

// TokenConfig configures the double-submit token.
type TokenConfig struct {
	// Secret signs tokens; at least 32 bytes, e.g. ${CSRF_SECRET}.
	Secret string `yaml:"secret"`
	// SessionCookie names the cookie the token is bound to. Without it
	// tokens are not bound to a session.
	SessionCookie string `yaml:"session_cookie"`
	// Cookie carries the token to the page (default pp_csrf).
	Cookie string `yaml:"cookie"`
	// Header carries it back (default X-CSRF-Token).
	Header string `yaml:"header"`
	// FormField carries it back in form posts (default csrf_token).
	FormField string `yaml:"form_field"`
	// TTL is how long a token is valid (default 12h).
	TTL time.Duration `yaml:"ttl"`
	// CookiePath and CookieDomain scope the cookie (path default "/").
	CookiePath   string `yaml:"cookie_path"`
	CookieDomain string `yaml:"cookie_domain"`
	// SameSite is lax (default) or strict.
	SameSite string `yaml:"same_site"`
	// InsecureCookie drops the Secure attribute, for local http only.
	InsecureCookie bool `yaml:"insecure_cookie"`
}

// Layer is the csrf layer of one route.
type Layer struct {
	trusted *origins.Set
	exempt  []string
	token   *tokenMode
	now     func() time.Time
}

// tokenMode is the compiled token configuration.
type tokenMode struct {
	signer        *signer
	sessionCookie string
	cookie        string
	header        string
	formField     string
	ttl           time.Duration
	cookieAttrs   string // "; Path=/; Max-Age=…; SameSite=Lax; Secure"
}

var _ pipeline.Layer = (*Layer)(nil)

func init() { pipeline.Register(Name, New) }

// minSecret is the shortest secret accepted: 256 bits, the HMAC's size.
const minSecret = 32

// New builds the layer from its config node.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return nil, err
	}
	set, err := origins.Parse(c.TrustedOrigins)
	if err != nil {
		return nil, b.Errorf(node, "trusted_origins", "%v", err)
	}
	if set.Any() {
		return nil, b.Errorf(node, "trusted_origins", `"*" would trust every site and turn the check off; list the origins, or remove the csrf section`)
	}
	l := &Layer{trusted: set, now: time.Now}
	if b.Env != nil && b.Env.Now != nil {
		l.now = b.Env.Now
	}
	for _, h := range c.ExemptWhenHeader {
		if h == "" || strings.ContainsAny(h, " :,") {
			return nil, b.Errorf(node, "exempt_when_header", "invalid header name %q", h)
		}
		if strings.EqualFold(h, "Cookie") {
			return nil, b.Errorf(node, "exempt_when_header", "Cookie cannot exempt a request: cookies are what CSRF abuses")
		}
		l.exempt = append(l.exempt, http.CanonicalHeaderKey(h))
	}
	if c.Token != nil {
		tm, err := compileToken(b, node, c.Token)
		if err != nil {
			return nil, err
		}
		l.token = tm
	}
	return l, nil
}

func compileToken(b *pipeline.Build, node *yaml.Node, t *TokenConfig) (*tokenMode, error) {
	if len(t.Secret) < minSecret {
		// The secret itself is never echoed.
		return nil, b.Errorf(node, "token.secret", "must be at least %d bytes (got %d); set it from the environment, e.g. secret: ${CSRF_SECRET}", minSecret, len(t.Secret))
	}
	tm := &tokenMode{
		sessionCookie: t.SessionCookie,
		cookie:        orDefault(t.Cookie, "pp_csrf"),
		header:        http.CanonicalHeaderKey(orDefault(t.Header, "X-CSRF-Token")),
		formField:     orDefault(t.FormField, "csrf_token"),
		ttl:           t.TTL,
	}
	if tm.ttl == 0 {
		tm.ttl = 12 * time.Hour
	}
	if tm.ttl < time.Minute {
		return nil, b.Errorf(node, "token.ttl", "%v is too short: pages need time to be filled in; use at least 1m", t.TTL)
	}
	if !validCookieName(tm.cookie) {
		return nil, b.Errorf(node, "token.cookie", "invalid cookie name %q", tm.cookie)
	}
	if tm.sessionCookie != "" && !validCookieName(tm.sessionCookie) {
		return nil, b.Errorf(node, "token.session_cookie", "invalid cookie name %q", tm.sessionCookie)
	}
	if tm.sessionCookie == tm.cookie {
		return nil, b.Errorf(node, "token.session_cookie", "must differ from token.cookie")
	}
	var attrs strings.Builder
	attrs.WriteString("; Path=" + orDefault(t.CookiePath, "/"))
	if t.CookieDomain != "" {
		attrs.WriteString("; Domain=" + t.CookieDomain)
	}
	attrs.WriteString("; Max-Age=" + strconv.FormatInt(int64(tm.ttl/time.Second), 10))
	switch strings.ToLower(t.SameSite) {
	case "", "lax":
		attrs.WriteString("; SameSite=Lax")
	case "strict":
		attrs.WriteString("; SameSite=Strict")
	default:
		return nil, b.Errorf(node, "token.same_site", "must be lax or strict, got %q (none would send the cookie cross-site)", t.SameSite)
	}
	if !t.InsecureCookie {
		attrs.WriteString("; Secure")
	}
	// Not HttpOnly: the page's script must read the cookie to copy the
	// token into the header.
	tm.cookieAttrs = attrs.String()
	tm.signer = newSigner(t.Secret, tm.ttl)
	return tm, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Name implements pipeline.Layer.
func (l *Layer) Name() string { return Name }

// Evaluate lets safe methods through (issuing a token when needed) and
// checks origin, then token, on state-changing ones.
func (l *Layer) Evaluate(_ context.Context, r *pipeline.Request) verdict.Verdict {
	h := r.HTTP.Header
	if h.Get("Cookie") == "" {
		for _, name := range l.exempt {
			if h.Get(name) != "" {
				return verdict.Skipped("credential header " + name + " and no cookies: not a browser session")
			}
		}
	}
	switch r.HTTP.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		if l.token != nil && r.HTTP.Method == http.MethodGet {
			return l.token.offer(r, l.now())
		}
		return verdict.Skipped("safe method")
	}
	v, ev, ok := l.checkOrigin(r)
	if !ok {
		return v
	}
	if l.token == nil {
		return verdict.Verdict{Evidence: ev}
	}
	v = l.token.check(r, l.now())
	v.Evidence = append(ev, v.Evidence...)
	return v
}

// session returns the session cookie value ("" when absent or unbound).
func (t *tokenMode) session(r *http.Request) string {
	if t.sessionCookie == "" {
		return ""
	}
	c, err := r.Cookie(t.sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// offer gives a GET response a fresh token cookie when the page has none
// usable: missing, invalid, for another session, or past half its life.
// Re-issuing on every GET would change the cookie under a page's feet
// while a form it already rendered is in flight.
func (t *tokenMode) offer(r *pipeline.Request, now time.Time) verdict.Verdict {
	session := t.session(r.HTTP)
	if c, err := r.HTTP.Cookie(t.cookie); err == nil {
		issued, err := t.signer.verify(c.Value, session, now)
		if err == nil && now.Sub(issued) < t.ttl/2 {
			return verdict.Verdict{Evidence: []verdict.Field{{Key: "csrf_token", Value: "current token kept"}}}
		}
	}
	tok, err := t.signer.issue(session, now)
	if err != nil {
		// No randomness: allow the GET, the next state change will say
		// the token is missing; never hand out a predictable token.
		return verdict.Verdict{Evidence: []verdict.Field{{Key: "csrf_token", Value: "not issued: " + err.Error()}}}
	}
	return verdict.Pass().
		With("csrf_token", "issued").
		WithHeader("Set-Cookie", t.cookie+"="+tok+t.cookieAttrs)
}

// check verifies the double-submitted token of a state-changing request.
func (t *tokenMode) check(r *pipeline.Request, now time.Time) verdict.Verdict {
	sent := r.HTTP.Header.Get(t.header)
	where := "header " + t.header
	if sent == "" {
		sent = t.formValue(r)
		where = "form field " + t.formField
	}
	c, cerr := r.HTTP.Cookie(t.cookie)
	switch {
	case sent == "" && cerr != nil:
		return verdict.Denied("csrf_token_missing", "token",
			"This route requires a CSRF token: neither the "+t.cookie+" cookie nor the "+t.header+" header (or form field "+t.formField+") was sent.").
			WithHint("Load a page of this site with GET first (it sets the " + t.cookie + " cookie), then send the cookie's value in the " + t.header + " header.")
	case sent == "":
		return verdict.Denied("csrf_token_missing", "token",
			"This route requires a CSRF token: the "+t.cookie+" cookie was sent, but not its value in the "+t.header+" header or form field "+t.formField+".")
	case cerr != nil:
		return verdict.Denied("csrf_token_missing", "token",
			"This route requires a CSRF token: the token was sent in the "+where+", but the "+t.cookie+" cookie it must match was not.").
			WithHint("Make sure the browser sends the " + t.cookie + " cookie (same site, path and Secure settings), or reload the page.")
	}
	if !constantEqual(sent, c.Value) {
		return invalid("mismatch", "The CSRF token in the "+where+" does not match the "+t.cookie+" cookie.")
	}
	issued, err := t.signer.verify(sent, t.session(r.HTTP), now)
	switch {
	case errors.Is(err, errExpired):
		return invalid("expired", "The CSRF token expired at "+issued.Add(t.ttl).UTC().Format(time.RFC3339)+
			" (tokens are valid for "+t.ttl.String()+"); reload the page to get a fresh one.").With("issued", issued.UTC().Format(time.RFC3339))
	case errors.Is(err, errWrongSession):
		return invalid("wrong_session", "The CSRF token was issued for another session (the "+t.sessionCookie+" cookie changed, e.g. after logging in again); reload the page to get a fresh one.")
	case err != nil:
		return invalid("tampered", "The CSRF token was altered or was not issued by this gateway (its signature does not verify).")
	}
	return verdict.Verdict{Evidence: []verdict.Field{{Key: "csrf_token", Value: "valid, issued " + issued.UTC().Format(time.RFC3339)}}}
}

func invalid(reason, detail string) verdict.Verdict {
	return verdict.Denied("csrf_token_invalid", "token", detail).With("reason", reason)
}
