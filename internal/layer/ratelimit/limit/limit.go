// Package limit is the small contract between the ratelimit layer and its
// backends (in memory, Redis): what one decision asks for (Limit), what it
// answers (Decision), and the GCRA arithmetic both backends share.
package limit

import (
	"context"
	"time"
)

// Kind is a rate (GCRA) or a calendar quota (a counter per window).
type Kind uint8

const (
	// Rate admits Burst requests at once and refills one per Interval.
	Rate Kind = iota
	// Quota admits Max requests per calendar window ending at WindowEnd;
	// the window's id is part of the key.
	Quota
)

// Limit is one policy's parameters for one decision.
type Limit struct {
	Kind Kind
	// Interval is GCRA's emission interval: window / limit.
	Interval time.Duration
	// Burst is how many requests may arrive at once (the bucket size).
	Burst int64
	// Max is the quota per window.
	Max int64
	// WindowEnd is when the quota's current window ends.
	WindowEnd time.Time
	// Peek decides without spending (dry runs).
	Peek bool
	// Now is the caller's reading of the clock, so a store that counts in
	// process time need not read it again; zero means the store reads its
	// own. Stores that keep time elsewhere (Redis) ignore it.
	Now time.Time
}

// Decision is a backend's answer.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be admitted right now.
	Remaining int64
	// RetryAfter is, when denied, how long until one request fits.
	RetryAfter time.Duration
	// ResetAfter is how long until the full budget is back (rate) or the
	// window ends (quota).
	ResetAfter time.Duration
}

// Store is a rate-limit backend. Allow decides one request for key and,
// unless l.Peek, spends it. Errors mean the backend could not decide.
type Store interface {
	Allow(ctx context.Context, key string, l Limit) (Decision, error)
}

// GCRA decides one request given the stored theoretical arrival time tat
// (0 = none) at now, all in nanoseconds. It returns the new tat to store
// (unchanged when denied or peeking) and the decision. With tau = Burst *
// Interval, a request is admitted when it would not push tat more than
// tau past now: exactly Burst requests fit in an idle bucket.
func GCRA(tat, now int64, l Limit) (int64, Decision) {
	t := int64(l.Interval)
	tau := t * l.Burst
	stored := tat
	if tat < now {
		tat = now
	}
	next := tat + t
	if next-now > tau {
		return stored, Decision{RetryAfter: time.Duration(next - tau - now), ResetAfter: time.Duration(tat - now)}
	}
	d := Decision{Allowed: true, Remaining: (tau - (next - now)) / t, ResetAfter: time.Duration(next - now)}
	if l.Peek {
		return stored, d
	}
	return next, d
}

// QuotaDecision decides a quota request given the count used so far in
// the window.
func QuotaDecision(used int64, now time.Time, l Limit) (spend bool, d Decision) {
	reset := l.WindowEnd.Sub(now)
	if used+1 > l.Max {
		return false, Decision{RetryAfter: reset, ResetAfter: reset}
	}
	return !l.Peek, Decision{Allowed: true, Remaining: l.Max - used - 1, ResetAfter: reset}
}
