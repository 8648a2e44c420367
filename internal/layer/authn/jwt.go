package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// supportedAlgs are the signature algorithms an allowlist may name.
var supportedAlgs = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
	"HS256": jose.HS256, "HS384": jose.HS384, "HS512": jose.HS512,
}

// verifyKey is one key with the algorithm family it may verify. Binding
// each key to a family is what stops algorithm confusion: an RSA public
// key is never used as an HMAC secret, whatever the token's header says.
type verifyKey struct {
	kid    string
	family byte // 'R' RSA, 'E' ECDSA, 'O' Ed25519, 'H' HMAC
	alg    string
	key    any
}

func familyOf(alg string) byte {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return 'R'
	case strings.HasPrefix(alg, "ES"):
		return 'E'
	case alg == "EdDSA":
		return 'O'
	case strings.HasPrefix(alg, "HS"):
		return 'H'
	}
	return 0
}

func keyFromJWK(k jose.JSONWebKey) (verifyKey, error) {
	if !k.IsPublic() {
		k = k.Public()
	}
	vk := verifyKey{kid: k.KeyID, alg: k.Algorithm, key: k.Key}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		vk.family = 'R'
	case *ecdsa.PublicKey:
		vk.family = 'E'
	case ed25519.PublicKey:
		vk.family = 'O'
	default:
		return vk, fmt.Errorf("key %q: only RSA, EC and Ed25519 public keys are used from a JWKS", k.KeyID)
	}
	return vk, nil
}

type jwtAuth struct {
	issuer     string
	audience   []string
	algs       []jose.SignatureAlgorithm
	algNames   string
	allowed    map[string]bool
	static     []verifyKey
	jwks       *jwksSource
	leeway     time.Duration
	requireExp bool
	claims     ClaimMap
	cache      *tokenCache
}

func newJWTAuth(b *pipeline.Build, node *yaml.Node, c *JWTConfig) (*jwtAuth, error) {
	j := &jwtAuth{issuer: c.Issuer, audience: c.Audience, leeway: c.Leeway, requireExp: c.RequireExp == nil || *c.RequireExp,
		claims: c.Claims, allowed: map[string]bool{}}
	if j.leeway == 0 {
		j.leeway = DefaultLeeway
	}
	if j.leeway < 0 || j.leeway > 10*time.Minute {
		return nil, b.Errorf(node, "jwt.leeway", "want 0 to 10m, got %s", j.leeway)
	}
	if len(c.Algorithms) == 0 {
		return nil, b.Errorf(node, "jwt.algorithms", "list the accepted algorithms explicitly (e.g. [RS256, ES256])")
	}
	hmac := false
	for _, a := range c.Algorithms {
		if strings.EqualFold(a, "none") {
			return nil, b.Errorf(node, "jwt.algorithms", `"none" is never accepted: unsigned tokens prove nothing`)
		}
		alg, ok := supportedAlgs[a]
		if !ok {
			return nil, b.Errorf(node, "jwt.algorithms", "unknown algorithm %q (use RS256…512, PS256…512, ES256…512, EdDSA, HS256…512)", a)
		}
		j.algs = append(j.algs, alg)
		j.allowed[a] = true
		hmac = hmac || familyOf(a) == 'H'
	}
	j.algNames = strings.Join(c.Algorithms, ", ")
	if c.Issuer == "" {
		return nil, b.Errorf(node, "jwt.issuer", "name the trusted issuer (the tokens' iss)")
	}
	if len(c.Audience) == 0 {
		return nil, b.Errorf(node, "jwt.audience", "name this API's audience: without it a token for any API of the issuer would do")
	}
	if c.JWKSURL == "" && c.JWKS == "" && len(c.Keys) == 0 {
		return nil, b.Errorf(node, "jwt", "set jwks_url, jwks or keys: there is nothing to verify signatures with")
	}
	if c.JWKS != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
			return nil, b.Errorf(node, "jwt.jwks", "not a JSON Web Key Set: %v", err)
		}
		for _, k := range set.Keys {
			vk, err := keyFromJWK(k)
			if err != nil {
				return nil, b.Errorf(node, "jwt.jwks", "%v", err)
			}
			j.static = append(j.static, vk)
		}
	}
	for i, k := range c.Keys {
		field := fmt.Sprintf("jwt.keys[%d]", i)
		switch {
		case k.PEM != "" && k.Secret != "":
			return nil, b.Errorf(node, field, "set pem or secret, not both")
		case k.PEM != "":
			vk, err := keyFromPEM(k.PEM)
			if err != nil {
				return nil, b.Errorf(node, field+".pem", "%v", err)
			}
			vk.kid = k.KID
			j.static = append(j.static, vk)
		case k.Secret != "":
			if !hmac {
				return nil, b.Errorf(node, field+".secret", "an HMAC secret needs an HS256/384/512 algorithm in jwt.algorithms")
			}
			if len(k.Secret) < 32 {
				return nil, b.Errorf(node, field+".secret", "an HMAC secret needs at least 32 bytes")
			}
			j.static = append(j.static, verifyKey{kid: k.KID, family: 'H', key: []byte(k.Secret)})
		default:
			return nil, b.Errorf(node, field, "set pem (a public key or certificate) or secret")
		}
	}
	if hmac && !slices.ContainsFunc(j.static, func(k verifyKey) bool { return k.family == 'H' }) {
		return nil, b.Errorf(node, "jwt.algorithms", "HS* algorithms need an HMAC secret in jwt.keys; they are never verified with a public key")
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, b.Errorf(node, "jwt.jwks_url", "want an http(s) URL")
		}
		minR, maxAge := c.JWKSMinRefresh, c.JWKSMaxAge
		if minR == 0 {
			minR = DefaultJWKSMinRefresh
		}
		if maxAge == 0 {
			maxAge = DefaultJWKSMaxAge
		}
		if minR < 0 || maxAge < minR {
			return nil, b.Errorf(node, "jwt.jwks_min_refresh", "want 0 < jwks_min_refresh <= jwks_max_age")
		}
		if j.jwks, err = sharedJWKS(b.Env, c.JWKSURL, minR, maxAge); err != nil {
			return nil, err
		}
	}
	size := c.CacheSize
	if size == 0 {
		size = DefaultTokenCache
	}
	if size < 0 {
		return nil, b.Errorf(node, "jwt.cache_size", "must be positive")
	}
	j.cache = newTokenCache(size)
	return j, nil
}

func keyFromPEM(s string) (verifyKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return verifyKey{}, fmt.Errorf("no PEM block found")
	}
	var pub any
	switch blk.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return verifyKey{}, err
		}
		pub = cert.PublicKey
	case "PUBLIC KEY":
		var err error
		if pub, err = x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
			return verifyKey{}, err
		}
	case "RSA PUBLIC KEY":
		var err error
		if pub, err = x509.ParsePKCS1PublicKey(blk.Bytes); err != nil {
			return verifyKey{}, err
		}
	default:
		return verifyKey{}, fmt.Errorf("PEM block %q: want PUBLIC KEY or CERTIFICATE (never a private key)", blk.Type)
	}
	return keyFromJWK(jose.JSONWebKey{Key: pub})
}

// tokenDenial is a failed verification: a code, a caller-safe detail and
// the RFC 6750 error_description.
type tokenDenial struct {
	code, detail, desc string
	evidence           []verdict.Field
	failed             bool
}

func deny(code, desc, format string, args ...any) *tokenDenial {
	return &tokenDenial{code: code, desc: desc, detail: fmt.Sprintf(format, args...)}
}

// header reads a JWT's protected header without verifying anything, only
// to explain a refusal precisely (which alg, which kid).
func peekHeader(raw string) (alg, kid string, ok bool) {
	h, _, found := strings.Cut(raw, ".")
	if !found || strings.Count(raw, ".") != 2 {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return "", "", false
	}
	return hdr.Alg, hdr.Kid, true
}

// verify checks a token fully (signature, then issuer, audience, times).
func (j *jwtAuth) verify(ctx context.Context, raw string, now time.Time) (*tokenInfo, *tokenDenial) {
	alg, kid, ok := peekHeader(raw)
	if !ok {
		return nil, deny("token_malformed", "malformed token", "the bearer token is not a JWT (three base64url parts separated by dots, with a JSON header)")
	}
	if strings.EqualFold(alg, "none") {
		return nil, deny("token_malformed", "unsigned token", `the token is unsigned (alg "none"), which is never accepted`)
	}
	if !j.allowed[alg] {
		return nil, deny("token_malformed", "algorithm not accepted", "the token is signed with %s; this route accepts %s", quoteShort(alg), j.algNames)
	}
	tok, err := jwt.ParseSigned(raw, j.algs)
	if err != nil {
		return nil, deny("token_malformed", "malformed token", "the bearer token could not be parsed as a signed JWT")
	}
	keys, d := j.candidates(ctx, alg, kid, now)
	if d != nil {
		return nil, d
	}
	var std jwt.Claims
	var all map[string]any
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k.key, &std, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		d := deny("token_bad_signature", "signature invalid", "the token's signature does not verify with the issuer's keys")
		d.evidence = []verdict.Field{{Key: "kid", Value: kid}, {Key: "alg", Value: alg}}
		return nil, d
	}
	if std.Issuer != j.issuer {
		return nil, deny("token_wrong_issuer", "untrusted issuer", "the token was issued by %s; this route trusts %s", quoteShort(std.Issuer), quoteShort(j.issuer))
	}
	if !slices.ContainsFunc(j.audience, std.Audience.Contains) {
		return nil, deny("token_wrong_audience", "wrong audience", "the token's audience is %s; this route needs %s", audString(std.Audience), quoteShort(j.audience[0]))
	}
	info := &tokenInfo{claims: all}
	if std.Expiry == nil {
		if j.requireExp {
			return nil, deny("token_malformed", "no exp claim", "the token has no exp claim; this route accepts only tokens that expire")
		}
	} else {
		info.exp = std.Expiry.Time()
		if now.After(info.exp.Add(j.leeway)) {
			return nil, deny("token_expired", "token expired", "the token expired at %s", info.exp.UTC().Format(time.RFC3339))
		}
	}
	if std.NotBefore != nil && now.Add(j.leeway).Before(std.NotBefore.Time()) {
		return nil, deny("token_not_yet_valid", "token not yet valid", "the token is valid from %s; the gateway's time is %s", std.NotBefore.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if std.IssuedAt != nil && now.Add(j.leeway).Before(std.IssuedAt.Time()) {
		return nil, deny("token_not_yet_valid", "token issued in the future", "the token's iat (%s) is in the future; the gateway's time is %s", std.IssuedAt.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	mapClaims(info, all, j.claims)
	return info, nil
}

// candidates picks the keys that may verify a token with alg and kid,
// refreshing the JWKS once (rate-limited) when the kid is unknown.
func (j *jwtAuth) candidates(ctx context.Context, alg, kid string, now time.Time) ([]verifyKey, *tokenDenial) {
	fam := familyOf(alg)
	pick := func(extra *jose.JSONWebKeySet) []verifyKey {
		var out []verifyKey
		for _, k := range j.static {
			if k.family == fam && (kid == "" || k.kid == "" || k.kid == kid) {
				out = append(out, k)
			}
		}
		if extra != nil {
			for _, jk := range extra.Keys {
				if kid != "" && jk.KeyID != kid {
					continue
				}
				vk, err := keyFromJWK(jk)
				if err != nil || vk.family != fam || (vk.alg != "" && vk.alg != alg) {
					continue
				}
				out = append(out, vk)
			}
		}
		return out
	}
	if j.jwks == nil {
		if keys := pick(nil); len(keys) > 0 {
			return keys, nil
		}
		return nil, unknownKid(kid, alg)
	}
	set, err := j.jwks.keys(ctx, now)
	if err != nil {
		if keys := pick(nil); len(keys) > 0 {
			return keys, nil
		}
		return nil, &tokenDenial{code: "authn_backend_unavailable", failed: true, detail: "the issuer's signing keys could not be fetched",
			evidence: []verdict.Field{{Key: "error", Value: err.Error()}}}
	}
	if keys := pick(set); len(keys) > 0 {
		return keys, nil
	}
	if refreshed, _ := j.jwks.refresh(ctx, now); refreshed {
		if set, err = j.jwks.keys(ctx, now); err == nil {
			if keys := pick(set); len(keys) > 0 {
				return keys, nil
			}
		}
	}
	return nil, unknownKid(kid, alg)
}

func unknownKid(kid, alg string) *tokenDenial {
	if kid == "" {
		return deny("token_bad_signature", "no matching key", "the issuer has no %s key to verify this token", alg)
	}
	d := deny("token_bad_signature", "unknown key id", "the token's key id %s is not one of the issuer's current %s keys", quoteShort(kid), alg)
	d.evidence = []verdict.Field{{Key: "kid", Value: kid}}
	return d
}

func audString(a jwt.Audience) string {
	if len(a) == 0 {
		return "empty"
	}
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = quoteShort(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// mapClaims reads subject, scopes, roles and tenant from the claims.
func mapClaims(info *tokenInfo, all map[string]any, m ClaimMap) {
	sub := m.Consumer
	if sub == "" {
		sub = "sub"
	}
	info.subject, _ = all[sub].(string)
	if m.Scopes != "" {
		info.scopes = stringList(all[m.Scopes])
	} else if v, ok := all["scope"]; ok {
		info.scopes = stringList(v)
	} else {
		info.scopes = stringList(all["scp"])
	}
	roles := m.Roles
	if roles == "" {
		roles = "roles"
	}
	info.roles = stringList(all[roles])
	if m.Tenant != "" {
		info.tenant, _ = all[m.Tenant].(string)
	}
}

// stringList accepts a space-separated string (OAuth2 "scope") or a JSON
// array of strings ("scp", "roles").
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return strings.Fields(t)
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkToken authenticates a bearer token: a JWT when JWT is configured and
// the token has a JWT's shape, otherwise introspection.
func (l *Layer) checkToken(ctx context.Context, r *pipeline.Request, raw string) verdict.Verdict {
	if raw == "" {
		return l.deny("token_malformed", "the Authorization: Bearer header carries no token", viaBearer, "empty token")
	}
	now := l.now()
	h := tokenHash(raw)
	isJWT := l.jwt != nil && strings.Count(raw, ".") == 2
	if !isJWT && l.intro != nil {
		return l.introspect(ctx, r, raw, h, now)
	}
	if l.jwt == nil {
		return l.deny("token_malformed", "the bearer token is not accepted here", viaBearer, "malformed token")
	}
	if info := l.jwt.cache.get(h); info != nil {
		if info.exp.IsZero() || !now.After(info.exp.Add(l.jwt.leeway)) {
			return l.accept(r, info, "jwt", true)
		}
		l.jwt.cache.remove(h)
	}
	info, d := l.jwt.verify(ctx, raw, now)
	if d != nil {
		return l.tokenVerdict(d)
	}
	l.jwt.cache.put(h, info)
	return l.accept(r, info, "jwt", false)
}

func (l *Layer) tokenVerdict(d *tokenDenial) verdict.Verdict {
	var v verdict.Verdict
	if d.failed {
		v = verdict.Failed(d.code, "authn", d.detail)
	} else {
		v = l.deny(d.code, d.detail, viaBearer, d.desc)
	}
	v.Evidence = append(v.Evidence, d.evidence...)
	return v
}

// accept sets the identity of a verified token: a known consumer's record
// (tenant, roles, metadata, status) joined with the token's scopes and
// roles; an unknown subject is an identity of its own.
func (l *Layer) accept(r *pipeline.Request, info *tokenInfo, method string, cached bool) verdict.Verdict {
	ident := &pipeline.Identity{ConsumerID: info.subject, ConsumerName: info.subject, Tenant: info.tenant, Method: method,
		Subject: info.subject, Scopes: info.scopes, Roles: info.roles, Claims: info.claims}
	if c := l.dir.Consumer(info.subject); c != nil && info.subject != "" {
		if v, stop := l.suspended(c); stop {
			return v
		}
		ident.ConsumerName, ident.Metadata = c.Name, c.Metadata
		if c.Tenant != "" {
			ident.Tenant = c.Tenant
		}
		ident.Roles = unionRoles(c.Roles, info.roles)
	}
	r.Identity = ident
	v := verdict.Pass().With("subject", info.subject)
	if cached {
		v = v.With("cache", "hit")
	}
	return v
}

func unionRoles(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := append(make([]string, 0, len(a)+len(b)), a...)
	for _, r := range b {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
