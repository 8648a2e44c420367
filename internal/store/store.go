package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx".
	_ "modernc.org/sqlite"             // SQLite driver "sqlite", pure Go.
)

// Dialect is the SQL flavour of the open database.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is an open database.
type Store struct {
	DB      *sql.DB
	Dialect Dialect
	// Path is the SQLite file ("" for PostgreSQL).
	Path string
}

// Migration is one schema step of a feature. SQL is run once, in ID order
// within the feature; Postgres overrides SQL where the dialects differ.
type Migration struct {
	Feature  string
	ID       int
	SQL      string
	Postgres string
}

var (
	migMu      sync.Mutex
	migrations []Migration
)

// Register adds migrations; feature packages call it from init.
func Register(ms ...Migration) {
	migMu.Lock()
	defer migMu.Unlock()
	migrations = append(migrations, ms...)
}

// Open opens and migrates the store. driver is "sqlite" (dsn a file path,
// or ":memory:") or "postgres" (dsn a connection string).
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	var s *Store
	switch driver {
	case "", "sqlite":
		if dsn == "" {
			dsn = "pinpoint.db"
		}
		if dsn != ":memory:" {
			if dir := filepath.Dir(dsn); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return nil, err
				}
			}
		}
		// WAL lets `pinpoint explain` read while the gateway writes; the
		// busy timeout covers a writer holding the lock briefly.
		q := "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
		target := "file:" + dsn + q
		if dsn == ":memory:" {
			target = "file::memory:?cache=shared&_pragma=foreign_keys(1)"
		}
		db, err := sql.Open("sqlite", target)
		if err != nil {
			return nil, err
		}
		if dsn == ":memory:" {
			db.SetMaxOpenConns(1)
		}
		s = &Store{DB: db, Dialect: SQLite, Path: dsn}
	case "postgres":
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(16)
		s = &Store{DB: db, Dialect: Postgres}
	default:
		return nil, fmt.Errorf("store: unknown driver %q (sqlite or postgres)", driver)
	}
	if err := s.DB.PingContext(ctx); err != nil {
		s.DB.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", driver, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.DB.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.DB.Close() }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (feature TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (feature, id))`); err != nil {
		return fmt.Errorf("store: creating schema_migrations: %w", err)
	}
	migMu.Lock()
	ms := append([]Migration(nil), migrations...)
	migMu.Unlock()
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Feature != ms[j].Feature {
			return ms[i].Feature < ms[j].Feature
		}
		return ms[i].ID < ms[j].ID
	})
	for _, m := range ms {
		var n int
		if err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE feature = ? AND id = ?`), m.Feature, m.ID).Scan(&n); err != nil {
			return fmt.Errorf("store: reading migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		q := m.SQL
		if s.Dialect == Postgres && m.Postgres != "" {
			q = m.Postgres
		}
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, stmt := range splitStatements(q) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("store: migration %s/%d: %w", m.Feature, m.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO schema_migrations (feature, id) VALUES (?, ?)`), m.Feature, m.ID); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func splitStatements(q string) []string {
	var out []string
	for _, p := range strings.Split(q, ";") {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// Rebind turns ? placeholders into $1, $2, … for PostgreSQL.
func (s *Store) Rebind(q string) string {
	if s.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
