package identity

import (
	"context"
	"database/sql"
)

// CreateTenant registers a tenant.
func (r *Repo) CreateTenant(ctx context.Context, id, name string) (*Tenant, error) {
	if !ValidName(id) {
		return nil, badInput("tenant id %q: use 1–64 letters, digits, '.', '_', ':' or '-'", id)
	}
	if name == "" {
		name = id
	}
	t := &Tenant{ID: id, Name: name, CreatedAt: r.now().UTC()}
	err := r.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM identity_tenants WHERE id = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("tenant %q already exists", id)
		}
		_, err := tx.ExecContext(ctx, r.q(`INSERT INTO identity_tenants (id, name, created_at) VALUES (?, ?, ?)`), id, name, micros(t.CreatedAt))
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ListTenants lists tenants.
func (r *Repo) ListTenants(ctx context.Context) ([]*Tenant, error) {
	rows, err := r.st.DB.QueryContext(ctx, `SELECT id, name, created_at FROM identity_tenants ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Tenant{}
	for rows.Next() {
		var t Tenant
		var c int64
		if err := rows.Scan(&t.ID, &t.Name, &c); err != nil {
			return nil, err
		}
		t.CreatedAt = fromMicros(c)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// DeleteTenant removes a tenant; consumers still in it must move first.
func (r *Repo) DeleteTenant(ctx context.Context, id string) error {
	return r.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM identity_consumers WHERE tenant = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("tenant %q still has %d consumers; move or delete them first", id, n)
		}
		res, err := tx.ExecContext(ctx, r.q(`DELETE FROM identity_tenants WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// CreateRole registers a role name.
func (r *Repo) CreateRole(ctx context.Context, name, desc string) (*Role, error) {
	if !ValidName(name) {
		return nil, badInput("role %q: use 1–64 letters, digits, '.', '_', ':' or '-'", name)
	}
	ro := &Role{Name: name, Description: desc, CreatedAt: r.now().UTC()}
	err := r.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM identity_roles WHERE name = ?`), name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("role %q already exists", name)
		}
		_, err := tx.ExecContext(ctx, r.q(`INSERT INTO identity_roles (name, description, created_at) VALUES (?, ?, ?)`), name, desc, micros(ro.CreatedAt))
		return err
	})
	if err != nil {
		return nil, err
	}
	return ro, nil
}

// ListRoles lists roles.
func (r *Repo) ListRoles(ctx context.Context) ([]*Role, error) {
	rows, err := r.st.DB.QueryContext(ctx, `SELECT name, description, created_at FROM identity_roles ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Role{}
	for rows.Next() {
		var ro Role
		var c int64
		if err := rows.Scan(&ro.Name, &ro.Description, &c); err != nil {
			return nil, err
		}
		ro.CreatedAt = fromMicros(c)
		out = append(out, &ro)
	}
	return out, rows.Err()
}

// DeleteRole removes a role name (consumers keep the string; routes that
// require it then match nobody new).
func (r *Repo) DeleteRole(ctx context.Context, name string) error {
	return r.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, r.q(`DELETE FROM identity_roles WHERE name = ?`), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
