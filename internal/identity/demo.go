package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"pinpoint/internal/store"
)

// Demo identities created by SeedDemo.
const (
	DemoTenant    = "demo"
	DemoService   = "orders"
	DemoReader    = "demo-reader"
	DemoWriter    = "demo-writer"
	DemoSuspended = "demo-suspended"
	DemoJWTApp    = "demo-jwt-app"
	DemoIssuer    = "https://issuer.demo.pinpoint.local"
	DemoAudience  = "orders-api"
	DemoKID       = "demo-es256"
)

// DemoCredentials are the plaintext secrets of the demo identities, for
// printing curl commands. They exist only in the demo's output.
type DemoCredentials struct {
	Tenant  string `json:"tenant"`
	Service string `json:"service"`
	// ReadKey has orders:read only; WriteKey has orders:read and
	// orders:write (consumer demo-writer, role writer, plan pro).
	ReadKey  string `json:"read_key"`
	WriteKey string `json:"write_key"`
	// ExpiredKey expired an hour before the seed time; RevokedKey was
	// revoked; SuspendedKey belongs to a suspended consumer.
	ExpiredKey   string `json:"expired_key"`
	RevokedKey   string `json:"revoked_key"`
	SuspendedKey string `json:"suspended_key"`
	// JWT is a valid ES256 token for demo-jwt-app (scope orders:read);
	// ExpiredJWT expired an hour ago; WrongAudienceJWT is for another API.
	JWT              string `json:"jwt"`
	ExpiredJWT       string `json:"expired_jwt"`
	WrongAudienceJWT string `json:"wrong_audience_jwt"`
	JWTIssuer        string `json:"jwt_issuer"`
	JWTAudience      string `json:"jwt_audience"`
	// JWKS is the public key set for the route's authn.jwt.jwks.
	JWKS string `json:"jwks"`
}

// AuthnYAML is an authn section for a demo route that accepts the demo
// keys (X-Api-Key or Bearer) and the demo JWTs.
func (d DemoCredentials) AuthnYAML() string {
	jwks, _ := json.Marshal(d.JWKS)
	return fmt.Sprintf(`key: {header: X-Api-Key, bearer: true}
jwt:
  issuer: %q
  audience: [%q]
  algorithms: [ES256]
  jwks: %s
`, d.JWTIssuer, d.JWTAudience, jwks)
}

// SeedDemo (re)creates the demo identities in st with times relative to
// now and returns their secrets. Running it again replaces them.
func SeedDemo(ctx context.Context, st *store.Store, now time.Time) (DemoCredentials, error) {
	repo := NewRepo(st, func() time.Time { return now })
	d := DemoCredentials{Tenant: DemoTenant, Service: DemoService, JWTIssuer: DemoIssuer, JWTAudience: DemoAudience}
	for _, id := range []string{DemoReader, DemoWriter, DemoSuspended, DemoJWTApp} {
		if err := repo.DeleteConsumer(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return d, err
		}
	}
	if _, err := repo.CreateTenant(ctx, DemoTenant, "Demo tenant"); err != nil {
		var in *InputError
		if !errors.As(err, &in) || !in.Conflict {
			return d, err
		}
	}
	consumers := []NewConsumer{
		{ID: DemoReader, Name: "Demo reader app", Tenant: DemoTenant, Roles: []string{"reader"}, Metadata: map[string]any{"plan": "free"}},
		{ID: DemoWriter, Name: "Demo writer app", Tenant: DemoTenant, Roles: []string{"reader", "writer"}, Metadata: map[string]any{"plan": "pro"}},
		{ID: DemoSuspended, Name: "Demo suspended app", Tenant: DemoTenant, Roles: []string{"reader"}},
		{ID: DemoJWTApp, Name: "Demo JWT app", Tenant: DemoTenant, Roles: []string{"reader"}},
	}
	for _, c := range consumers {
		if _, err := repo.CreateConsumer(ctx, c); err != nil {
			return d, err
		}
		s, err := repo.Apply(ctx, c.ID, DemoService)
		if err != nil {
			return d, err
		}
		if _, err := repo.Decide(ctx, s.ID, SubApproved, "demo", "demo seed"); err != nil {
			return d, err
		}
	}
	issue := func(consumer string, scopes ...string) (*Key, string, error) {
		return repo.CreateKey(ctx, NewKeySpec{ConsumerID: consumer, Name: "demo", Scopes: scopes})
	}
	var err error
	if _, d.ReadKey, err = issue(DemoReader, "orders:read"); err != nil {
		return d, err
	}
	if _, d.WriteKey, err = issue(DemoWriter, "orders:read", "orders:write"); err != nil {
		return d, err
	}
	var k *Key
	if k, d.ExpiredKey, err = issue(DemoReader, "orders:read"); err != nil {
		return d, err
	}
	if _, err = repo.ExpireKey(ctx, k.ID, now.Add(-time.Hour)); err != nil {
		return d, err
	}
	if k, d.RevokedKey, err = issue(DemoWriter, "orders:read", "orders:write"); err != nil {
		return d, err
	}
	if _, err = repo.RevokeKey(ctx, k.ID, "demo", "reported leaked in a public repository"); err != nil {
		return d, err
	}
	if _, d.SuspendedKey, err = issue(DemoSuspended, "orders:read"); err != nil {
		return d, err
	}
	if _, err = repo.SetSuspended(ctx, DemoSuspended, true, "invoice #1042 is 30 days overdue"); err != nil {
		return d, err
	}
	return d, seedDemoJWTs(&d, now)
}

func seedDemoJWTs(d *DemoCredentials, now time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: DemoKID, Algorithm: string(jose.ES256), Use: "sig"}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return err
	}
	d.JWKS = string(set)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", DemoKID))
	if err != nil {
		return err
	}
	sign := func(aud string, iat, exp time.Time) (string, error) {
		return jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: DemoIssuer, Subject: DemoJWTApp, Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(iat), NotBefore: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(exp),
		}).Claims(map[string]any{"scope": "orders:read"}).Serialize()
	}
	if d.JWT, err = sign(DemoAudience, now, now.Add(24*time.Hour)); err != nil {
		return err
	}
	if d.ExpiredJWT, err = sign(DemoAudience, now.Add(-2*time.Hour), now.Add(-time.Hour)); err != nil {
		return err
	}
	d.WrongAudienceJWT, err = sign("billing-api", now, now.Add(24*time.Hour))
	return err
}
