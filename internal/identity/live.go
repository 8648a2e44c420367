package identity

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

// PollInterval is how often every node checks the version counter. Two
// polls per second keep a change's reach under a second on every node.
const PollInterval = 500 * time.Millisecond

// usageFlushEvery is how many polls pass between last-used writes: usage
// is batched so that a request never waits on a store write.
const usageFlushEvery = 10

// Live holds the current snapshot of the store and keeps it fresh.
type Live struct {
	repo   *Repo
	logger *slog.Logger
	// Interval is the poll period (PollInterval by default).
	Interval time.Duration

	snap      atomic.Pointer[Snapshot]
	refreshMu sync.Mutex

	mu   sync.Mutex
	refs int
	stop chan struct{}
	done chan struct{}

	usedMu sync.Mutex
	used   map[string]time.Time
}

// NewLive loads the first snapshot from st (nil st: an empty store, only
// config-defined consumers).
func NewLive(ctx context.Context, st *store.Store, logger *slog.Logger, now func() time.Time) (*Live, error) {
	if logger == nil {
		logger = slog.Default()
	}
	l := &Live{logger: logger, Interval: PollInterval, used: map[string]time.Time{}}
	if st == nil {
		l.snap.Store(emptySnapshot())
		return l, nil
	}
	l.repo = NewRepo(st, now)
	if err := l.Refresh(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// SharedLive returns the environment's Live, creating it once: it survives
// config reloads, so a reload does not reload identities.
func SharedLive(env *pipeline.Env) (*Live, error) {
	v, err := env.Shared("identity", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return NewLive(ctx, env.Store, env.Logger, func() time.Time { return env.Now() })
	})
	if err != nil {
		return nil, err
	}
	return v.(*Live), nil
}

// Snapshot returns the current snapshot.
func (l *Live) Snapshot() *Snapshot { return l.snap.Load() }

// Refresh reloads the snapshot now. Admin writes call it so the node that
// took the write applies it to the very next request.
func (l *Live) Refresh(ctx context.Context) error {
	if l.repo == nil {
		return nil
	}
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	s, err := l.repo.LoadSnapshot(ctx)
	if err != nil {
		return err
	}
	l.snap.Store(s)
	return nil
}

// poll reloads when another writer (another node) bumped the version.
func (l *Live) poll(ctx context.Context) {
	v, err := l.repo.Version(ctx)
	if err != nil {
		l.logger.Warn("identity: polling the store failed; keeping the current snapshot", "err", err)
		return
	}
	if v == l.Snapshot().Version {
		return
	}
	if err := l.Refresh(ctx); err != nil {
		l.logger.Warn("identity: reloading the snapshot failed; keeping the current one", "err", err)
	}
}

// Acquire starts the poller for a user (a layer); Release stops it when the
// last user is gone. Reloads build the new pipeline before retiring the
// old, so the poller keeps running across them.
func (l *Live) Acquire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refs++
	if l.refs > 1 || l.repo == nil {
		return
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.run(l.stop, l.done)
}

// Release drops a user; the last one stops the poller and flushes usage.
func (l *Live) Release() {
	l.mu.Lock()
	l.refs--
	if l.refs > 0 || l.stop == nil {
		l.mu.Unlock()
		return
	}
	stop, done := l.stop, l.done
	l.stop, l.done = nil, nil
	l.mu.Unlock()
	close(stop)
	<-done
}

func (l *Live) run(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(l.Interval)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-stop:
			l.FlushUsage(context.Background())
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			l.poll(ctx)
			if n++; n%usageFlushEvery == 0 {
				l.FlushUsage(ctx)
			}
			cancel()
		}
	}
}

// MarkUsed notes that a key was used at t; FlushUsage writes it later.
func (l *Live) MarkUsed(keyID string, t time.Time) {
	l.usedMu.Lock()
	if prev, ok := l.used[keyID]; !ok || t.After(prev) {
		l.used[keyID] = t
	}
	l.usedMu.Unlock()
}

// FlushUsage writes pending last-used times to the store.
func (l *Live) FlushUsage(ctx context.Context) {
	if l.repo == nil {
		return
	}
	l.usedMu.Lock()
	used := l.used
	if len(used) == 0 {
		l.usedMu.Unlock()
		return
	}
	l.used = map[string]time.Time{}
	l.usedMu.Unlock()
	if err := l.repo.TouchKeys(ctx, used); err != nil {
		l.logger.Warn("identity: writing key last-used times failed", "keys", len(used), "err", err)
	}
}
