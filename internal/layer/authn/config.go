package authn

import (
	"strings"
	"time"
)

// Config is a route's `authn:` section. At least one method is needed; a
// request may authenticate with any configured one.
type Config struct {
	// Realm names the protection space in WWW-Authenticate challenges.
	Realm         string               `yaml:"realm"`
	Key           *KeyConfig           `yaml:"key"`
	JWT           *JWTConfig           `yaml:"jwt"`
	Introspection *IntrospectionConfig `yaml:"introspection"`
	Basic         *BasicConfig         `yaml:"basic"`
}

// KeyConfig says where API keys are read from.
type KeyConfig struct {
	// Header is the key header (default X-Api-Key; "-" for none).
	Header string `yaml:"header"`
	// Bearer also accepts "Authorization: Bearer pp_…" (default true).
	Bearer *bool `yaml:"bearer"`
	// Query also accepts the key in this query parameter (off by default:
	// query strings end up in access logs and browser histories).
	Query string `yaml:"query"`
}

// JWTConfig verifies JWT bearer tokens from one issuer.
type JWTConfig struct {
	Issuer   string   `yaml:"issuer"`
	Audience []string `yaml:"audience"`
	// Algorithms is the explicit allowlist (e.g. [RS256, ES256]); "none"
	// is never accepted.
	Algorithms []string `yaml:"algorithms"`
	// JWKSURL is fetched on first use, when its keys are older than
	// JWKSMaxAge, and when a token names an unknown kid — at most once per
	// JWKSMinRefresh.
	JWKSURL        string        `yaml:"jwks_url"`
	JWKSMinRefresh time.Duration `yaml:"jwks_min_refresh"`
	JWKSMaxAge     time.Duration `yaml:"jwks_max_age"`
	// JWKS is an inline JSON Web Key Set.
	JWKS string `yaml:"jwks"`
	// Keys are static verification keys.
	Keys   []StaticKey   `yaml:"keys"`
	Leeway time.Duration `yaml:"leeway"`
	// RequireExp refuses tokens without exp (default true).
	RequireExp *bool    `yaml:"require_exp"`
	Claims     ClaimMap `yaml:"claims"`
	// CacheSize bounds the verified-token cache (default 10000).
	CacheSize int `yaml:"cache_size"`
}

// StaticKey is one verification key: a PEM public key or certificate, or
// an HMAC secret (use ${ENV}) for HS* algorithms.
type StaticKey struct {
	KID    string `yaml:"kid"`
	PEM    string `yaml:"pem"`
	Secret string `yaml:"secret"`
}

// ClaimMap names the claims that map to identity fields.
type ClaimMap struct {
	// Consumer is the claim naming the consumer (default "sub").
	Consumer string `yaml:"consumer"`
	// Scopes is the scope claim (default "scope", then "scp").
	Scopes string `yaml:"scopes"`
	// Roles is the roles claim (default "roles").
	Roles string `yaml:"roles"`
	// Tenant is the tenant claim (default none: the consumer's tenant).
	Tenant string `yaml:"tenant"`
}

// IntrospectionConfig checks opaque bearer tokens with an OAuth2
// authorization server (RFC 7662).
type IntrospectionConfig struct {
	URL          string `yaml:"url"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// CacheTTL caps how long an answer is reused (default 60s; never past
	// the token's exp).
	CacheTTL  time.Duration `yaml:"cache_ttl"`
	CacheSize int           `yaml:"cache_size"`
	Timeout   time.Duration `yaml:"timeout"`
	Claims    ClaimMap      `yaml:"claims"`
}

// BasicConfig enables Basic auth for consumers with a password (the
// username is the consumer id).
type BasicConfig struct {
	// CacheTTL is how long a verified username/password pair skips the
	// bcrypt check (default 5m).
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// Defaults.
const (
	DefaultRealm          = "pinpoint"
	DefaultKeyHeader      = "X-Api-Key"
	DefaultLeeway         = 30 * time.Second
	DefaultJWKSMinRefresh = 30 * time.Second
	DefaultJWKSMaxAge     = time.Hour
	DefaultTokenCache     = 10000
	DefaultIntrospectTTL  = 60 * time.Second
	DefaultBasicCacheTTL  = 5 * time.Minute
)

// quotable reports whether s can go inside a quoted-string of a header
// parameter without escaping.
func quotable(s string) bool {
	return !strings.ContainsAny(s, "\"\\\r\n")
}
