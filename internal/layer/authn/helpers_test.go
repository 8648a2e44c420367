package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
	"pinpoint/internal/verdict"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is a store, an env with a test clock and a repo on it.
type fixture struct {
	env   *pipeline.Env
	st    *store.Store
	repo  *identity.Repo
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: t0}
	env := pipeline.NewEnv(nil, st)
	env.Now = c.Now
	return &fixture{env: env, st: st, repo: identity.NewRepo(st, c.Now), clock: c}
}

// build builds the authn layer from YAML.
func (f *fixture) build(t testing.TB, src string) *Layer {
	t.Helper()
	l, err := f.tryBuild(src)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func (f *fixture) tryBuild(src string) (*Layer, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		return nil, err
	}
	l, err := New(newBuild(f, nil), n.Content[0])
	if err != nil {
		return nil, err
	}
	return l.(*Layer), nil
}

func (f *fixture) consumer(t testing.TB, in identity.NewConsumer) {
	t.Helper()
	if _, err := f.repo.CreateConsumer(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) key(t testing.TB, spec identity.NewKeySpec) (*identity.Key, string) {
	t.Helper()
	k, plain, err := f.repo.CreateKey(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return k, plain
}

// refresh applies store writes to the shared snapshot, as the admin API
// does after each write.
func (f *fixture) refresh(t testing.TB) {
	t.Helper()
	live, err := identity.SharedLive(f.env)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func request(method, target string, hdr map[string]string) *pipeline.Request {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return &pipeline.Request{HTTP: r, ClientIP: netip.MustParseAddr("203.0.113.7"), Route: &pipeline.RouteInfo{ID: "r1"}}
}

// want is the expected shape of a verdict.
type want struct {
	outcome verdict.Outcome
	code    string
	status  int
	detail  string // substring
	hint    string // substring
	headers []string
}

func check(t *testing.T, v verdict.Verdict, w want) {
	t.Helper()
	r := v.Resolved()
	if r.Outcome != w.outcome || r.Code != w.code || r.Status != w.status {
		t.Fatalf("got %s %s %d (%q), want %s %s %d", r.Outcome, r.Code, r.Status, r.Detail, w.outcome, w.code, w.status)
	}
	if !strings.Contains(r.Detail, w.detail) {
		t.Errorf("detail %q does not contain %q", r.Detail, w.detail)
	}
	if !strings.Contains(r.Hint, w.hint) {
		t.Errorf("hint %q does not contain %q", r.Hint, w.hint)
	}
	got := http.Header(r.Header).Values("WWW-Authenticate")
	if len(got) != len(w.headers) {
		t.Fatalf("WWW-Authenticate = %q, want %q", got, w.headers)
	}
	for i := range got {
		if got[i] != w.headers[i] {
			t.Errorf("WWW-Authenticate[%d] = %q, want %q", i, got[i], w.headers[i])
		}
	}
}

// sharedRSA is one RSA key for all test issuers: generating 2048-bit keys
// is slow, and the tests that need distinct keys use ECDSA.
var sharedRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// issuer signs test tokens.
type issuer struct {
	ec  *ecdsa.PrivateKey
	rsa *rsa.PrivateKey
	kid string
}

func newIssuer(t testing.TB, kid string) *issuer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{ec: ec, rsa: sharedRSA(), kid: kid}
}

func (is *issuer) jwks(t testing.TB) jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &is.ec.PublicKey, KeyID: is.kid, Algorithm: "ES256", Use: "sig"},
		{Key: &is.rsa.PublicKey, KeyID: is.kid + "-rsa", Algorithm: "RS256", Use: "sig"},
	}}
}

func (is *issuer) sign(t testing.TB, alg jose.SignatureAlgorithm, claims jwt.Claims, extra map[string]any) string {
	t.Helper()
	var key any = is.ec
	kid := is.kid
	if alg == jose.RS256 || alg == jose.PS256 {
		key, kid = is.rsa, is.kid+"-rsa"
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	b := jwt.Signed(s).Claims(claims)
	if extra != nil {
		b = b.Claims(extra)
	}
	tok, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func stdClaims(sub string) jwt.Claims {
	return jwt.Claims{Issuer: "https://issuer.test", Subject: sub, Audience: jwt.Audience{"orders-api"},
		IssuedAt: jwt.NewNumericDate(t0.Add(-time.Minute)), NotBefore: jwt.NewNumericDate(t0.Add(-time.Minute)), Expiry: jwt.NewNumericDate(t0.Add(time.Hour))}
}

func newBuild(f *fixture, cfg *config.Config) *pipeline.Build {
	return &pipeline.Build{Env: f.env, Path: "routes[0].authn", Route: &pipeline.RouteInfo{ID: "r1"}, Global: cfg}
}

func yamlNode(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
