package authn

import (
	"context"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"pinpoint/internal/identity"
	"pinpoint/internal/layer/authz"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// BenchmarkKeyAuthAndScope is the per-request cost of an API key check
// followed by the authz scope check.
func BenchmarkKeyAuthAndScope(b *testing.B) {
	f := newFixture(b)
	f.consumer(b, identity.NewConsumer{ID: "acme", Tenant: "t1"})
	_, key := f.key(b, identity.NewKeySpec{ConsumerID: "acme", Scopes: []string{"orders:read", "orders:write"}})
	f.refresh(b)
	l := f.build(b, "key: {}")
	az, err := authz.New(&pipeline.Build{Env: f.env, Path: "authz"}, yamlNode(b, "scopes: {all_of: [orders:read]}\nmethods: {POST: {scopes: {all_of: [orders:write]}}}"))
	if err != nil {
		b.Fatal(err)
	}
	r := request("POST", "/", map[string]string{"X-Api-Key": key})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Identity = nil
		if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow {
			b.Fatal(v.Code)
		}
		if v := az.Evaluate(ctx, r); v.Outcome != verdict.Allow {
			b.Fatal(v.Code)
		}
	}
}

func benchJWT(b *testing.B, alg jose.SignatureAlgorithm, cached bool) {
	f := newFixture(b)
	is := newIssuer(b, "k1")
	set := is.jwks(b)
	js, _ := set.Keys[0].MarshalJSON()
	jr, _ := set.Keys[1].MarshalJSON()
	l := f.build(b, `
jwt:
  issuer: https://issuer.test
  audience: [orders-api]
  algorithms: [ES256, RS256]
  jwks: '{"keys":[`+string(js)+`,`+string(jr)+`]}'
`)
	tok := is.sign(b, alg, stdClaims("acme"), map[string]any{"scope": "orders:read"})
	r := request("GET", "/", map[string]string{"Authorization": "Bearer " + tok})
	ctx := context.Background()
	h := tokenHash(tok)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !cached {
			l.jwt.cache.remove(h)
		}
		if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow {
			b.Fatal(v.Code, v.Detail)
		}
	}
}

// BenchmarkJWTCached is a repeated valid token (verified-token cache hit).
func BenchmarkJWTCached(b *testing.B) { benchJWT(b, jose.ES256, true) }

// BenchmarkJWTFirstES256 and BenchmarkJWTFirstRS256 verify every time.
func BenchmarkJWTFirstES256(b *testing.B) { benchJWT(b, jose.ES256, false) }
func BenchmarkJWTFirstRS256(b *testing.B) { benchJWT(b, jose.RS256, false) }
