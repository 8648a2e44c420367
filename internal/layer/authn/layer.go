package authn

import (
	"context"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func init() { pipeline.Register("authn", New) }

// Layer authenticates requests.
type Layer struct {
	dir   *identity.Directory
	now   func() time.Time
	realm string

	key   *keyAuth
	jwt   *jwtAuth
	intro *introspector
	basic *basicAuth

	// missing is the challenge set for a request without credentials.
	missing []string
	// where describes, for the caller, where credentials go.
	where string
	// enforceSuspension is set when no consumer layer applies to the
	// route, so that a suspended consumer is still refused.
	enforceSuspension bool
}

var (
	_ pipeline.Layer  = (*Layer)(nil)
	_ pipeline.Closer = (*Layer)(nil)
)

// Name is the layer name.
func (l *Layer) Name() string { return "authn" }

// Close releases the identity directory.
func (l *Layer) Close() error { return l.dir.Close() }

// New builds the layer from its config node.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var cfg Config
	if err := b.Decode(node, &cfg); err != nil {
		return nil, err
	}
	l := &Layer{realm: cfg.Realm, now: func() time.Time { return b.Env.Now() }}
	if l.realm == "" {
		l.realm = DefaultRealm
	}
	if !quotable(l.realm) {
		return nil, b.Errorf(node, "realm", "must not contain quotes, backslashes or line breaks")
	}
	if cfg.Key == nil && cfg.JWT == nil && cfg.Introspection == nil && cfg.Basic == nil {
		return nil, b.Errorf(node, "", "configure at least one of key, jwt, introspection, basic")
	}
	var err error
	if cfg.Key != nil {
		if l.key, err = newKeyAuth(b, node, cfg.Key); err != nil {
			return nil, err
		}
	}
	if cfg.JWT != nil {
		if l.jwt, err = newJWTAuth(b, node, cfg.JWT); err != nil {
			return nil, err
		}
	}
	if cfg.Introspection != nil {
		if l.intro, err = newIntrospector(b, node, cfg.Introspection); err != nil {
			return nil, err
		}
	}
	if cfg.Basic != nil {
		l.basic = newBasicAuth(cfg.Basic)
	}
	l.missing, l.where = l.challenges()
	l.enforceSuspension = !consumerLayerApplies(b)
	if l.dir, err = identity.OpenDirectory(b.Env, b.Global); err != nil {
		return nil, b.Errorf(node, "", "%v", err)
	}
	return l, nil
}

// consumerLayerApplies reports whether the route also runs the consumer
// layer (its own section or a global one).
func consumerLayerApplies(b *pipeline.Build) bool {
	if b.Global == nil {
		return false
	}
	if _, ok := b.Global.Global["consumer"]; ok {
		return true
	}
	if b.Route == nil {
		return false
	}
	for _, rt := range b.Global.Routes {
		if rt != nil && rt.ID == b.Route.ID {
			_, ok := rt.Layers["consumer"]
			return ok
		}
	}
	return false
}

// challenges lists one WWW-Authenticate challenge per accepted scheme and
// a sentence saying where credentials go.
func (l *Layer) challenges() ([]string, string) {
	var ch, where []string
	if l.key != nil && l.key.header != "" {
		c := `ApiKey realm="` + l.realm + `", header="` + l.key.header + `"`
		if l.key.query != "" {
			c += `, query="` + l.key.query + `"`
		}
		ch = append(ch, c)
		where = append(where, "an API key in the "+l.key.header+" header")
	} else if l.key != nil && l.key.query != "" {
		ch = append(ch, `ApiKey realm="`+l.realm+`", query="`+l.key.query+`"`)
	}
	if l.key != nil && l.key.query != "" {
		where = append(where, "an API key in the "+l.key.query+" query parameter")
	}
	bearerKey := l.key != nil && l.key.bearer
	if bearerKey || l.jwt != nil || l.intro != nil {
		ch = append(ch, `Bearer realm="`+l.realm+`"`)
		switch {
		case bearerKey && (l.jwt != nil || l.intro != nil):
			where = append(where, "an API key or a token as Authorization: Bearer")
		case bearerKey:
			where = append(where, "an API key as Authorization: Bearer")
		default:
			where = append(where, "a token as Authorization: Bearer")
		}
	}
	if l.basic != nil {
		ch = append(ch, `Basic realm="`+l.realm+`", charset="UTF-8"`)
		where = append(where, "a username and password as Authorization: Basic")
	}
	return ch, joinOr(where)
}

func joinOr(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// how a credential arrived: it picks the challenge scheme of a failure.
type via uint8

const (
	viaHeader via = iota
	viaQuery
	viaBearer
)

// Evaluate finds the credential and checks it.
func (l *Layer) Evaluate(ctx context.Context, r *pipeline.Request) verdict.Verdict {
	h := r.HTTP.Header
	var note string
	if authz := h.Get("Authorization"); authz != "" {
		scheme, cred, _ := strings.Cut(authz, " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			bearerKey := l.key != nil && l.key.bearer
			tokens := l.jwt != nil || l.intro != nil
			switch {
			case bearerKey && (strings.HasPrefix(cred, identity.KeyPrefix) || !tokens):
				return l.checkKey(r, cred, viaBearer)
			case tokens:
				return l.checkToken(ctx, r, cred)
			}
			note = "this route does not accept Authorization: Bearer"
		case strings.EqualFold(scheme, "Basic"):
			if l.basic != nil {
				return l.checkBasic(r, cred)
			}
			note = "this route does not accept Authorization: Basic"
		default:
			note = "this route does not accept the Authorization scheme " + quoteShort(scheme)
		}
	}
	if l.key != nil {
		if l.key.header != "" {
			if v := h.Get(l.key.header); v != "" {
				return l.checkKey(r, v, viaHeader)
			}
		}
		if l.key.query != "" && r.HTTP.URL.RawQuery != "" {
			if v := r.HTTP.URL.Query().Get(l.key.query); v != "" {
				return l.checkKey(r, v, viaQuery)
			}
		}
	}
	return l.credentialsMissing(r, note)
}

// credentialsMissing explains where credentials go and, when the request
// carries one in a place this route does not read, says so.
func (l *Layer) credentialsMissing(r *pipeline.Request, note string) verdict.Verdict {
	detail := "this route needs " + l.where
	if note != "" {
		detail = note + "; " + detail
	} else if misplaced := l.findMisplaced(r); misplaced != "" {
		detail = "a key was found in " + misplaced + ", but " + detail
	}
	v := verdict.Denied("credentials_missing", "authn", detail)
	for _, c := range l.missing {
		v = v.WithHeader("WWW-Authenticate", c)
	}
	return v
}

// findMisplaced looks for a pinpoint key in headers and query parameters
// the route does not read (a misspelled header name, a query parameter
// where a header is expected). Only runs on the failure path.
func (l *Layer) findMisplaced(r *pipeline.Request) string {
	for name, vals := range r.HTTP.Header {
		for _, v := range vals {
			if strings.HasPrefix(strings.TrimSpace(v), identity.KeyPrefix) {
				return "the " + name + " header"
			}
		}
	}
	if r.HTTP.URL.RawQuery != "" {
		for name, vals := range r.HTTP.URL.Query() {
			for _, v := range vals {
				if strings.HasPrefix(v, identity.KeyPrefix) {
					return "the query parameter " + quoteShort(name)
				}
			}
		}
	}
	return ""
}

// deny builds a 401 with the challenge of the scheme the credential came
// in, carrying RFC 6750's error attribute.
func (l *Layer) deny(code, detail string, how via, desc string) verdict.Verdict {
	v := verdict.Denied(code, "authn", detail)
	switch how {
	case viaBearer:
		return v.WithHeader("WWW-Authenticate", `Bearer realm="`+l.realm+`", error="invalid_token", error_description="`+desc+`"`)
	default:
		return v.WithHeader("WWW-Authenticate", `ApiKey realm="`+l.realm+`", error="invalid_key", error_description="`+desc+`"`)
	}
}

// quoteShort quotes caller input for a detail, cut to a sane length.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < ' ' || r == '"' || r == '\\' || r == 0x7f {
			return '?'
		}
		return r
	}, s) + `"`
}

// identityFor builds the identity of a known consumer.
func identityFor(c *identity.Consumer, method string) *pipeline.Identity {
	return &pipeline.Identity{ConsumerID: c.ID, ConsumerName: c.Name, Tenant: c.Tenant, Method: method,
		Subject: c.ID, Roles: c.Roles, Metadata: c.Metadata}
}

// suspended refuses a suspended consumer when no consumer layer will.
func (l *Layer) suspended(c *identity.Consumer) (verdict.Verdict, bool) {
	if !l.enforceSuspension || !c.Suspended() {
		return verdict.Verdict{}, false
	}
	return identity.SuspendedDenial(c), true
}
