package authn

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

type keyAuth struct {
	header string
	query  string
	bearer bool
}

func newKeyAuth(b *pipeline.Build, node *yaml.Node, c *KeyConfig) (*keyAuth, error) {
	k := &keyAuth{header: c.Header, query: c.Query, bearer: c.Bearer == nil || *c.Bearer}
	switch k.header {
	case "":
		k.header = DefaultKeyHeader
	case "-":
		k.header = ""
	}
	if k.header != "" {
		if strings.EqualFold(k.header, "Authorization") {
			return nil, b.Errorf(node, "key.header", "use bearer: true for Authorization; header names another header")
		}
		if !validToken(k.header) {
			return nil, b.Errorf(node, "key.header", "%q is not a valid header name", k.header)
		}
		k.header = http.CanonicalHeaderKey(k.header)
	}
	if k.query != "" && !validToken(k.query) {
		return nil, b.Errorf(node, "key.query", "%q is not a usable query parameter name", k.query)
	}
	if k.header == "" && k.query == "" && !k.bearer {
		return nil, b.Errorf(node, "key", "keys are read from nowhere: set header, query or bearer")
	}
	return k, nil
}

// validToken reports whether s is an RFC 9110 token (header names, and a
// safe subset for query parameter names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkKey verifies an API key. The key's state (revoked, expired, address
// list) is only revealed once its secret matched: without the secret, a
// caller learns no more than "not found" or "secret does not match".
func (l *Layer) checkKey(r *pipeline.Request, raw string, how via) verdict.Verdict {
	id, secret, err := identity.ParseKey(raw)
	if err != nil {
		var ke *identity.KeyError
		msg := "the credential is not a key issued by this gateway"
		if errors.As(err, &ke) {
			msg = ke.Msg
		}
		return l.deny("key_malformed", msg, how, "malformed key")
	}
	k := l.dir.Key(id)
	if k == nil {
		return l.deny("key_unknown", "no key with id "+quoteShort(id)+" exists here; check the key for typos and that it belongs to this environment", how, "unknown key").
			With("key_id", id)
	}
	if !identity.SecretMatches(secret, k.Hash) {
		return l.deny("key_unknown", "the secret part of key "+quoteShort(id)+" does not match; check the key for typos", how, "unknown key").
			WithHint("Copy the whole key again exactly as issued; the part after the second underscore differs.").
			With("key_id", id).With("reason", "secret mismatch")
	}
	if k.Revoked() {
		detail := "the key was revoked"
		if k.RevokedBy != "config" {
			detail += " at " + k.RevokedAt.UTC().Format(time.RFC3339)
		}
		return l.deny("key_revoked", detail, how, "key revoked").
			With("key_id", id).With("consumer", k.ConsumerID).With("revoked_by", k.RevokedBy).With("revoked_reason", k.RevokedReason)
	}
	now := l.now()
	if k.ExpiredAt(now) {
		at := k.ExpiresAt.UTC().Format(time.RFC3339)
		v := l.deny("key_expired", "the key expired at "+at, how, "key expired")
		if k.ReplacedBy != "" {
			v.Detail = "the key was rotated and its grace period ended at " + at
			v = v.WithHint("Switch to the key that replaced it (issued at the rotation).").With("replaced_by", k.ReplacedBy)
		}
		return v.With("key_id", id).With("consumer", k.ConsumerID).With("expires_at", at)
	}
	if !k.AllowsIP(r.ClientIP) {
		return verdict.Denied("ip_not_allowed_for_key", "key:"+id, "this key may not be used from "+r.ClientIP.String()).
			With("key_id", id).With("client_ip", r.ClientIP.String())
	}
	c := l.dir.Consumer(k.ConsumerID)
	if c == nil {
		// A key whose consumer is gone (deleted between snapshot reads)
		// identifies nobody.
		return l.deny("key_unknown", "no key with id "+quoteShort(id)+" exists here; check the key for typos and that it belongs to this environment", how, "unknown key").
			With("key_id", id).With("reason", "consumer missing")
	}
	if v, stop := l.suspended(c); stop {
		return v
	}
	ident := identityFor(c, "key")
	ident.KeyID, ident.Scopes = k.ID, k.Scopes
	r.Identity = ident
	if !r.DryRun && k.Source == identity.SourceStore {
		l.dir.Live.MarkUsed(k.ID, now)
	}
	v := verdict.Pass().With("consumer", c.ID).With("key_id", k.ID)
	if k.ReplacedBy != "" && !k.ExpiresAt.IsZero() {
		v = v.With("rotation_grace_until", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return v
}
