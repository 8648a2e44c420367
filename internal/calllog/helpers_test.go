package calllog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"pinpoint/internal/ids"
	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

// openSQLite opens a fresh store in the test's temp dir.
func openSQLite(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "pp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens the local PostgreSQL in a schema of its own, dropped
// afterwards. Without PostgreSQL the test skips, unless CI is set.
func openPostgres(t testing.TB) *store.Store {
	t.Helper()
	base := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at 127.0.0.1:5432 unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "calllog_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "postgres", base+"&search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return st
}

var idSeq atomic.Int64

// foreignID is an id without a time in it, as a trusted client's
// X-Request-Id may be: such records get rows, not block entries.
func foreignID(t time.Time) string {
	n := idSeq.Add(1)
	return t.Format("20060102150405.000000") + "-" + hex.EncodeToString([]byte{byte(n >> 16), byte(n >> 8), byte(n)})
}

// rec makes a record at t, with an id made at t as the gateway does.
func rec(t time.Time, route string, status int, layer, code, consumer, client string) *trace.Record {
	r := &trace.Record{
		ID:   ids.At(t),
		Time: t, Method: "POST", Host: "api.test", Path: "/" + route, RouteID: route, Client: client,
		Status: status, Micros: 1500, BytesIn: 10, BytesOut: 20, Consumer: consumer, Layer: layer, Code: code,
		Steps: []trace.Step{{Layer: "route", Outcome: "allow"}},
	}
	if code != "" {
		r.DeniedBy = "gateway"
		r.Steps = append(r.Steps, trace.Step{Layer: layer, Outcome: "deny", Code: code, Status: status})
	}
	return r
}

func shadowRec(t time.Time, route, consumer, layer, code, rule string) *trace.Record {
	r := rec(t, route, 200, "", "", consumer, "198.51.100.4")
	r.ShadowHit = true
	r.Steps = append(r.Steps, trace.Step{Layer: layer, Outcome: "shadow_deny", Code: code, Rule: rule, Mode: "shadow"})
	return r
}

// recordCount is how many records the store holds, in rows and blocks.
func recordCount(t testing.TB, st *store.Store) int {
	t.Helper()
	var rows, blocked int
	if err := st.DB.QueryRow(`SELECT COUNT(*) FROM requests`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := st.DB.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM request_blocks`).Scan(&blocked); err != nil {
		t.Fatal(err)
	}
	return rows + blocked
}
