package cors

import (
	"context"
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
const Name = "cors"

// Config is the cors section of a route.
type Config struct {
	// Origins are exact origins ("https://app.example.com"), wildcards
	// ("https://*.example.com") or "*".
	Origins []string `yaml:"origins"`
	// Methods a page may use; default GET, HEAD, POST.
	Methods []string `yaml:"methods"`
	// Headers a page may send; default Content-Type. "*" allows any.
	Headers []string `yaml:"headers"`
	// ExposeHeaders are response headers page scripts may read, on top of
	// Pinpoint-Request-Id, which is always exposed so a page can report it.
	ExposeHeaders []string `yaml:"expose_headers"`
	// Credentials allows cookies and HTTP authentication.
	Credentials bool `yaml:"credentials"`
	// MaxAge is how long browsers may cache a preflight answer.
	MaxAge time.Duration `yaml:"max_age"`
}

// Policy is the cors layer of one route.
type Policy struct {
	origins     *origins.Set
	methods     []string
	allowMethod string // Access-Control-Allow-Methods value
	headers     map[string]bool
	anyHeader   bool
	expose      string
	credentials bool
	maxAge      string
}

var _ pipeline.Layer = (*Policy)(nil)

func init() { pipeline.Register(Name, New) }

// New builds the layer from its config node.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return nil, err
	}
	if len(c.Origins) == 0 {
		return nil, b.Errorf(node, "origins", "required: list the origins (scheme://host[:port]) whose pages may call this route")
	}
	set, err := origins.Parse(c.Origins)
	if err != nil {
		return nil, b.Errorf(node, "origins", "%v", err)
	}
	if set.Any() && c.Credentials {
		return nil, b.Errorf(node, "credentials", `cannot be true with origins "*": browsers refuse it, and echoing every origin with credentials would let any site act as the user; list the origins`)
	}
	p := &Policy{origins: set, credentials: c.Credentials, headers: map[string]bool{}}
	if len(c.Methods) == 0 {
		c.Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	for _, m := range c.Methods {
		if m == "" || strings.ContainsAny(m, " ,") {
			return nil, b.Errorf(node, "methods", "invalid method %q", m)
		}
		p.methods = append(p.methods, strings.ToUpper(m))
	}
	p.allowMethod = strings.Join(p.methods, ", ")
	if c.Headers == nil {
		c.Headers = []string{"Content-Type"}
	}
	for _, h := range c.Headers {
		if h == "*" {
			p.anyHeader = true
			continue
		}
		if h == "" || strings.ContainsAny(h, " ,:") {
			return nil, b.Errorf(node, "headers", "invalid header name %q", h)
		}
		p.headers[strings.ToLower(h)] = true
	}
	expose := append([]string{verdict.HeaderRequestID}, c.ExposeHeaders...)
	p.expose = strings.Join(expose, ", ")
	switch {
	case c.MaxAge < 0:
		return nil, b.Errorf(node, "max_age", "must not be negative")
	case c.MaxAge > 0 && c.MaxAge < time.Second:
		return nil, b.Errorf(node, "max_age", "%v is below one second: write a duration like 10m", c.MaxAge)
	case c.MaxAge > 0:
		p.maxAge = strconv.FormatInt(int64(c.MaxAge/time.Second), 10)
	}
	return p, nil
}

// Name implements pipeline.Layer.
func (p *Policy) Name() string { return Name }

// Evaluate answers preflights and decorates actual cross-origin requests.
func (p *Policy) Evaluate(_ context.Context, r *pipeline.Request) verdict.Verdict {
	h := r.HTTP.Header
	origin := h.Get("Origin")
	if origin == "" {
		return verdict.Skipped("no Origin header: not a cross-origin browser request")
	}
	reqMethod := h.Get("Access-Control-Request-Method")
	if r.HTTP.Method == http.MethodOptions && reqMethod != "" {
		return p.preflight(origin, reqMethod, h.Values("Access-Control-Request-Headers"))
	}
	entry, ok := p.origins.Match(origin)
	v := verdict.Pass().With("origin", origin)
	if !ok {
		// Not refused (see the package comment); without the header the
		// browser keeps the response from the calling page's script.
		return v.With("cors", "origin not allowed: no CORS headers added, the browser will hide the response from the page").
			WithHeader("Vary", "Origin")
	}
	return p.allowHeaders(v.With("matched", entry), origin).
		WithHeader("Access-Control-Expose-Headers", p.expose)
}

func (p *Policy) allowHeaders(v verdict.Verdict, origin string) verdict.Verdict {
	if p.origins.Any() {
		v = v.WithHeader("Access-Control-Allow-Origin", "*")
	} else {
		v = v.WithHeader("Access-Control-Allow-Origin", origin).WithHeader("Vary", "Origin")
	}
	if p.credentials {
		v = v.WithHeader("Access-Control-Allow-Credentials", "true")
	}
	return v
}

func (p *Policy) preflight(origin, method string, reqHeaders []string) verdict.Verdict {
	entry, ok := p.origins.Match(origin)
	if !ok {
		return verdict.Denied("cors_origin_not_allowed", "origins",
			"The origin "+origin+" is not allowed to call this route from a browser.").
			With("origin", origin).
			WithHeader("Vary", "Origin")
	}
	if !p.methodAllowed(method) {
		return p.preflightDenial(verdict.Denied("cors_method_not_allowed", "methods",
			"A page from "+origin+" asked to use method "+method+", which this route's CORS policy does not allow.").
			With("origin", origin).With("method", method).With("allowed_methods", p.allowMethod), origin)
	}
	var requested []string
	for _, line := range reqHeaders {
		for _, name := range strings.Split(line, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if !p.anyHeader && !p.headers[name] {
				return p.preflightDenial(verdict.Denied("cors_header_not_allowed", "headers",
					"A page from "+origin+" asked to send header "+name+", which this route's CORS policy does not allow.").
					With("origin", origin).With("header", name), origin)
			}
			requested = append(requested, name)
		}
	}
	v := verdict.Answered(http.StatusNoContent, "cors").With("origin", origin).With("matched", entry)
	v = p.allowHeaders(v, origin).
		WithHeader("Access-Control-Allow-Methods", p.allowMethod).
		WithHeader("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	if len(requested) > 0 {
		// Echoing exactly what was asked for works with credentials,
		// where a literal "*" would not.
		v = v.WithHeader("Access-Control-Allow-Headers", strings.Join(requested, ", "))
	}
	if p.maxAge != "" {
		v = v.WithHeader("Access-Control-Max-Age", p.maxAge)
	}
	return v
}

// preflightDenial adds the allow-origin headers to a refusal for an
// allowed origin. Browsers never hand a failed preflight to the page, but
// with the header present the console reports the real status instead of
// a misleading "no Access-Control-Allow-Origin header".
func (p *Policy) preflightDenial(v verdict.Verdict, origin string) verdict.Verdict {
	return p.allowHeaders(v, origin)
}

func (p *Policy) methodAllowed(m string) bool {
	for _, allowed := range p.methods {
		if strings.EqualFold(allowed, m) {
			return true
		}
	}
	return false
}
