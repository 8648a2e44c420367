package identity_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"pinpoint/internal/identity"
	"pinpoint/internal/store"
)

// pgStore opens PostgreSQL in a fresh schema (PINPOINT_TEST_POSTGRES, or
// the local test database). Unreachable: skip, or fail when CI is set.
func pgStore(t *testing.T) *store.Store {
	t.Helper()
	base := os.Getenv("PINPOINT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unavailable := func(err error) {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unavailable: %v", err)
		}
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		unavailable(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("identity_test_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		unavailable(err)
	}
	t.Cleanup(func() {
		db2, err := sql.Open("pgx", base)
		if err == nil {
			db2.Exec("DROP SCHEMA " + schema + " CASCADE")
			db2.Close()
		}
	})
	st, err := store.Open(ctx, "postgres", base+"&search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRepoOnPostgres(t *testing.T) {
	t.Parallel()
	st := pgStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	repo := identity.NewRepo(st, func() time.Time { return now })
	if _, err := repo.CreateConsumer(ctx, identity.NewConsumer{ID: "acme", Tenant: "t1", Roles: []string{"writer"}, Metadata: map[string]any{"plan": "pro"}}); err != nil {
		t.Fatal(err)
	}
	k, plain, err := repo.CreateKey(ctx, identity.NewKeySpec{ConsumerID: "acme", Scopes: []string{"b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	nk, _, old, err := repo.RotateKey(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := repo.Apply(ctx, "acme", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Decide(ctx, s.ID, identity.SubApproved, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := repo.TouchKeys(ctx, map[string]time.Time{nk.ID: now}); err != nil {
		t.Fatal(err)
	}
	snap, err := repo.LoadSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := snap.Consumers["acme"]
	if c == nil || c.Metadata["plan"] != "pro" || c.Tenant != "t1" {
		t.Fatalf("consumer = %+v", c)
	}
	got := snap.Keys[k.ID]
	_, secret, _ := identity.ParseKey(plain)
	if got == nil || !identity.SecretMatches(secret, got.Hash) || !got.ExpiresAt.Equal(old.ExpiresAt) || got.ReplacedBy != nk.ID || got.Scopes[0] != "a" {
		t.Fatalf("key = %+v", got)
	}
	if !snap.Keys[nk.ID].LastUsedAt.Equal(now) {
		t.Fatalf("last used = %s", snap.Keys[nk.ID].LastUsedAt)
	}
	if sub := snap.Subscription("acme", "orders"); sub == nil || sub.Status != identity.SubApproved {
		t.Fatalf("subscription = %+v", sub)
	}
	if snap.Version < 5 {
		t.Fatalf("version %d did not count the writes", snap.Version)
	}
}
