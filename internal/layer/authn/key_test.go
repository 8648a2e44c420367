package authn

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/identity"
	"pinpoint/internal/verdict"
)

const keyCfg = `
key:
  header: X-Api-Key
  query: api_key
`

func TestKeyCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.consumer(t, identity.NewConsumer{ID: "acme", Tenant: "t1", Roles: []string{"writer"}})
	_, good := f.key(t, identity.NewKeySpec{ConsumerID: "acme", Scopes: []string{"orders:read"}})
	kExp, expired := f.key(t, identity.NewKeySpec{ConsumerID: "acme", ExpiresAt: t0.Add(time.Hour)})
	if _, err := f.repo.ExpireKey(ctx, kExp.ID, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	kRev, revoked := f.key(t, identity.NewKeySpec{ConsumerID: "acme"})
	if _, err := f.repo.RevokeKey(ctx, kRev.ID, "ops", "leaked"); err != nil {
		t.Fatal(err)
	}
	_, office := f.key(t, identity.NewKeySpec{ConsumerID: "acme", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	f.refresh(t)
	l := f.build(t, keyCfg)

	goodID, _, _ := identity.ParseKey(good)
	wrongSecret := good[:len(good)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(good, "a")]
	invalidKey := `ApiKey realm="pinpoint", error="invalid_key", error_description=`
	tests := []struct {
		name string
		hdr  map[string]string
		url  string
		want want
	}{
		{"missing", nil, "/", want{verdict.Deny, "credentials_missing", 401,
			"this route needs an API key in the X-Api-Key header, an API key in the api_key query parameter or an API key as Authorization: Bearer", "",
			[]string{`ApiKey realm="pinpoint", header="X-Api-Key", query="api_key"`, `Bearer realm="pinpoint"`}}},
		{"misplaced header", map[string]string{"X-Api-Kee": good}, "/", want{verdict.Deny, "credentials_missing", 401,
			"a key was found in the X-Api-Kee header, but this route needs", "",
			[]string{`ApiKey realm="pinpoint", header="X-Api-Key", query="api_key"`, `Bearer realm="pinpoint"`}}},
		{"basic not accepted", map[string]string{"Authorization": "Basic YTpi"}, "/", want{verdict.Deny, "credentials_missing", 401,
			"this route does not accept Authorization: Basic; this route needs", "",
			[]string{`ApiKey realm="pinpoint", header="X-Api-Key", query="api_key"`, `Bearer realm="pinpoint"`}}},
		{"malformed prefix", map[string]string{"X-Api-Key": "sk_live_123"}, "/", want{verdict.Deny, "key_malformed", 401,
			"starts with pp_", "pp_", []string{invalidKey + `"malformed key"`}}},
		{"malformed truncated", map[string]string{"X-Api-Key": good[:len(good)-5]}, "/", want{verdict.Deny, "key_malformed", 401,
			"the secret part has 47 characters, an issued key has 52", "", []string{invalidKey + `"malformed key"`}}},
		{"malformed whitespace", map[string]string{"X-Api-Key": "\"" + good + "\""}, "/", want{verdict.Deny, "key_malformed", 401,
			"whitespace or quotes", "", []string{invalidKey + `"malformed key"`}}},
		{"unknown id", map[string]string{"X-Api-Key": "pp_zzzzzzzzzzzz_" + strings.Repeat("a", 52)}, "/", want{verdict.Deny, "key_unknown", 401,
			`no key with id "zzzzzzzzzzzz" exists here`, "", []string{invalidKey + `"unknown key"`}}},
		{"wrong secret", map[string]string{"X-Api-Key": wrongSecret}, "/", want{verdict.Deny, "key_unknown", 401,
			`the secret part of key "` + goodID + `" does not match`, "second underscore", []string{invalidKey + `"unknown key"`}}},
		{"revoked", map[string]string{"X-Api-Key": revoked}, "/", want{verdict.Deny, "key_revoked", 401,
			"the key was revoked at 2030-01-02T03:04:05Z", "new key", []string{invalidKey + `"key revoked"`}}},
		{"expired", map[string]string{"X-Api-Key": expired}, "/", want{verdict.Deny, "key_expired", 401,
			"the key expired at 2030-01-02T02:04:05Z", "", []string{invalidKey + `"key expired"`}}},
		{"expired via bearer", map[string]string{"Authorization": "Bearer " + expired}, "/", want{verdict.Deny, "key_expired", 401,
			"the key expired at", "", []string{`Bearer realm="pinpoint", error="invalid_token", error_description="key expired"`}}},
		{"ip not allowed", map[string]string{"X-Api-Key": office}, "/", want{verdict.Deny, "ip_not_allowed_for_key", 403,
			"this key may not be used from 203.0.113.7", "allowed address", nil}},
		{"good header", map[string]string{"X-Api-Key": good}, "/", want{outcome: verdict.Allow}},
		{"good bearer", map[string]string{"Authorization": "Bearer " + good}, "/", want{outcome: verdict.Allow}},
		{"good query", nil, "/?api_key=" + good, want{outcome: verdict.Allow}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := request("GET", tc.url, tc.hdr)
			v := l.Evaluate(ctx, r)
			check(t, v, tc.want)
			if tc.want.outcome == verdict.Allow {
				if r.Identity == nil || r.Identity.ConsumerID != "acme" || r.Identity.KeyID != goodID || r.Identity.Tenant != "t1" ||
					strings.Join(r.Identity.Scopes, ",") != "orders:read" || r.Identity.Method != "key" {
					t.Fatalf("identity = %+v", r.Identity)
				}
			} else if r.Identity != nil {
				t.Fatalf("denied request got an identity")
			}
			for _, f := range v.Evidence {
				if strings.Contains(f.Value, good[len(good)-52:]) {
					t.Fatalf("evidence %s holds the key secret", f.Key)
				}
			}
		})
	}
}

func TestKeyRotationGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.consumer(t, identity.NewConsumer{ID: "acme"})
	old, oldPlain := f.key(t, identity.NewKeySpec{ConsumerID: "acme", Scopes: []string{"a"}})
	nk, newPlain, _, err := f.repo.RotateKey(ctx, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.refresh(t)
	l := f.build(t, "key: {}")
	eval := func(key string) verdict.Verdict {
		return l.Evaluate(ctx, request("GET", "/", map[string]string{"X-Api-Key": key}))
	}
	// Just inside the grace period both keys work.
	f.clock.Set(t0.Add(time.Hour - time.Nanosecond))
	if v := eval(oldPlain); v.Outcome != verdict.Allow {
		t.Fatalf("old key inside grace: %s %s", v.Code, v.Detail)
	}
	if v := eval(newPlain); v.Outcome != verdict.Allow {
		t.Fatalf("new key: %s %s", v.Code, v.Detail)
	}
	// At the boundary the old key is expired and says it was rotated.
	f.clock.Set(t0.Add(time.Hour))
	check(t, eval(oldPlain), want{verdict.Deny, "key_expired", 401, "the key was rotated and its grace period ended at 2030-01-02T04:04:05Z",
		"Switch to the key that replaced it", []string{`ApiKey realm="pinpoint", error="invalid_key", error_description="key expired"`}})
	if v := eval(newPlain); v.Outcome != verdict.Allow {
		t.Fatalf("new key after grace: %s %s", v.Code, v.Detail)
	}
	if nk.ExpiresAt != (time.Time{}) {
		t.Fatalf("successor of a key without expiry expires at %s", nk.ExpiresAt)
	}
	if _, _, _, err := f.repo.RotateKey(ctx, old.ID, time.Hour); err == nil {
		t.Fatal("rotating a rotated key twice succeeded")
	}
}

func TestSuspendedRefusedWithoutConsumerLayer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.consumer(t, identity.NewConsumer{ID: "acme"})
	_, plain := f.key(t, identity.NewKeySpec{ConsumerID: "acme"})
	if _, err := f.repo.SetSuspended(context.Background(), "acme", true, "invoice overdue"); err != nil {
		t.Fatal(err)
	}
	f.refresh(t)
	l := f.build(t, "key: {}")
	check(t, l.Evaluate(context.Background(), request("GET", "/", map[string]string{"X-Api-Key": plain})),
		want{verdict.Deny, "consumer_suspended", 403, "suspended since 2030-01-02T03:04:05Z: invoice overdue", "operator", nil})
}

func TestLastUsedRespectsDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.consumer(t, identity.NewConsumer{ID: "acme"})
	k, plain := f.key(t, identity.NewKeySpec{ConsumerID: "acme"})
	f.refresh(t)
	l := f.build(t, "key: {}")
	r := request("GET", "/", map[string]string{"X-Api-Key": plain})
	r.DryRun = true
	if v := l.Evaluate(ctx, r); v.Outcome != verdict.Allow {
		t.Fatal(v.Code)
	}
	l.dir.Live.FlushUsage(ctx)
	if got, _ := f.repo.GetKey(ctx, k.ID); !got.LastUsedAt.IsZero() {
		t.Fatalf("dry run recorded last use %s", got.LastUsedAt)
	}
	f.clock.Add(time.Minute)
	if v := l.Evaluate(ctx, request("GET", "/", map[string]string{"X-Api-Key": plain})); v.Outcome != verdict.Allow {
		t.Fatal(v.Code)
	}
	l.dir.Live.FlushUsage(ctx)
	if got, _ := f.repo.GetKey(ctx, k.ID); !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last used = %s, want %s", got.LastUsedAt, t0.Add(time.Minute))
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for src, wantErr := range map[string]string{
		`{}`:                           "configure at least one of key, jwt, introspection, basic",
		`key: {hedaer: X}`:             `unknown field "hedaer" (did you mean "header"?)`,
		`key: {header: Authorization}`: "use bearer: true",
		`jwt: {issuer: x, audience: [a], algorithms: [none], jwks: "{}"}`:                  `"none" is never accepted`,
		`jwt: {issuer: x, audience: [a], algorithms: [RS256]}`:                             "nothing to verify signatures with",
		`jwt: {issuer: x, audience: [a], algorithms: [HS256], jwks_url: "https://x/jwks"}`: "HS* algorithms need an HMAC secret",
		`jwt: {issuer: x, algorithms: [RS256], jwks_url: "https://x/jwks"}`:                "name this API's audience",
	} {
		_, err := f.tryBuild(src)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want %q", src, err, wantErr)
		}
	}
}
