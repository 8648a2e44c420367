package waf

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/debuglog"
	"github.com/corazawaf/coraza/v3/types"

	"pinpoint/internal/pipeline"
)

// The rule profiler is a tool, not a check: run it with
//
//	go test ./internal/layer/waf -run TestRuleCostProfile -waf.profile=PROFILE.out -v
//
// (add -waf.noprefilter for the profile without the @rx prefilter). It
// times every top-level rule (operator, transformations and chain)
// on the JSON20Fields benchmark request, using Coraza's debug-log events
// "Evaluating rule" and "Finished rule evaluation" as the clock.
var profileOut = flag.String("waf.profile", "", "write the per-rule cost profile of the JSON20Fields request to this file")

func TestRuleCostProfile(t *testing.T) {
	if *profileOut == "" {
		t.Skip("profiler runs only with -waf.profile=FILE")
	}
	prefilterOff = *noPrefilter
	defer func() { prefilterOff = false }()
	var out bytes.Buffer
	for _, pl := range []int{1, 2} {
		clk := &ruleClock{cost: map[int]time.Duration{}, calls: map[int]int{}}
		c := Config{Paranoia: pl, InboundThreshold: 5, BodyLimit: DefaultBodyLimit, AllowedMethods: defaultAllowedMethods}
		w, err := newCorazaWAF(c, func(wc coraza.WAFConfig) coraza.WAFConfig {
			return wc.WithDebugLogger(&ruleLogger{clk: clk})
		})
		if err != nil {
			t.Fatal(err)
		}
		l := &Layer{cfg: c, eng: &engine{waf: w, refs: 1}}
		l.newTx = func(id string, _ context.Context) types.Transaction { return w.NewTransactionWithID(id) }
		const rounds = 200
		body := []byte(json20Fields)
		for i := 0; i < rounds; i++ {
			hr := httptest.NewRequest("POST", "/v1/notes?draft=true", io.NopCloser(bytes.NewReader(body)))
			hr.ContentLength = int64(len(body))
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36")
			hr.Header.Set("Accept", "application/json")
			v := l.Evaluate(context.Background(), &pipeline.Request{HTTP: hr, ID: "p", ClientIP: netip.MustParseAddr("192.0.2.10")})
			if v.Outcome.Stops() {
				t.Fatalf("profile request denied: %s", v.Detail)
			}
		}
		clk.write(&out, pl, rounds)
	}
	if err := os.WriteFile(*profileOut, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}

// ruleClock sums the wall time of each top-level rule id.
type ruleClock struct {
	cost  map[int]time.Duration
	calls map[int]int
}

func (c *ruleClock) write(w io.Writer, pl, rounds int) {
	type row struct {
		id   int
		cost time.Duration
	}
	var rows []row
	var total time.Duration
	for id, d := range c.cost {
		rows = append(rows, row{id, d})
		total += d
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].cost > rows[j].cost })
	fmt.Fprintf(w, "paranoia %d: %d rules timed, %.0f µs per request in rules (timer overhead included)\n\n", pl, len(rows), float64(total.Microseconds())/float64(rounds))
	fmt.Fprintf(w, "| rank | rule | category | µs/request | share |\n|---:|---:|---|---:|---:|\n")
	for i, r := range rows {
		if i == 15 {
			break
		}
		fmt.Fprintf(w, "| %d | %d | %s | %.1f | %.1f%% |\n", i+1, r.id, category(r.id),
			float64(r.cost.Nanoseconds())/1e3/float64(rounds), 100*float64(r.cost)/float64(total))
	}
	fmt.Fprintln(w)
}

// ruleLogger is a debuglog.Logger that only listens for the start and end
// of rule evaluations. Coraza gives each rule evaluation a child logger
// With(rule_id), so each child holds its own start time and depth (chained
// rules log start and end again, nested).
type ruleLogger struct {
	clk   *ruleClock
	id    int
	depth int
	start time.Time
}

func (l *ruleLogger) WithOutput(io.Writer) debuglog.Logger     { return l }
func (l *ruleLogger) WithLevel(debuglog.Level) debuglog.Logger { return l }
func (l *ruleLogger) With(fs ...debuglog.ContextField) debuglog.Logger {
	n := &ruleLogger{clk: l.clk, id: l.id}
	for _, f := range fs {
		var e idEvent
		f(&e)
		if e.id != 0 {
			n.id = e.id
		}
	}
	return n
}
func (l *ruleLogger) Trace() debuglog.Event { return nopEvent{} }
func (l *ruleLogger) Debug() debuglog.Event { return &ruleEvent{l: l} }
func (l *ruleLogger) Info() debuglog.Event  { return nopEvent{} }
func (l *ruleLogger) Warn() debuglog.Event  { return nopEvent{} }
func (l *ruleLogger) Error() debuglog.Event { return nopEvent{} }

type ruleEvent struct {
	nopEvent
	l *ruleLogger
}

func (e *ruleEvent) IsEnabled() bool { return true }
func (e *ruleEvent) Msg(msg string) {
	l := e.l
	if l.id == 0 {
		return
	}
	switch msg {
	case "Evaluating rule":
		if l.depth == 0 {
			l.start = time.Now()
		}
		l.depth++
	case "Finished rule evaluation":
		l.depth--
		if l.depth == 0 {
			l.clk.cost[l.id] += time.Since(l.start)
			l.clk.calls[l.id]++
		}
	}
}

// idEvent captures the rule_id context field.
type idEvent struct {
	nopEvent
	id int
}

func (e *idEvent) Int(key string, i int) debuglog.Event {
	if key == "rule_id" {
		e.id = i
	}
	return e
}

type nopEvent struct{}

func (nopEvent) Msg(string)                                     {}
func (e nopEvent) Str(string, string) debuglog.Event            { return e }
func (e nopEvent) Err(error) debuglog.Event                     { return e }
func (e nopEvent) Bool(string, bool) debuglog.Event             { return e }
func (e nopEvent) Int(string, int) debuglog.Event               { return e }
func (e nopEvent) Uint(string, uint) debuglog.Event             { return e }
func (e nopEvent) Stringer(string, fmt.Stringer) debuglog.Event { return e }
func (e nopEvent) IsEnabled() bool                              { return false }
