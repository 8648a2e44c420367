package usage

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/store"
)

func TestPriceLookup(t *testing.T) {
	t.Parallel()
	p := NewPrices(map[string]Price{"local/llama3": {1, 2}, "gpt-4o": {9, 9}})
	cases := []struct {
		name, kind, model string
		want              Price
		ok                bool
	}{
		{"openai", "openai", "gpt-4o-mini-2024-07-18", Price{0.15, 0.6}, true},
		{"openai", "openai", "gpt-4o-2024-08-06", Price{2.5, 10}, true},
		{"claude", "anthropic", "claude-3-5-haiku-20241022", Price{0.8, 4}, true},
		{"claude", "anthropic", "claude-sonnet-4-5-20250929", Price{3, 15}, true},
		{"local", "ollama", "llama3", Price{1, 2}, true},
		{"x", "compatible", "gpt-4o", Price{9, 9}, true},
		{"x", "compatible", "mystery", Price{}, false},
	}
	for _, tc := range cases {
		got, ok := p.Lookup(tc.name, tc.kind, tc.model)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s/%s: %v %v, want %v %v", tc.name, tc.model, got, ok, tc.want, tc.ok)
		}
	}
	// 1 token at $0.15/M is 0.15 micro-USD: rounded up, never free.
	if c := (Price{0.15, 0.6}).Cost(chat.Usage{PromptTokens: 1}); c != 1 {
		t.Errorf("cost %d", c)
	}
	if c := (Price{2.5, 10}).Cost(chat.Usage{PromptTokens: 1000, CompletionTokens: 100}); c != 3500 {
		t.Errorf("cost %d, want 3500", c)
	}
}

func TestReservationsBoundConcurrentSpend(t *testing.T) {
	t.Parallel()
	l, _ := NewLedger(context.Background(), nil, nil, nil)
	budget := []Budget{{Subject: "c", Period: Day, Limit: 1000}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var held []*Reservation
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, rf := l.Reserve(budget, nil, 300, 0); rf == nil {
				mu.Lock()
				held = append(held, res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Admitted while spent+reserved < 1000: 0, 300, 600, 900 → 4 calls.
	if len(held) != 4 {
		t.Fatalf("%d calls admitted, want 4", len(held))
	}
	for _, res := range held {
		l.Settle(res, Record{Cost: 250})
	}
	spent, reserved := l.Spent("c", Day)
	if spent != 1000 || reserved != 0 {
		t.Errorf("spent %d reserved %d", spent, reserved)
	}
	if _, rf := l.Reserve(budget, nil, 1, 0); rf == nil || rf.Kind != "budget" || rf.ResetAt.Sub(time.Now()) > 24*time.Hour {
		t.Errorf("refusal %+v", rf)
	}
}

func TestSpendSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "ai.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	budgets := []Budget{{Subject: "consumer:acme", Period: Day, Limit: 10_000}, {Subject: "consumer:acme", Period: Month, Limit: 100_000}}
	l1, err := NewLedger(ctx, st, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		res, rf := l1.Reserve(budgets, nil, 100, 0)
		if rf != nil {
			t.Fatal(rf)
		}
		l1.Settle(res, Record{RequestID: "r", Time: now, Consumer: "acme", Provider: "openai", Model: "openai/gpt-4o", Status: 200, PromptTokens: 10, CompletionTokens: 5, Cost: 1500})
	}
	l1.Close()
	l2, err := NewLedger(ctx, st, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if d, _ := l2.Spent("consumer:acme", Day); d != 4500 {
		t.Errorf("daily spend after restart %d, want 4500", d)
	}
	if m, _ := l2.Spent("consumer:acme", Month); m != 4500 {
		t.Errorf("monthly spend after restart %d, want 4500", m)
	}
	rows, err := Summarize(ctx, st, now.Add(-time.Hour), now.Add(time.Hour), "model")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Key != "openai/gpt-4o" || rows[0].Requests != 3 || rows[0].PromptTokens != 30 || rows[0].CostUSD != 0.0045 {
		t.Errorf("summary %+v", rows)
	}
	if _, err := Summarize(ctx, st, now, now, "colour"); err == nil {
		t.Error("bad group accepted")
	}
}
