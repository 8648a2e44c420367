package alerts

import "time"

// slots is how many buckets a window is cut into: the window slides in
// steps of window/slots, precise enough for alerting and constant in
// memory per group whatever the traffic.
const slots = 30

type bucket struct {
	idx         int64
	total, hits int64
}

// window counts requests and matches over the last `slots` steps.
type window struct {
	step    int64 // nanoseconds
	buckets [slots]bucket
}

func newWindow(d time.Duration) window {
	step := int64(d) / slots
	if step <= 0 {
		step = 1
	}
	return window{step: step}
}

func (w *window) add(now time.Time, hit bool) {
	idx := now.UnixNano() / w.step
	b := &w.buckets[idx%slots]
	if b.idx != idx {
		*b = bucket{idx: idx}
	}
	b.total++
	if hit {
		b.hits++
	}
}

// sum is the totals of the buckets still inside the window at now.
func (w *window) sum(now time.Time) (total, hits int64) {
	cur := now.UnixNano() / w.step
	for i := range w.buckets {
		b := &w.buckets[i]
		if b.idx > cur-slots && b.idx <= cur {
			total += b.total
			hits += b.hits
		}
	}
	return total, hits
}
