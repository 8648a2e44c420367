package demo

import (
	"context"
	"strings"
	"time"

	"pinpoint/internal/identity"
	"pinpoint/internal/store"
)

// The identity part of the demo: consumers with a read-only key, a write
// key, an expired key, a revoked key, a suspended consumer, and a JWT
// issuer, on a route that checks scopes and an ownership policy.
var creds identity.DemoCredentials

func init() {
	RegisterPrepare(func(ctx context.Context, st *store.Store, _ Ports) error {
		var err error
		creds, err = identity.SeedDemo(ctx, st, time.Now())
		return err
	})
	Register(Extension{
		Name: "identity",
		Config: func(p Ports) map[string]string {
			if creds.ReadKey == "" {
				return nil
			}
			return map[string]string{"routes": `  - id: secure-orders
    path: /secure/orders
    methods: [GET, POST]
    upstream: demo
    tenant: ` + creds.Tenant + `
    service: ` + creds.Service + `
    authn:
` + indent(creds.AuthnYAML(), "      ") + `    consumer: {tenant: true, require_subscription: true}
    authz:
      methods:
        GET: {scopes: {all_of: ["orders:read"]}}
        POST: {scopes: {all_of: ["orders:write"]}}
      policies:
        - name: owner-only
          methods: [POST]
          expr: "request.body.owner_id == consumer.id"
          message: "orders can only be created for yourself"
        - name: pro-plan-reads
          methods: [GET]
          expr: 'has(consumer.metadata.plan) && consumer.metadata.plan == "pro"'
          message: "reading orders will need the pro plan"
          mode: shadow
`}
		},
		Examples: func(p Ports) []Example {
			if creds.ReadKey == "" {
				return nil
			}
			json := [2]string{"Content-Type", "application/json"}
			key := func(k string) [2]string { return [2]string{"X-Api-Key", k} }
			bearer := func(t string) [2]string { return [2]string{"Authorization", "Bearer " + t} }
			mine := `{"owner_id":"` + identity.DemoWriter + `","item":"book"}`
			unknown := "pp_zzzzzzzzzzzz_" + strings.Repeat("A", 43)
			if _, secret, err := identity.ParseKey(creds.ReadKey); err == nil {
				unknown = identity.KeyPrefix + "zzzzzzzzzzzz_" + secret
			}
			return []Example{
				{Order: 10, Title: "Auth: a write key creating its own order", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.WriteKey)}, Body: mine, Status: 200},
				{Order: 11, Title: "Auth: no credential", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json}, Body: mine, Status: 401, Code: "credentials_missing"},
				{Order: 12, Title: "Auth: a key pasted with a typo in its shape", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key("pp_abc")}, Body: mine, Status: 401, Code: "key_malformed"},
				{Order: 13, Title: "Auth: a key id that does not exist", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(unknown)}, Body: mine, Status: 401, Code: "key_unknown"},
				{Order: 14, Title: "Auth: an expired key (the detail says when)", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.ExpiredKey)}, Body: mine, Status: 401, Code: "key_expired"},
				{Order: 15, Title: "Auth: a revoked key", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.RevokedKey)}, Body: mine, Status: 401, Code: "key_revoked"},
				{Order: 16, Title: "Auth: a suspended consumer", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.SuspendedKey)}, Body: mine, Status: 403, Code: "consumer_suspended"},
				{Order: 17, Title: "Auth: a read-only key used for a write", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.ReadKey)}, Body: mine, Status: 403, Code: "missing_scope"},
				{Order: 18, Title: "Auth: creating an order for someone else (CEL ownership policy)", Method: "POST", Path: "/secure/orders", Headers: [][2]string{json, key(creds.WriteKey)}, Body: `{"owner_id":"someone-else","item":"book"}`, Status: 403, Code: "policy_denied"},
				{Order: 19, Title: "Auth: a valid JWT reading orders (a shadowed plan policy records what it would deny: pinpoint shadow report)", Method: "GET", Path: "/secure/orders", Headers: [][2]string{bearer(creds.JWT)}, Status: 200},
				{Order: 20, Title: "Auth: an expired JWT", Method: "GET", Path: "/secure/orders", Headers: [][2]string{bearer(creds.ExpiredJWT)}, Status: 401, Code: "token_expired"},
				{Order: 20.2, Title: "Auth: a bearer token that is not a JWT", Method: "GET", Path: "/secure/orders", Headers: [][2]string{bearer("not-a-jwt")}, Status: 401, Code: "token_malformed"},
				{Order: 20.4, Title: "Auth: a JWT whose signature was altered", Method: "GET", Path: "/secure/orders", Headers: [][2]string{bearer(alterSignature(creds.JWT))}, Status: 401, Code: "token_bad_signature"},
				{Order: 21, Title: "Auth: a JWT issued for another API", Method: "GET", Path: "/secure/orders", Headers: [][2]string{bearer(creds.WrongAudienceJWT)}, Status: 401, Code: "token_wrong_audience"},
			}
		},
	})
}

// alterSignature changes one character in the middle of a JWT's signature
// (the last character may only carry padding bits).
func alterSignature(jwt string) string {
	i := strings.LastIndexByte(jwt, '.')
	if i < 0 || len(jwt)-i < 8 {
		return jwt + "x"
	}
	b := []byte(jwt)
	j := i + (len(jwt)-i)/2
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	return string(b)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}
