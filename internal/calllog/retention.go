package calllog

import (
	"context"
	"fmt"
	"time"

	"pinpoint/internal/store"
)

// Retention bounds the call log. Raw request rows are kept Days days (0:
// no age limit) and, on SQLite, within MaxSize bytes (0: no size limit);
// rollups outlive raw rows (see Keep) so analytics still answer for
// periods whose requests are gone.
type Retention struct {
	Days    int
	MaxSize int64
}

// How often age pruning runs; size is checked more often (sizeEvery)
// because sustained load can outgrow a small store between two age runs.
const ageEvery = time.Minute

// deleteChunk bounds one DELETE, so that enabling retention on a large
// backlog never holds the write lock for long.
const deleteChunk = 5000

// SetRetention sets the bounds applied after each batch.
func (l *Log) SetRetention(r Retention) {
	l.mu.Lock()
	l.ret = r
	l.mu.Unlock()
}

// Retention is the retention in force.
func (l *Log) Retention() Retention {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ret
}

// Keep is how long rows of a rollup tier are kept: always longer than raw
// rows, and long enough for the tier's usual queries.
func (l *Log) Keep(r Resolution) time.Duration {
	l.mu.Lock()
	days := l.ret.Days
	l.mu.Unlock()
	day := 24 * time.Hour
	switch r {
	case Minute:
		return max(14*day, time.Duration(2*days)*day)
	case Hour:
		return max(90*day, time.Duration(4*days)*day)
	default:
		return max(3*365*day, time.Duration(8*days)*day)
	}
}

// Pruned is how many raw request rows retention has deleted.
func (l *Log) Pruned() uint64 { return l.pruned.Load() }

// maybePrune applies retention when due. A failure is logged by the
// caller's next batch at worst; it never fails the batch just written.
func (l *Log) maybePrune(ctx context.Context) {
	l.mu.Lock()
	ret, now := l.ret, l.now()
	ageDue := ret.Days > 0 && now.Sub(l.lastAge) >= ageEvery
	sizeDue := ret.MaxSize > 0 && l.st.Dialect == store.SQLite && now.Sub(l.lastSize) >= l.sizeEvery
	if ageDue {
		l.lastAge = now
	}
	if sizeDue {
		l.lastSize = now
	}
	l.mu.Unlock()
	if ageDue {
		_ = l.PruneAge(ctx)
	}
	if sizeDue {
		_ = l.PruneSize(ctx)
	}
}

// PruneAge deletes raw rows older than the retention days and rollup rows
// older than their tier's keep time.
func (l *Log) PruneAge(ctx context.Context) error {
	l.mu.Lock()
	ret, now := l.ret, l.now()
	l.mu.Unlock()
	if ret.Days > 0 {
		cut := now.Add(-time.Duration(ret.Days) * 24 * time.Hour).UnixMicro()
		if err := l.deleteRequestsBefore(ctx, cut); err != nil {
			return err
		}
	}
	for _, t := range tiers {
		cut := now.Add(-l.Keep(t)).Unix()
		if _, err := l.st.DB.ExecContext(ctx, l.st.Rebind(`DELETE FROM rollup WHERE res = ? AND bucket < ?`), t.Name, cut); err != nil {
			return fmt.Errorf("pruning %s rollups: %w", t.Name, err)
		}
		if _, err := l.st.DB.ExecContext(ctx, l.st.Rebind(`DELETE FROM rollup_client WHERE res = ? AND bucket < ?`), t.Name, cut); err != nil {
			return fmt.Errorf("pruning client rollups: %w", err)
		}
	}
	return nil
}

// deleteRequestsBefore deletes raw rows (and their shadow hits) with
// ts < cut, in chunks.
func (l *Log) deleteRequestsBefore(ctx context.Context, cut int64) error {
	for {
		res, err := l.st.DB.ExecContext(ctx, l.st.Rebind(`DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE ts < ? LIMIT `+fmt.Sprint(deleteChunk)+`)`), cut)
		if err != nil {
			return fmt.Errorf("pruning requests: %w", err)
		}
		n, _ := res.RowsAffected()
		l.pruned.Add(uint64(n))
		if n < deleteChunk {
			break
		}
	}
	if err := l.deleteBlocksBefore(ctx, cut); err != nil {
		return err
	}
	if _, err := l.st.DB.ExecContext(ctx, l.st.Rebind(`DELETE FROM shadow_hits WHERE ts < ?`), cut); err != nil {
		return fmt.Errorf("pruning shadow hits: %w", err)
	}
	return nil
}

// UsedBytes is the size of the SQLite store's live pages: the file minus
// its free pages, which SQLite reuses before growing the file.
func (l *Log) UsedBytes(ctx context.Context) (used, file int64, err error) {
	if l.st.Dialect != store.SQLite {
		return 0, 0, fmt.Errorf("store size is measured for SQLite only")
	}
	var pages, free, size int64
	if err := l.st.DB.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, 0, err
	}
	if err := l.st.DB.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return 0, 0, err
	}
	if err := l.st.DB.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, 0, err
	}
	return (pages - free) * size, pages * size, nil
}

// PruneSize deletes the oldest raw rows while the store's live pages
// exceed 80% of MaxSize, down to about 60%: the headroom absorbs the
// batches written between two checks, so the file itself stays under
// MaxSize. Rows are cut by time, assuming a steady rate, and the cut is
// repeated if the estimate fell short.
func (l *Log) PruneSize(ctx context.Context) error {
	l.mu.Lock()
	limit := l.ret.MaxSize
	l.mu.Unlock()
	if limit <= 0 || l.st.Dialect != store.SQLite {
		return nil
	}
	high, target := limit*8/10, limit*6/10
	deleted := false
	defer func() {
		if deleted {
			// Keep the WAL from holding copies of the deleted pages.
			_, _ = l.st.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		}
	}()
	for range 6 {
		used, _, err := l.UsedBytes(ctx)
		if err != nil || used <= high {
			return err
		}
		var oldest, newest *int64
		if err := l.st.DB.QueryRowContext(ctx, `SELECT MIN(ts), MAX(ts) FROM requests`).Scan(&oldest, &newest); err != nil {
			return err
		}
		bOld, bNew, err := l.blockTimes(ctx)
		if err != nil {
			return err
		}
		oldest, newest = minPtr(oldest, bOld), maxPtr(newest, bNew)
		if oldest == nil {
			return nil // nothing raw left to cut; rollups are pruned by age.
		}
		frac := 1 - float64(target)/float64(used)
		cut := *oldest + int64(float64(*newest-*oldest)*frac) + 1
		deleted = true
		if err := l.deleteRequestsBefore(ctx, cut); err != nil {
			return err
		}
		high = target // after the first cut, go all the way to the target.
	}
	return nil
}

func minPtr(a, b *int64) *int64 {
	if a == nil || (b != nil && *b < *a) {
		return b
	}
	return a
}

func maxPtr(a, b *int64) *int64 {
	if a == nil || (b != nil && *b > *a) {
		return b
	}
	return a
}
