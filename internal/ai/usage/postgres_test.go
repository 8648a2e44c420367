package usage

import (
	"context"
	"os"
	"testing"
	"time"

	"pinpoint/internal/store"
)

// TestPostgresSpendAndSummary runs the persistence SQL on PostgreSQL.
func TestPostgresSpendAndSummary(t *testing.T) {
	ctx := context.Background()
	dsn := os.Getenv("PINPOINT_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	st, err := store.Open(ctx, "postgres", dsn)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	defer st.Close()
	subject := "consumer:pg-" + time.Now().Format("150405.000000000")
	now := time.Now()
	l, err := NewLedger(ctx, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, rf := l.Reserve([]Budget{{Subject: subject, Period: Day, Limit: 1_000_000}}, nil, 10, 0)
	if rf != nil {
		t.Fatal(rf)
	}
	l.Settle(res, Record{RequestID: subject, Time: now, Consumer: subject, Provider: "pg", Model: subject, Status: 200, PromptTokens: 3, CompletionTokens: 4, Cost: 777, Latency: 2 * time.Millisecond})
	l.Close()
	l2, err := NewLedger(ctx, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if d, _ := l2.Spent(subject, Day); d != 777 {
		t.Errorf("spend after restart %d", d)
	}
	rows, err := Summarize(ctx, st, now.Add(-time.Minute), now.Add(time.Minute), "consumer")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Key == subject {
			found = r.Requests == 1 && r.CompletionTokens == 4 && r.AvgLatencyMS == 2
		}
	}
	if !found {
		t.Errorf("summary rows %+v", rows)
	}
}
