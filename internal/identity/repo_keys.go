package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"time"
)

const keyCols = `id, consumer_id, name, hash, scopes, expires_at, allowed_ips, revoked_at, revoked_by, revoked_reason, replaced_by, last_used_at, created_at`

func scanKey(row rowScanner) (*Key, error) {
	var k Key
	var scopes, ips string
	var exp, rev, used, created int64
	if err := row.Scan(&k.ID, &k.ConsumerID, &k.Name, &k.Hash, &scopes, &exp, &ips, &rev, &k.RevokedBy, &k.RevokedReason, &k.ReplacedBy, &used, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, err
	}
	var err error
	if k.AllowedIPs, err = parsePrefixes(ips); err != nil {
		return nil, err
	}
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt, k.CreatedAt = fromMicros(exp), fromMicros(rev), fromMicros(used), fromMicros(created)
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	k.Source = SourceStore
	return &k, nil
}

// NewKeySpec is what issuing a key takes.
type NewKeySpec struct {
	ConsumerID string
	Name       string
	Scopes     []string
	ExpiresAt  time.Time
	AllowedIPs []netip.Prefix
}

// ValidScope reports whether s may be a scope: printable, no spaces or
// quotes (scopes travel space-separated in WWW-Authenticate).
func ValidScope(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

func checkScopes(scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	seen := map[string]bool{}
	for _, s := range scopes {
		if !ValidScope(s) {
			return nil, badInput("scope %q: scopes are non-empty and have no spaces or quotes", s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CreateKey issues a key for a consumer. The plaintext key is returned
// once and never stored.
func (r *Repo) CreateKey(ctx context.Context, spec NewKeySpec) (*Key, string, error) {
	var k *Key
	var plain string
	err := r.write(ctx, func(tx *sql.Tx) error {
		var err error
		k, plain, err = r.insertKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, plain, nil
}

func (r *Repo) insertKey(ctx context.Context, tx *sql.Tx, spec NewKeySpec) (*Key, string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM identity_consumers WHERE id = ?`), spec.ConsumerID).Scan(&n); err != nil {
		return nil, "", err
	}
	if n == 0 {
		return nil, "", ErrNotFound
	}
	scopes, err := checkScopes(spec.Scopes)
	if err != nil {
		return nil, "", err
	}
	id, plain, hash, err := NewKey()
	if err != nil {
		return nil, "", err
	}
	now := r.now().UTC()
	if !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(now) {
		return nil, "", badInput("expires_at %s is not in the future", spec.ExpiresAt.Format(time.RFC3339))
	}
	k := &Key{ID: id, ConsumerID: spec.ConsumerID, Name: spec.Name, Hash: hash, Scopes: scopes,
		ExpiresAt: spec.ExpiresAt.UTC(), AllowedIPs: spec.AllowedIPs, CreatedAt: now, Source: SourceStore}
	_, err = tx.ExecContext(ctx, r.q(`INSERT INTO identity_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.ConsumerID, k.Name, k.Hash, mustJSON(k.Scopes), micros(k.ExpiresAt), prefixesJSON(k.AllowedIPs),
		int64(0), "", "", "", int64(0), micros(now))
	if err != nil {
		return nil, "", err
	}
	return k, plain, nil
}

// GetKey reads one key.
func (r *Repo) GetKey(ctx context.Context, id string) (*Key, error) {
	k, err := scanKey(r.st.DB.QueryRowContext(ctx, r.q(`SELECT `+keyCols+` FROM identity_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// ListKeys lists keys, optionally of one consumer.
func (r *Repo) ListKeys(ctx context.Context, consumerID string) ([]*Key, error) {
	q := `SELECT ` + keyCols + ` FROM identity_keys`
	var args []any
	if consumerID != "" {
		q += ` WHERE consumer_id = ?`
		args = append(args, consumerID)
	}
	rows, err := r.st.DB.QueryContext(ctx, r.q(q+` ORDER BY consumer_id, created_at, id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey revokes a key at once, recording who and why.
func (r *Repo) RevokeKey(ctx context.Context, id, by, reason string) (*Key, error) {
	k, err := r.GetKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Revoked() {
		return nil, conflict("key %q was already revoked at %s", id, k.RevokedAt.Format(time.RFC3339))
	}
	k.RevokedAt, k.RevokedBy, k.RevokedReason = r.now().UTC(), by, strings.TrimSpace(reason)
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_keys SET revoked_at = ?, revoked_by = ?, revoked_reason = ? WHERE id = ?`),
			micros(k.RevokedAt), k.RevokedBy, k.RevokedReason, id)
		return err
	})
	return k, err
}

// ExpireKey sets when a key stops working (now, or a given time).
func (r *Repo) ExpireKey(ctx context.Context, id string, at time.Time) (*Key, error) {
	k, err := r.GetKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = r.now()
	}
	k.ExpiresAt = at.UTC()
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_keys SET expires_at = ? WHERE id = ?`), micros(k.ExpiresAt), id)
		return err
	})
	return k, err
}

// SetKeyScopes replaces a key's scopes.
func (r *Repo) SetKeyScopes(ctx context.Context, id string, scopes []string) (*Key, error) {
	k, err := r.GetKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Scopes, err = checkScopes(scopes); err != nil {
		return nil, err
	}
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_keys SET scopes = ? WHERE id = ?`), mustJSON(k.Scopes), id)
		return err
	})
	return k, err
}

// RotateKey issues a successor with the same consumer, name, scopes and
// address list; the old key keeps working for grace, then expires (an
// earlier expiry it already had is kept).
func (r *Repo) RotateKey(ctx context.Context, id string, grace time.Duration) (newKey *Key, plain string, old *Key, err error) {
	if grace < 0 {
		return nil, "", nil, badInput("grace period %s is negative", grace)
	}
	old, err = r.GetKey(ctx, id)
	if err != nil {
		return nil, "", nil, err
	}
	now := r.now().UTC()
	if old.Revoked() {
		return nil, "", nil, conflict("key %q is revoked; issue a new key instead", id)
	}
	if old.ExpiredAt(now) {
		return nil, "", nil, conflict("key %q already expired at %s; issue a new key instead", id, old.ExpiresAt.Format(time.RFC3339))
	}
	if old.ReplacedBy != "" {
		return nil, "", nil, conflict("key %q was already rotated (replaced by %q)", id, old.ReplacedBy)
	}
	end := now.Add(grace)
	if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(end) {
		end = old.ExpiresAt
	}
	err = r.write(ctx, func(tx *sql.Tx) error {
		spec := NewKeySpec{ConsumerID: old.ConsumerID, Name: old.Name, Scopes: old.Scopes, AllowedIPs: old.AllowedIPs}
		if !old.ExpiresAt.IsZero() && old.ExpiresAt.After(now) {
			// The successor keeps a fixed lifetime the old key had, so a
			// rotation never extends access.
			spec.ExpiresAt = old.ExpiresAt
		}
		var err error
		if newKey, plain, err = r.insertKey(ctx, tx, spec); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, r.q(`UPDATE identity_keys SET expires_at = ?, replaced_by = ? WHERE id = ?`), micros(end), newKey.ID, id)
		return err
	})
	if err != nil {
		return nil, "", nil, err
	}
	old.ExpiresAt, old.ReplacedBy = end, newKey.ID
	return newKey, plain, old, nil
}

// TouchKeys records last-used times. It does not bump the version: usage
// is not a change that the snapshot needs.
func (r *Repo) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := r.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, r.q(`UPDATE identity_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`))
	if err != nil {
		tx.Rollback()
		return err
	}
	defer stmt.Close()
	for id, t := range used {
		if _, err := stmt.ExecContext(ctx, micros(t), id, micros(t)); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}
