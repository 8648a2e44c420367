// Package memory is the in-process rate-limit backend: a sharded map of
// GCRA arrival times and quota counters. Each key hashes to one of 64
// shards with its own mutex, so concurrent requests for different keys
// rarely contend and no lock covers the whole map. Expired entries are
// swept a shard at a time, inline, so the store needs no goroutine that
// would outlive it.
package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/layer/ratelimit/limit"
)

const (
	shardCount = 64
	// sweepEvery is how many operations a shard runs between looks at
	// the clock for a sweep; sweepGap is the least time between sweeps.
	sweepEvery = 1024
	sweepGap   = 10 * time.Second
)

// entry is a GCRA arrival time or a quota count; exp is when it no longer
// matters (the bucket is full again, or the window ended).
type entry struct {
	v, exp int64
}

type shard struct {
	mu        sync.Mutex
	m         map[string]entry
	ops       uint32
	lastSweep int64
	// pad keeps shards on separate cache lines.
	_ [24]byte
}

// Store is the in-memory backend.
type Store struct {
	seed   maphash.Seed
	now    func() time.Time
	cursor atomic.Uint32 // next shard to sweep
	shards [shardCount]shard
}

var _ limit.Store = (*Store)(nil)

// New returns a store using now as its clock (time.Now when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{seed: maphash.MakeSeed(), now: now}
	for i := range s.shards {
		s.shards[i].m = make(map[string]entry)
	}
	return s
}

// Allow implements limit.Store. It never fails.
func (s *Store) Allow(_ context.Context, key string, l limit.Limit) (limit.Decision, error) {
	now := l.Now
	if now.IsZero() {
		now = s.now()
	}
	ns := now.UnixNano()
	sh := &s.shards[maphash.String(s.seed, key)%shardCount]
	sh.mu.Lock()
	d := sh.decide(key, now, ns, l)
	sh.ops++
	sweep := sh.ops%sweepEvery == 0
	sh.mu.Unlock()
	if sweep {
		s.sweepNext(ns)
	}
	return d, nil
}

// decide runs one decision on the shard; the caller holds mu.
func (sh *shard) decide(key string, now time.Time, ns int64, l limit.Limit) limit.Decision {
	e := sh.m[key]
	if e.exp != 0 && e.exp <= ns {
		e = entry{}
	}
	if l.Kind == limit.Quota {
		spend, d := limit.QuotaDecision(e.v, now, l)
		if spend {
			sh.m[key] = entry{v: e.v + 1, exp: l.WindowEnd.UnixNano()}
		}
		return d
	}
	tat, d := limit.GCRA(e.v, ns, l)
	if tat != e.v {
		sh.m[key] = entry{v: tat, exp: tat}
	}
	return d
}

// sweepNext deletes the expired entries of the next shard in turn, unless
// it was swept recently.
func (s *Store) sweepNext(now int64) {
	sh := &s.shards[s.cursor.Add(1)%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now-sh.lastSweep < int64(sweepGap) {
		return
	}
	sh.lastSweep = now
	for k, e := range sh.m {
		if e.exp <= now {
			delete(sh.m, k)
		}
	}
}

// Len is the number of live entries, for tests and metrics.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].m)
		s.shards[i].mu.Unlock()
	}
	return n
}
