package identity

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

// `pinpoint try --as` sees the consumer as its keys would present it.
func TestResolveConsumerForDryRun(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := SeedDemo(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	env := pipeline.NewEnv(slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	id, err := pipeline.ConsumerResolver(env, &config.Config{}, DemoWriter)
	if err != nil {
		t.Fatal(err)
	}
	if id.ConsumerID != DemoWriter || id.Tenant != DemoTenant || !slices.Contains(id.Scopes, "orders:write") || id.Metadata["plan"] != "pro" {
		t.Fatalf("identity for --as: %+v", id)
	}
	if _, err := pipeline.ConsumerResolver(env, &config.Config{}, "nobody"); err == nil {
		t.Fatal("unknown consumer resolved")
	}
}
