package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
)

const consumerCols = `id, name, tenant, roles, metadata, status, suspended_reason, suspended_at, password_hash, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanConsumer(row rowScanner) (*Consumer, error) {
	var c Consumer
	var roles, meta string
	var susp, created, updated int64
	if err := row.Scan(&c.ID, &c.Name, &c.Tenant, &roles, &meta, &c.Status, &c.SuspendedReason, &susp, &c.PasswordHash, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &c.Roles); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(meta), &c.Metadata); err != nil {
		return nil, err
	}
	c.SuspendedAt, c.CreatedAt, c.UpdatedAt = fromMicros(susp), fromMicros(created), fromMicros(updated)
	c.HasPassword = c.PasswordHash != ""
	c.Source = SourceStore
	normalizeConsumer(&c)
	return &c, nil
}

func normalizeConsumer(c *Consumer) {
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	if c.Status == "" {
		c.Status = StatusActive
	}
}

// NewConsumer is what creating a consumer takes.
type NewConsumer struct {
	ID       string         `json:"id,omitempty"`
	Name     string         `json:"name"`
	Tenant   string         `json:"tenant,omitempty"`
	Roles    []string       `json:"roles,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// Password enables Basic auth; it is hashed with bcrypt at once.
	Password string `json:"password,omitempty"`
}

// CreateConsumer stores a new consumer; an empty ID gets a generated one.
func (r *Repo) CreateConsumer(ctx context.Context, in NewConsumer) (*Consumer, error) {
	if in.ID == "" {
		in.ID = randomID("c-", 6)
	}
	if !ValidName(in.ID) {
		return nil, badInput("consumer id %q: use 1–64 letters, digits, '.', '_', ':' or '-'", in.ID)
	}
	if in.Name == "" {
		in.Name = in.ID
	}
	if in.Tenant != "" && !ValidName(in.Tenant) {
		return nil, badInput("tenant %q: use 1–64 letters, digits, '.', '_', ':' or '-'", in.Tenant)
	}
	for _, role := range in.Roles {
		if !ValidName(role) {
			return nil, badInput("role %q: use 1–64 letters, digits, '.', '_', ':' or '-'", role)
		}
	}
	c := &Consumer{ID: in.ID, Name: in.Name, Tenant: in.Tenant, Roles: in.Roles, Metadata: in.Metadata, Status: StatusActive, Source: SourceStore}
	normalizeConsumer(c)
	if in.Password != "" {
		h, err := HashPassword(in.Password)
		if err != nil {
			return nil, badInput("password: %v", err)
		}
		c.PasswordHash, c.HasPassword = h, true
	}
	now := r.now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	err := r.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM identity_consumers WHERE id = ?`), c.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("consumer %q already exists", c.ID)
		}
		_, err := tx.ExecContext(ctx, r.q(`INSERT INTO identity_consumers (`+consumerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.Name, c.Tenant, mustJSON(c.Roles), mustJSON(c.Metadata), c.Status, "", int64(0), c.PasswordHash, micros(now), micros(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetConsumer reads one consumer.
func (r *Repo) GetConsumer(ctx context.Context, id string) (*Consumer, error) {
	c, err := scanConsumer(r.st.DB.QueryRowContext(ctx, r.q(`SELECT `+consumerCols+` FROM identity_consumers WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// ListConsumers lists consumers, optionally of one tenant.
func (r *Repo) ListConsumers(ctx context.Context, tenant string) ([]*Consumer, error) {
	q := `SELECT ` + consumerCols + ` FROM identity_consumers`
	var args []any
	if tenant != "" {
		q += ` WHERE tenant = ?`
		args = append(args, tenant)
	}
	rows, err := r.st.DB.QueryContext(ctx, r.q(q+` ORDER BY id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Consumer{}
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsumerPatch changes some fields of a consumer; nil fields stay.
type ConsumerPatch struct {
	Name     *string         `json:"name,omitempty"`
	Tenant   *string         `json:"tenant,omitempty"`
	Roles    *[]string       `json:"roles,omitempty"`
	Metadata *map[string]any `json:"metadata,omitempty"`
	Password *string         `json:"password,omitempty"`
}

// UpdateConsumer applies a patch.
func (r *Repo) UpdateConsumer(ctx context.Context, id string, p ConsumerPatch) (*Consumer, error) {
	c, err := r.GetConsumer(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		c.Name = *p.Name
	}
	if p.Tenant != nil {
		if *p.Tenant != "" && !ValidName(*p.Tenant) {
			return nil, badInput("tenant %q: use 1–64 letters, digits, '.', '_', ':' or '-'", *p.Tenant)
		}
		c.Tenant = *p.Tenant
	}
	if p.Roles != nil {
		for _, role := range *p.Roles {
			if !ValidName(role) {
				return nil, badInput("role %q: use 1–64 letters, digits, '.', '_', ':' or '-'", role)
			}
		}
		c.Roles = *p.Roles
	}
	if p.Metadata != nil {
		c.Metadata = *p.Metadata
	}
	if p.Password != nil {
		if *p.Password == "" {
			c.PasswordHash = ""
		} else if c.PasswordHash, err = HashPassword(*p.Password); err != nil {
			return nil, badInput("password: %v", err)
		}
		c.HasPassword = c.PasswordHash != ""
	}
	normalizeConsumer(c)
	c.UpdatedAt = r.now().UTC()
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_consumers SET name = ?, tenant = ?, roles = ?, metadata = ?, password_hash = ?, updated_at = ? WHERE id = ?`),
			c.Name, c.Tenant, mustJSON(c.Roles), mustJSON(c.Metadata), c.PasswordHash, micros(c.UpdatedAt), id)
		return err
	})
	return c, err
}

// SetSuspended suspends (with a reason shown to the caller) or resumes a
// consumer.
func (r *Repo) SetSuspended(ctx context.Context, id string, suspend bool, reason string) (*Consumer, error) {
	c, err := r.GetConsumer(ctx, id)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	if suspend {
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, badInput("a suspension needs a reason: the caller is shown it")
		}
		c.Status, c.SuspendedReason, c.SuspendedAt = StatusSuspended, reason, now
	} else {
		if !c.Suspended() {
			return nil, conflict("consumer %q is not suspended", id)
		}
		c.Status, c.SuspendedReason, c.SuspendedAt = StatusActive, "", now
	}
	c.UpdatedAt = now
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_consumers SET status = ?, suspended_reason = ?, suspended_at = ?, updated_at = ? WHERE id = ?`),
			c.Status, c.SuspendedReason, micros(c.SuspendedAt), micros(now), id)
		return err
	})
	return c, err
}

// DeleteConsumer removes a consumer with its keys and subscriptions.
func (r *Repo) DeleteConsumer(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *sql.Tx) error {
		// Children first: not every PostgreSQL/SQLite setup enforces the
		// cascade (SQLite needs foreign_keys on per connection).
		if _, err := tx.ExecContext(ctx, r.q(`DELETE FROM identity_keys WHERE consumer_id = ?`), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, r.q(`DELETE FROM identity_subscriptions WHERE consumer_id = ?`), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, r.q(`DELETE FROM identity_consumers WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
