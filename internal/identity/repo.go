package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"pinpoint/internal/store"
)

// ErrNotFound is returned for a missing consumer, key, subscription,
// tenant or role.
var ErrNotFound = errors.New("not found")

// InputError is a request that cannot be applied (bad id, duplicate,
// wrong state); its message is for the administrator.
type InputError struct {
	Conflict bool
	Msg      string
}

func (e *InputError) Error() string { return e.Msg }

func badInput(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &InputError{Conflict: true, Msg: fmt.Sprintf(format, args...)}
}

// Repo reads and writes identity records. Every write bumps the version
// counter in the same transaction, which is what the snapshot pollers of
// all gateway nodes watch.
type Repo struct {
	st  *store.Store
	now func() time.Time
}

// NewRepo returns a Repo on st; now is the clock (nil means time.Now).
func NewRepo(st *store.Store, now func() time.Time) *Repo {
	if now == nil {
		now = time.Now
	}
	return &Repo{st: st, now: now}
}

func (r *Repo) q(s string) string { return r.st.Rebind(s) }

// write runs fn in a transaction and bumps the version counter.
func (r *Repo) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := r.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE identity_version SET version = version + 1 WHERE id = 1`); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Version is the current change counter.
func (r *Repo) Version(ctx context.Context) (int64, error) {
	var v int64
	err := r.st.DB.QueryRowContext(ctx, `SELECT version FROM identity_version WHERE id = 1`).Scan(&v)
	return v, err
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + lowerB32.EncodeToString(b)
}

// ValidName reports whether s may be a consumer, tenant or role id:
// 1–64 of [A-Za-z0-9._:-].
func ValidName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

func prefixesJSON(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return mustJSON(s)
}

func parsePrefixes(raw string) ([]netip.Prefix, error) {
	var ss []string
	if err := json.Unmarshal([]byte(raw), &ss); err != nil {
		return nil, err
	}
	return ParsePrefixes(ss)
}

// ParsePrefixes parses CIDRs or single addresses.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR range", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
