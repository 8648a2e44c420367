package ratelimit

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// redisLog sends the Redis client's own messages (a failed dial, a pool
// event) to slog at debug level instead of the process's stderr: what a
// caller or operator needs of an unreachable Redis is already said by the
// route's answer (ratelimit_backend_unavailable, or the fail-open header)
// and its trace.
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	if l := slog.Default(); l.Enabled(ctx, slog.LevelDebug) {
		l.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
	}
}

func init() { redis.SetLogger(redisLog{}) }
