package authn

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pinpoint/internal/identity"
	"pinpoint/internal/verdict"
)

// jwksServer serves a key set that the test can rotate, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	set     jose.JSONWebKeySet
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T, set jose.JSONWebKeySet) *jwksServer {
	s := &jwksServer{set: set}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		json.NewEncoder(w).Encode(s.set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) rotate(set jose.JSONWebKeySet) {
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
}

func jwtCfg(url string) string {
	return `
jwt:
  issuer: https://issuer.test
  audience: [orders-api]
  algorithms: [ES256, RS256]
  jwks_url: ` + url + `
  jwks_min_refresh: 10s
  leeway: 30s
  claims: {roles: roles}
`
}

const bearerInvalid = `Bearer realm="pinpoint", error="invalid_token", error_description=`

func TestJWTCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.consumer(t, identity.NewConsumer{ID: "acme", Tenant: "t1", Roles: []string{"reader"}, Metadata: map[string]any{"plan": "pro"}})
	f.refresh(t)
	is := newIssuer(t, "k1")
	srv := newJWKSServer(t, is.jwks(t))
	l := f.build(t, jwtCfg(srv.URL))
	other := newIssuer(t, "k1") // same kid, other key: a bad signature.

	claims := func(mut func(*jwt.Claims)) jwt.Claims {
		c := stdClaims("acme")
		mut(&c)
		return c
	}
	none := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://issuer.test","sub":"acme","aud":"orders-api","exp":1999999999}`))
		return h + "." + p + "."
	}()
	tests := []struct {
		name  string
		token string
		want  want
	}{
		{"garbage", "not-a-jwt", want{verdict.Deny, "token_malformed", 401, "not a JWT", "", []string{bearerInvalid + `"malformed token"`}}},
		{"alg none", none, want{verdict.Deny, "token_malformed", 401, `unsigned (alg "none")`, "", []string{bearerInvalid + `"unsigned token"`}}},
		{"alg not allowed", is.sign(t, jose.PS256, stdClaims("acme"), nil), want{verdict.Deny, "token_malformed", 401,
			`signed with "PS256"; this route accepts ES256, RS256`, "", []string{bearerInvalid + `"algorithm not accepted"`}}},
		{"bad signature", other.sign(t, jose.ES256, stdClaims("acme"), nil), want{verdict.Deny, "token_bad_signature", 401,
			"does not verify", "", []string{bearerInvalid + `"signature invalid"`}}},
		{"wrong issuer", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.Issuer = "https://staging.test" }), nil), want{verdict.Deny, "token_wrong_issuer", 401,
			`issued by "https://staging.test"; this route trusts "https://issuer.test"`, "", []string{bearerInvalid + `"untrusted issuer"`}}},
		{"wrong audience", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.Audience = jwt.Audience{"billing-api"} }), nil), want{verdict.Deny, "token_wrong_audience", 401,
			`audience is ["billing-api"]; this route needs "orders-api"`, "", []string{bearerInvalid + `"wrong audience"`}}},
		{"expired", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(t0.Add(-31 * time.Second)) }), nil), want{verdict.Deny, "token_expired", 401,
			"expired at 2030-01-02T03:03:34Z", "", []string{bearerInvalid + `"token expired"`}}},
		{"expired within leeway", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(t0.Add(-29 * time.Second)) }), nil), want{outcome: verdict.Allow}},
		{"not yet valid", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.NotBefore = jwt.NewNumericDate(t0.Add(time.Hour)) }), nil), want{verdict.Deny, "token_not_yet_valid", 401,
			"valid from 2030-01-02T04:04:05Z", "", []string{bearerInvalid + `"token not yet valid"`}}},
		{"no exp", is.sign(t, jose.ES256, claims(func(c *jwt.Claims) { c.Expiry = nil }), nil), want{verdict.Deny, "token_malformed", 401,
			"no exp claim", "", []string{bearerInvalid + `"no exp claim"`}}},
		{"valid ES256", is.sign(t, jose.ES256, stdClaims("acme"), map[string]any{"scope": "orders:read orders:write", "roles": []string{"auditor"}}), want{outcome: verdict.Allow}},
		{"valid RS256", is.sign(t, jose.RS256, stdClaims("acme"), map[string]any{"scp": []string{"orders:read"}}), want{outcome: verdict.Allow}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := request("GET", "/", map[string]string{"Authorization": "Bearer " + tc.token})
			check(t, l.Evaluate(ctx, r), tc.want)
			if tc.want.outcome == verdict.Allow && (r.Identity == nil || r.Identity.ConsumerID != "acme" || r.Identity.Tenant != "t1" || r.Identity.Method != "jwt") {
				t.Fatalf("identity = %+v", r.Identity)
			}
		})
	}
	t.Run("claims mapping", func(t *testing.T) {
		r := request("GET", "/", map[string]string{"Authorization": "Bearer " + is.sign(t, jose.ES256, stdClaims("acme"), map[string]any{"scope": "orders:read orders:write", "roles": []string{"auditor"}})})
		if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow {
			t.Fatal(v.Code, v.Detail)
		}
		id := r.Identity
		if strings.Join(id.Scopes, " ") != "orders:read orders:write" || strings.Join(id.Roles, ",") != "reader,auditor" || id.Metadata["plan"] != "pro" {
			t.Fatalf("identity = %+v", id)
		}
	})
}

func TestJWTAlgorithmConfusion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	is := newIssuer(t, "k1")
	pubDER, err := x509.MarshalPKIXPublicKey(&is.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	// The classic attack: sign with HS256 using the RSA public key (which
	// is public) as the HMAC secret.
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := jwt.Signed(hs).Claims(stdClaims("acme")).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	pemCfg := `
jwt:
  issuer: https://issuer.test
  audience: [orders-api]
  algorithms: [RS256]
  keys:
    - kid: k1
      pem: |
` + indent(string(pubPEM), "        ")
	l := f.build(t, pemCfg)
	check(t, l.Evaluate(context.Background(), request("GET", "/", map[string]string{"Authorization": "Bearer " + forged})),
		want{verdict.Deny, "token_malformed", 401, `signed with "HS256"; this route accepts RS256`, "", []string{bearerInvalid + `"algorithm not accepted"`}})

	// Even where HS256 is allowed (with a real HMAC secret), the RSA key
	// is never used as an HMAC secret.
	mixed := pemCfg + "    - kid: hs\n      secret: " + strings.Repeat("s", 32) + "\n"
	mixed = strings.Replace(mixed, "algorithms: [RS256]", "algorithms: [RS256, HS256]", 1)
	l2 := f.build(t, mixed)
	check(t, l2.Evaluate(context.Background(), request("GET", "/", map[string]string{"Authorization": "Bearer " + forged})),
		want{verdict.Deny, "token_bad_signature", 401, `key id "k1" is not one of the issuer's current HS256 keys`, "", []string{bearerInvalid + `"unknown key id"`}})
	// Without a kid to narrow the choice, the HMAC secret is tried (and
	// fails), never the RSA key.
	noKid := strings.Replace(mixed, "    - kid: hs\n", "    - kid: \"\"\n", 1)
	l3 := f.build(t, noKid)
	check(t, l3.Evaluate(context.Background(), request("GET", "/", map[string]string{"Authorization": "Bearer " + forged})),
		want{verdict.Deny, "token_bad_signature", 401, "does not verify", "", []string{bearerInvalid + `"signature invalid"`}})
	// And the PEM key verifies a real RS256 token.
	good := is.sign(t, jose.RS256, stdClaims("acme"), nil)
	good = reKid(t, is, good)
	if v := l.Evaluate(context.Background(), request("GET", "/", map[string]string{"Authorization": "Bearer " + good})); v.Outcome != verdict.Allow {
		t.Fatalf("real RS256 token: %s %s", v.Code, v.Detail)
	}
}

// reKid signs the claims again with kid k1 for the RSA key.
func reKid(t *testing.T, is *issuer, _ string) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.rsa}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(stdClaims("acme")).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	old := newIssuer(t, "old")
	srv := newJWKSServer(t, old.jwks(t))
	l := f.build(t, jwtCfg(srv.URL))
	eval := func(tok string) verdict.Verdict {
		return l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": "Bearer " + tok}))
	}
	if v := eval(old.sign(t, jose.ES256, stdClaims("x"), nil)); v.Outcome != verdict.Allow {
		t.Fatalf("old key: %s %s", v.Code, v.Detail)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches after first token = %d, want 1", n)
	}
	// The issuer rotates: a token with the new kid triggers one refresh.
	f.clock.Add(11 * time.Second)
	next := newIssuer(t, "new")
	srv.rotate(next.jwks(t))
	if v := eval(next.sign(t, jose.ES256, stdClaims("x"), nil)); v.Outcome != verdict.Allow {
		t.Fatalf("new key after rotation: %s %s", v.Code, v.Detail)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches after rotation = %d, want 2", n)
	}
	// A flood of unknown kids within jwks_min_refresh does not refetch.
	f.clock.Add(time.Second)
	for i := 0; i < 5; i++ {
		stranger := newIssuer(t, "unknown")
		check(t, eval(stranger.sign(t, jose.ES256, stdClaims("x"), nil)), want{verdict.Deny, "token_bad_signature", 401,
			`key id "unknown" is not one of the issuer's current ES256 keys`, "", []string{bearerInvalid + `"unknown key id"`}})
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches during the rate limit = %d, want 2", n)
	}
	// After the interval an unknown kid may refresh again.
	f.clock.Add(10 * time.Second)
	eval(newIssuer(t, "unknown").sign(t, jose.ES256, stdClaims("x"), nil))
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches after the interval = %d, want 3", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer srv.Close()
	l := f.build(t, jwtCfg(srv.URL))
	is := newIssuer(t, "k")
	v := l.Evaluate(context.Background(), request("GET", "/", map[string]string{"Authorization": "Bearer " + is.sign(t, jose.ES256, stdClaims("x"), nil)}))
	if v.Outcome != verdict.Error || v.Code != "authn_backend_unavailable" || v.Resolved().Status != 503 {
		t.Fatalf("got %s %s %d", v.Outcome, v.Code, v.Resolved().Status)
	}
}

func TestTokenCacheRespectsExp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	is := newIssuer(t, "k1")
	srv := newJWKSServer(t, is.jwks(t))
	l := f.build(t, jwtCfg(srv.URL))
	tok := is.sign(t, jose.ES256, stdClaims("x"), nil)
	hdr := map[string]string{"Authorization": "Bearer " + tok}
	if v := l.Evaluate(context.Background(), request("GET", "/", hdr)); v.Outcome != verdict.Allow {
		t.Fatal(v.Code)
	}
	v := l.Evaluate(context.Background(), request("GET", "/", hdr))
	if v.Outcome != verdict.Allow || !hasEvidence(v, "cache", "hit") {
		t.Fatalf("second use not served from cache: %+v", v.Evidence)
	}
	f.clock.Add(time.Hour + 31*time.Second)
	check(t, l.Evaluate(context.Background(), request("GET", "/", hdr)), want{verdict.Deny, "token_expired", 401, "expired at", "", []string{bearerInvalid + `"token expired"`}})
}

func hasEvidence(v verdict.Verdict, k, val string) bool {
	for _, f := range v.Evidence {
		if f.Key == k && f.Value == val {
			return true
		}
	}
	return false
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if u, p, _ := r.BasicAuth(); u != "gw" || p != "s3cret" {
			http.Error(w, "unauthorized", 401)
			return
		}
		r.ParseForm()
		switch r.PostForm.Get("token") {
		case "good-opaque":
			json.NewEncoder(w).Encode(map[string]any{"active": true, "sub": "acme", "scope": "orders:read", "exp": t0.Add(time.Hour).Unix()})
		default:
			json.NewEncoder(w).Encode(map[string]any{"active": false})
		}
	}))
	defer srv.Close()
	l := f.build(t, "introspection: {url: "+srv.URL+", client_id: gw, client_secret: s3cret, cache_ttl: 30s}")
	ctx := context.Background()
	r := request("GET", "/", map[string]string{"Authorization": "Bearer good-opaque"})
	if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow || r.Identity.ConsumerID != "acme" || r.Identity.Scopes[0] != "orders:read" {
		t.Fatalf("active token: %s %s %+v", v.Code, v.Detail, r.Identity)
	}
	l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": "Bearer good-opaque"}))
	if calls.Load() != 1 {
		t.Fatalf("introspection calls = %d, want 1 (cached)", calls.Load())
	}
	check(t, l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": "Bearer revoked-opaque"})),
		want{verdict.Deny, "token_inactive", 401, "not active", "", []string{bearerInvalid + `"token inactive"`}})
	f.clock.Add(31 * time.Second)
	l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": "Bearer good-opaque"}))
	if calls.Load() != 3 {
		t.Fatalf("introspection calls after TTL = %d, want 3", calls.Load())
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.consumer(t, identity.NewConsumer{ID: "alice", Password: "correct horse"})
	f.refresh(t)
	l := f.build(t, "basic: {}\nrealm: shop")
	basic := func(u, p string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}
	}
	ch := []string{`Basic realm="shop", charset="UTF-8"`}
	check(t, l.Evaluate(ctx, request("GET", "/", nil)), want{verdict.Deny, "credentials_missing", 401, "a username and password as Authorization: Basic", "", ch})
	check(t, l.Evaluate(ctx, request("GET", "/", basic("alice", "wrong"))), want{verdict.Deny, "basic_auth_failed", 401, "the username or password is wrong", "", ch})
	check(t, l.Evaluate(ctx, request("GET", "/", basic("mallory", "x"))), want{verdict.Deny, "basic_auth_failed", 401, "the username or password is wrong", "", ch})
	check(t, l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": "Basic !!!"})), want{verdict.Deny, "basic_auth_failed", 401, "not base64", "", ch})
	r := request("GET", "/", basic("alice", "correct horse"))
	if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow || r.Identity.ConsumerID != "alice" || r.Identity.Method != "basic" {
		t.Fatalf("good password: %s %s", v.Code, v.Detail)
	}
	// A password change invalidates the cached verification at once.
	pw := "new password"
	if _, err := f.repo.UpdateConsumer(ctx, "alice", identity.ConsumerPatch{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	f.refresh(t)
	check(t, l.Evaluate(ctx, request("GET", "/", basic("alice", "correct horse"))), want{verdict.Deny, "basic_auth_failed", 401, "wrong", "", ch})
}
