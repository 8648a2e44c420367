package ratelimit

import (
	"strconv"

	"pinpoint/internal/layer/ratelimit/limit"
)

// record formats one decision of p for key: its RateLimit list member
// ("name";r=42;t=17) and its trace evidence ("allowed r=42 t=17s
// key=…"). Both are written into b (the caller's scratch) and copied
// into one string, which the two results share: one allocation per
// policy instead of one per value. Numbers both texts show are formatted
// once and copied.
func record(b []byte, p *policy, key string, d limit.Decision, dry bool) (member, evidence string) {
	b = append(b, p.limitPrefix...)
	r0 := len(b)
	b = strconv.AppendInt(b, max(d.Remaining, 0), 10)
	r1 := len(b)
	b = append(b, ";t="...)
	t0 := len(b)
	b = strconv.AppendInt(b, ceilSeconds(d.ResetAfter), 10)
	t1 := len(b)
	if d.Allowed {
		// An admitted request never has a negative remainder, so the
		// member's r= is the evidence's too.
		b = append(b, "allowed r="...)
		b = append(b, b[r0:r1]...)
	} else {
		b = append(b, "refused retry="...)
		b = strconv.AppendInt(b, ceilSeconds(d.RetryAfter), 10)
		b = append(b, 's')
	}
	b = append(b, " t="...)
	b = append(b, b[t0:t1]...)
	b = append(b, "s key="...)
	b = append(b, key...)
	if dry {
		b = append(b, " (dry run: not spent)"...)
	}
	s := string(b)
	return s[:t1], s[t1:]
}
