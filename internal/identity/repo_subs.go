package identity

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

const subCols = `id, consumer_id, service, status, reason, applied_at, decided_at, decided_by`

func scanSub(row rowScanner) (*Subscription, error) {
	var s Subscription
	var applied, decided int64
	if err := row.Scan(&s.ID, &s.ConsumerID, &s.Service, &s.Status, &s.Reason, &applied, &decided, &s.DecidedBy); err != nil {
		return nil, err
	}
	s.AppliedAt, s.DecidedAt = fromMicros(applied), fromMicros(decided)
	s.Source = SourceStore
	return &s, nil
}

// Apply records a consumer's application for a service; it starts pending.
// A rejected or revoked subscription may apply again.
func (r *Repo) Apply(ctx context.Context, consumerID, service string) (*Subscription, error) {
	if !ValidName(service) {
		return nil, badInput("service %q: use 1–64 letters, digits, '.', '_', ':' or '-'", service)
	}
	if _, err := r.GetConsumer(ctx, consumerID); err != nil {
		return nil, err
	}
	now := r.now().UTC()
	var out *Subscription
	err := r.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanSub(tx.QueryRowContext(ctx, r.q(`SELECT `+subCols+` FROM identity_subscriptions WHERE consumer_id = ? AND service = ?`), consumerID, service))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = &Subscription{ID: randomID("sub-", 6), ConsumerID: consumerID, Service: service, Status: SubPending, AppliedAt: now, Source: SourceStore}
			_, err = tx.ExecContext(ctx, r.q(`INSERT INTO identity_subscriptions (`+subCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				out.ID, consumerID, service, SubPending, "", micros(now), int64(0), "")
			return err
		case err != nil:
			return err
		case cur.Status == SubPending || cur.Status == SubApproved:
			return conflict("consumer %q already has a %s subscription to %q (%s)", consumerID, cur.Status, service, cur.ID)
		}
		out = cur
		out.Status, out.Reason, out.AppliedAt, out.DecidedAt, out.DecidedBy = SubPending, "", now, fromMicros(0), ""
		_, err = tx.ExecContext(ctx, r.q(`UPDATE identity_subscriptions SET status = ?, reason = '', applied_at = ?, decided_at = 0, decided_by = '' WHERE id = ?`),
			SubPending, micros(now), cur.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// allowedFrom lists which states each decision may follow.
var allowedFrom = map[string][]string{
	SubApproved: {SubPending, SubRejected},
	SubRejected: {SubPending},
	SubRevoked:  {SubApproved, SubPending},
}

// Decide moves a subscription to approved, rejected or revoked.
func (r *Repo) Decide(ctx context.Context, id, status, by, reason string) (*Subscription, error) {
	from, ok := allowedFrom[status]
	if !ok {
		return nil, badInput("status %q: approve, reject or revoke", status)
	}
	s, err := r.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	okFrom := false
	for _, f := range from {
		okFrom = okFrom || s.Status == f
	}
	if !okFrom {
		return nil, conflict("subscription %q is %s; it cannot become %s", id, s.Status, status)
	}
	s.Status, s.Reason, s.DecidedAt, s.DecidedBy = status, strings.TrimSpace(reason), r.now().UTC(), by
	err = r.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.q(`UPDATE identity_subscriptions SET status = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ?`),
			s.Status, s.Reason, micros(s.DecidedAt), by, id)
		return err
	})
	return s, err
}

// GetSubscription reads one subscription.
func (r *Repo) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	s, err := scanSub(r.st.DB.QueryRowContext(ctx, r.q(`SELECT `+subCols+` FROM identity_subscriptions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// SubscriptionFilter narrows ListSubscriptions; empty fields match all.
type SubscriptionFilter struct {
	ConsumerID, Service, Status string
}

// ListSubscriptions lists subscriptions.
func (r *Repo) ListSubscriptions(ctx context.Context, f SubscriptionFilter) ([]*Subscription, error) {
	q := `SELECT ` + subCols + ` FROM identity_subscriptions WHERE 1 = 1`
	var args []any
	for _, c := range []struct{ col, v string }{{"consumer_id", f.ConsumerID}, {"service", f.Service}, {"status", f.Status}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	rows, err := r.st.DB.QueryContext(ctx, r.q(q+` ORDER BY applied_at, id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Subscription{}
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
