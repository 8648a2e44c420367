package usage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"pinpoint/internal/store"
)

// Period is a budget window.
type Period string

const (
	Day   Period = "day"
	Month Period = "month"
)

// window returns the start and end of the period containing t (UTC).
func (p Period) window(t time.Time) (time.Time, time.Time) {
	t = t.UTC()
	if p == Month {
		s := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(0, 1, 0)
	}
	s := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return s, s.AddDate(0, 0, 1)
}

// Budget is a spending limit of one subject ("consumer:acme", "key:k1")
// over a period.
type Budget struct {
	Subject string
	Period  Period
	Limit   Micros
}

// Rate is a per-minute limit of one subject (a consumer, or a consumer
// and model). Zero fields are unlimited.
type Rate struct {
	Subject string
	RPM     int
	TPM     int
}

// Refusal says which limit refused a call and when it frees up.
type Refusal struct {
	// Kind is "budget", "rpm" or "tpm".
	Kind    string
	Subject string
	Period  Period
	Limit   int64
	Used    int64
	ResetAt time.Time
}

type spendKey struct {
	subject string
	period  Period
	start   int64
}

type spendCell struct {
	spent    Micros
	reserved Micros
}

type rateKey struct {
	subject string
	minute  int64
}

type rateCell struct {
	requests int
	tokens   int
	reserved int
}

// Record is one finished call, as persisted in ai_usage.
type Record struct {
	RequestID        string
	Time             time.Time
	Consumer         string
	KeyID            string
	Route            string
	Provider         string
	Model            string
	Endpoint         string
	Stream           bool
	Status           int
	PromptTokens     int
	CompletionTokens int
	Cost             Micros
	Latency          time.Duration
	Fallbacks        int
	// Estimated is set when the provider reported no usage and the
	// tokens were estimated (a stream cut short).
	Estimated bool

	spend []spendTarget
}

// Ledger holds the live counters and persists them.
type Ledger struct {
	now    func() time.Time
	st     *store.Store
	logger *slog.Logger

	mu        sync.Mutex
	spend     map[spendKey]*spendCell
	rates     map[rateKey]*rateCell
	lastSweep int64

	queue   chan Record
	flush   chan chan struct{}
	wg      sync.WaitGroup
	stop    chan struct{}
	dropped int64
}

// NewLedger starts a ledger over st (nil keeps it in memory only) and loads
// the current budget windows from it.
func NewLedger(ctx context.Context, st *store.Store, logger *slog.Logger, now func() time.Time) (*Ledger, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &Ledger{now: now, st: st, logger: logger, spend: map[spendKey]*spendCell{}, rates: map[rateKey]*rateCell{}, queue: make(chan Record, 4096), flush: make(chan chan struct{}), stop: make(chan struct{})}
	if st != nil {
		if err := l.load(ctx); err != nil {
			return nil, err
		}
		l.wg.Add(1)
		go l.writer()
	}
	return l, nil
}

// Reservation is what a call holds between Reserve and Settle.
type Reservation struct {
	budgets []spendKey
	rates   []rateKey
	cost    Micros
	tokens  int
	settled bool
}

// Reserve admits a call against every budget and rate, or says which one
// refuses it. Nothing is reserved when it refuses. A call is admitted
// while a limit's use (spent plus reserved) is still below it; the
// estimate then counts against later calls until Settle.
func (l *Ledger) Reserve(budgets []Budget, rates []Rate, estCost Micros, estTokens int) (*Reservation, *Refusal) {
	now := l.now()
	minute := now.Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	for _, b := range budgets {
		if b.Limit <= 0 {
			continue
		}
		start, end := b.Period.window(now)
		c := l.spend[spendKey{b.Subject, b.Period, start.Unix()}]
		if c != nil && c.spent+c.reserved >= b.Limit {
			return nil, &Refusal{Kind: "budget", Subject: b.Subject, Period: b.Period, Limit: int64(b.Limit), Used: int64(c.spent), ResetAt: end}
		}
	}
	reset := time.Unix((minute+1)*60, 0)
	for _, r := range rates {
		c := l.rates[rateKey{r.Subject, minute}]
		if c == nil {
			continue
		}
		if r.RPM > 0 && c.requests >= r.RPM {
			return nil, &Refusal{Kind: "rpm", Subject: r.Subject, Limit: int64(r.RPM), Used: int64(c.requests), ResetAt: reset}
		}
		if r.TPM > 0 && c.tokens+c.reserved >= r.TPM {
			return nil, &Refusal{Kind: "tpm", Subject: r.Subject, Limit: int64(r.TPM), Used: int64(c.tokens), ResetAt: reset}
		}
	}
	res := &Reservation{cost: estCost, tokens: estTokens}
	for _, b := range budgets {
		if b.Limit <= 0 {
			continue
		}
		start, _ := b.Period.window(now)
		k := spendKey{b.Subject, b.Period, start.Unix()}
		c := l.spend[k]
		if c == nil {
			c = &spendCell{}
			l.spend[k] = c
		}
		c.reserved += estCost
		res.budgets = append(res.budgets, k)
	}
	for _, r := range rates {
		if r.RPM <= 0 && r.TPM <= 0 {
			continue
		}
		k := rateKey{r.Subject, minute}
		c := l.rates[k]
		if c == nil {
			c = &rateCell{}
			l.rates[k] = c
		}
		c.requests++
		c.reserved += estTokens
		res.rates = append(res.rates, k)
	}
	return res, nil
}

// Settle replaces a reservation with what the call really used and queues
// the record for the store. Spend always lands in the window the call was
// admitted in. Calling it twice is a no-op.
func (l *Ledger) Settle(res *Reservation, rec Record) {
	l.mu.Lock()
	if res != nil && !res.settled {
		res.settled = true
		for _, k := range res.budgets {
			c := l.spend[k]
			if c == nil {
				c = &spendCell{}
				l.spend[k] = c
			}
			c.reserved -= res.cost
			c.spent += rec.Cost
		}
		for _, k := range res.rates {
			if c := l.rates[k]; c != nil {
				c.reserved -= res.tokens
				c.tokens += rec.PromptTokens + rec.CompletionTokens
			}
		}
	}
	l.mu.Unlock()
	if l.st == nil {
		return
	}
	select {
	case l.queue <- recWithSpend(rec, res):
	default:
		// The store is far behind; the in-memory counters stay right and
		// the loss is reported rather than blocking a caller.
		l.mu.Lock()
		l.dropped++
		n := l.dropped
		l.mu.Unlock()
		l.logger.Warn("ai usage record dropped: store writer is behind", "layer", "ai", "dropped_total", n)
	}
}

// Spent reports a subject's spend and reservations in the current period.
func (l *Ledger) Spent(subject string, p Period) (spent, reserved Micros) {
	start, _ := p.window(l.now())
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.spend[spendKey{subject, p, start.Unix()}]; c != nil {
		return c.spent, c.reserved
	}
	return 0, 0
}

// sweep drops windows that ended, at most once a minute.
func (l *Ledger) sweep(now time.Time) {
	minute := now.Unix() / 60
	if minute == l.lastSweep {
		return
	}
	l.lastSweep = minute
	for k := range l.rates {
		if k.minute < minute-1 {
			delete(l.rates, k)
		}
	}
	for k, c := range l.spend {
		_, end := k.period.window(time.Unix(k.start, 0))
		if !end.After(now) && c.reserved <= 0 {
			delete(l.spend, k)
		}
	}
}

func (l *Ledger) load(ctx context.Context) error {
	now := l.now()
	dayStart, _ := Day.window(now)
	monthStart, _ := Month.window(now)
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT subject, period, window_start, spent_micros FROM ai_spend WHERE (period = ? AND window_start = ?) OR (period = ? AND window_start = ?)`),
		string(Day), dayStart.Unix(), string(Month), monthStart.Unix())
	if err != nil {
		return fmt.Errorf("ai: loading budget spend: %w", err)
	}
	defer rows.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for rows.Next() {
		var k spendKey
		var p string
		var spent int64
		if err := rows.Scan(&k.subject, &p, &k.start, &spent); err != nil {
			return fmt.Errorf("ai: loading budget spend: %w", err)
		}
		k.period = Period(p)
		l.spend[k] = &spendCell{spent: Micros(spent)}
	}
	return rows.Err()
}
