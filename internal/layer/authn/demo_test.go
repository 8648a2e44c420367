package authn

import (
	"context"
	"testing"

	"pinpoint/internal/config"
	"pinpoint/internal/identity"
	"pinpoint/internal/verdict"
)

// TestSeedDemo checks that every demo credential produces the denial the
// demo prints a curl for.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d, err := identity.SeedDemo(ctx, f.st, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Seeding twice replaces the demo identities.
	if d, err = identity.SeedDemo(ctx, f.st, t0); err != nil {
		t.Fatal(err)
	}
	f.refresh(t)
	l := f.build(t, d.AuthnYAML())
	for _, tc := range []struct {
		name, auth, code string
	}{
		{"read key", "Bearer " + d.ReadKey, ""},
		{"write key", "Bearer " + d.WriteKey, ""},
		{"jwt", "Bearer " + d.JWT, ""},
		{"expired key", "Bearer " + d.ExpiredKey, "key_expired"},
		{"revoked key", "Bearer " + d.RevokedKey, "key_revoked"},
		{"suspended", "Bearer " + d.SuspendedKey, "consumer_suspended"},
		{"expired jwt", "Bearer " + d.ExpiredJWT, "token_expired"},
		{"wrong audience", "Bearer " + d.WrongAudienceJWT, "token_wrong_audience"},
	} {
		v := l.Evaluate(ctx, request("GET", "/", map[string]string{"Authorization": tc.auth}))
		if v.Code != tc.code || (tc.code == "") != (v.Outcome == verdict.Allow) {
			t.Errorf("%s: %s %s %q", tc.name, v.Outcome, v.Code, v.Detail)
		}
	}
}

// TestConfigDeclaredKeys authenticates with a key that exists only in the
// config file's consumers: section, as a hash.
func TestConfigDeclaredKeys(t *testing.T) {
	t.Parallel()
	id, key, hash, _ := identity.NewKey()
	_, revKey, revHash, _ := identity.NewKey()
	revID, _, _ := identity.ParseKey(revKey)
	cfg, err := config.Parse([]byte(`
routes: []
consumers:
  - id: partner
    tenant: t9
    roles: [reader]
    keys:
      - id: ` + id + `
        hash: ` + hash + `
        scopes: [orders:read]
      - id: ` + revID + `
        hash: ` + revHash + `
        revoked: "partner offboarded"
`))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	l, err := New(newBuild(f, cfg), yamlNode(t, "key: {}"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.(*Layer).Close()
	r := request("GET", "/", map[string]string{"X-Api-Key": key})
	if v := l.Evaluate(context.Background(), r); v.Outcome != verdict.Allow || r.Identity.ConsumerID != "partner" || r.Identity.Tenant != "t9" {
		t.Fatalf("config key: %s %s %+v", v.Code, v.Detail, r.Identity)
	}
	check(t, l.Evaluate(context.Background(), request("GET", "/", map[string]string{"X-Api-Key": revKey})),
		want{verdict.Deny, "key_revoked", 401, "the key was revoked", "", []string{`ApiKey realm="pinpoint", error="invalid_key", error_description="key revoked"`}})

	bad, _ := config.Parse([]byte("routes: []\nconsumers:\n  - id: p\n    keys:\n      - id: k1\n        hash: " + key + "\n"))
	if _, err := New(newBuild(f, bad), yamlNode(t, "key: {}")); err == nil || !contains(err.Error(), "consumers[0].keys[0].hash") {
		t.Fatalf("a plaintext key in the config was accepted: %v", err)
	}
}
