package limit

import (
	"testing"
	"time"
)

func TestGCRA(t *testing.T) {
	t.Parallel()
	l := Limit{Interval: time.Second, Burst: 3}
	now := int64(1_000_000 * time.Second)
	var tat int64
	for i, wantRemaining := range []int64{2, 1, 0} {
		var d Decision
		tat, d = GCRA(tat, now, l)
		if !d.Allowed || d.Remaining != wantRemaining {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	before := tat
	tat, d := GCRA(tat, now, l)
	if d.Allowed || tat != before {
		t.Fatalf("4th request of a burst of 3 admitted or spent: %+v", d)
	}
	if d.RetryAfter != time.Second || d.ResetAfter != 3*time.Second {
		t.Errorf("retry %v reset %v, want 1s and 3s", d.RetryAfter, d.ResetAfter)
	}
	// One interval later exactly one more fits.
	now += int64(time.Second)
	tat, d = GCRA(tat, now, l)
	if !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v", d)
	}
	// Peek reports but does not spend.
	now += int64(10 * time.Second)
	p := l
	p.Peek = true
	t2, d := GCRA(tat, now, p)
	if !d.Allowed || t2 != tat {
		t.Errorf("peek spent or refused: %+v", d)
	}
}

func TestQuotaDecision(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 14, 12, 0, 0, 0, time.UTC)
	l := Limit{Kind: Quota, Max: 2, WindowEnd: now.Add(time.Hour)}
	if spend, d := QuotaDecision(1, now, l); !spend || !d.Allowed || d.Remaining != 0 || d.ResetAfter != time.Hour {
		t.Errorf("last unit: %v %+v", spend, d)
	}
	if spend, d := QuotaDecision(2, now, l); spend || d.Allowed || d.RetryAfter != time.Hour {
		t.Errorf("exhausted: %v %+v", spend, d)
	}
	l.Peek = true
	if spend, d := QuotaDecision(0, now, l); spend || !d.Allowed {
		t.Errorf("peek: %v %+v", spend, d)
	}
}
