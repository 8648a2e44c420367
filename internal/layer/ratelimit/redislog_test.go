package ratelimit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The Redis client's messages go to slog at debug level, not to stderr.
func TestRedisClientMessagesGoToSlogDebug(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	redisLog{}.Printf(context.Background(), "dial %s: %s", "127.0.0.1:1", "connection refused")
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "redis client: dial 127.0.0.1:1: connection refused") {
		t.Errorf("slog got %q", out)
	}
}
