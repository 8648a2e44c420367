package alerts

import (
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"pinpoint/internal/trace"
)

// Notification is what a webhook receives (as JSON) and the log records.
type Notification struct {
	Rule  string `json:"rule"`
	Kind  string `json:"kind"`
	State string `json:"state"` // firing or resolved
	// Group is the group_by value ("consumer=acme"), or the address range.
	Group     string    `json:"group,omitempty"`
	Summary   string    `json:"summary"`
	Value     float64   `json:"value"`
	Threshold float64   `json:"threshold"`
	Matched   int64     `json:"matched"`
	Total     int64     `json:"total,omitempty"`
	Window    string    `json:"window"`
	Since     time.Time `json:"since"`
	At        time.Time `json:"at"`
	// Repeat marks a re-notification of a still-firing alert.
	Repeat bool `json:"repeat,omitempty"`
	// Samples are recent matching request ids, for `pinpoint explain`.
	Samples []string `json:"sample_request_ids,omitempty"`

	webhooks []string
}

// maxGroups bounds the groups one rule tracks, so a rule grouped by client
// cannot be turned into unbounded memory by traffic from many addresses.
const maxGroups = 10000

// maxRanges bounds the address ranges a new_range rule remembers.
const maxRanges = 100000

type group struct {
	w        window
	firing   bool
	isNew    bool
	since    time.Time
	notified time.Time
	samples  [3]string
	ns       int
	last     Notification
}

type ruleState struct {
	r        *Rule
	mu       sync.Mutex
	groups   map[string]*group
	ranges   map[netip.Prefix]time.Time
	overflow atomic.Uint64
}

// Engine evaluates the rules.
type Engine struct {
	set    atomic.Pointer[ruleSet]
	now    func() time.Time
	logger *slog.Logger
	notify func(Notification)
	// reconfMu orders Reconfigure calls; Observe and Tick read the set
	// without locking.
	reconfMu sync.Mutex
}

// ruleSet is one configuration's rules, swapped whole on reload.
type ruleSet struct {
	rules    []*ruleState
	renotify time.Duration
}

// NewEngine builds an engine; notify receives every state change (it must
// not block: the deliverer queues). now is the clock (time.Now in
// production, a fake one in tests).
func NewEngine(c *Config, now func() time.Time, logger *slog.Logger, notify func(Notification)) *Engine {
	e := &Engine{now: now, logger: logger, notify: notify}
	e.Reconfigure(c)
	return e
}

// Reconfigure installs the rules of a reloaded config. A rule whose id
// and definition are unchanged keeps its windows and firing groups, so a
// reload neither resets a firing alert nor fires it again; a changed or
// new rule starts empty, and a removed rule is dropped without a
// "resolved" notification (it no longer exists to resolve).
func (e *Engine) Reconfigure(c *Config) {
	e.reconfMu.Lock()
	defer e.reconfMu.Unlock()
	kept := map[string]*ruleState{}
	if old := e.set.Load(); old != nil {
		for _, rs := range old.rules {
			kept[rs.r.ID] = rs
		}
	}
	set := &ruleSet{renotify: *c.Renotify}
	for _, r := range c.Rules {
		if rs := kept[r.ID]; rs != nil && reflect.DeepEqual(*rs.r, *r) {
			set.rules = append(set.rules, rs)
			continue
		}
		set.rules = append(set.rules, &ruleState{r: r, groups: map[string]*group{}, ranges: map[netip.Prefix]time.Time{}})
	}
	e.set.Store(set)
}

// Observe feeds one finished request to every rule. It runs on the
// request's goroutine: a few comparisons and counter increments per rule.
func (e *Engine) Observe(rec *trace.Record) {
	if rec.DryRun {
		return
	}
	var now time.Time
	for _, rs := range e.set.Load().rules {
		r := rs.r
		if !r.where.matches(rec) {
			continue
		}
		hit := r.match.matches(rec)
		if r.Kind != "rate" && !hit {
			continue
		}
		if now.IsZero() {
			now = e.now()
		}
		rs.mu.Lock()
		key, isNew, ok := rs.key(rec, now)
		if ok {
			g := rs.groups[key]
			if g == nil {
				if len(rs.groups) >= maxGroups {
					rs.mu.Unlock()
					if rs.overflow.Add(1) == 1 {
						e.logger.Warn("alert rule tracks too many groups; new groups ignored", "rule", r.ID, "max_groups", maxGroups)
					}
					continue
				}
				g = &group{w: newWindow(r.Window), isNew: isNew}
				rs.groups[key] = g
			}
			g.w.add(now, hit)
			if hit {
				g.samples[g.ns%len(g.samples)] = rec.ID
				g.ns++
			}
		}
		rs.mu.Unlock()
	}
}

// key is the group of rec; for new_range rules it also says whether the
// range is new, and remembers it.
func (rs *ruleState) key(rec *trace.Record, now time.Time) (string, bool, bool) {
	r := rs.r
	if r.Kind != "new_range" {
		if r.GroupBy == "" {
			return "", false, true
		}
		return r.GroupBy + "=" + groupOf(r.GroupBy, rec), false, true
	}
	a, err := netip.ParseAddr(rec.Client)
	if err != nil {
		return "", false, false
	}
	a = a.Unmap()
	bits := r.PrefixV4
	if a.Is6() {
		bits = r.PrefixV6
	}
	p, _ := a.Prefix(bits)
	seen, known := rs.ranges[p]
	isNew := !known || now.Sub(seen) > r.Remember
	if isNew && len(rs.ranges) >= maxRanges {
		return "", false, false
	}
	rs.ranges[p] = now
	if !isNew {
		// Still counted if it is the range that fired, so it stays firing.
		if _, ok := rs.groups[p.String()]; !ok {
			return "", false, false
		}
	}
	return p.String(), isNew, true
}

// Tick evaluates every rule at the engine's clock: fires, repeats and
// resolves alerts, and forgets idle groups.
func (e *Engine) Tick() {
	now := e.now()
	set := e.set.Load()
	for _, rs := range set.rules {
		rs.tick(e, set.renotify, now)
	}
}

func (rs *ruleState) tick(e *Engine, renotify time.Duration, now time.Time) {
	r := rs.r
	var out []Notification
	rs.mu.Lock()
	for key, g := range rs.groups {
		total, hits := g.w.sum(now)
		value, cond := r.evaluate(g, total, hits)
		n := Notification{Rule: r.ID, Kind: r.Kind, Group: key, Value: value, Threshold: r.threshold, Matched: hits,
			Window: r.Window.String(), At: now.UTC(), Samples: g.sampleIDs(), webhooks: r.Webhooks}
		if r.Kind == "rate" {
			n.Total = total
		}
		switch {
		case cond && !g.firing:
			g.firing, g.since, g.notified = true, now, now
			n.State, n.Since = "firing", now.UTC()
			n.Summary = r.summary(n)
			out = append(out, n)
		case cond && g.firing:
			n.State, n.Since = "firing", g.since.UTC()
			n.Summary = r.summary(n)
			if renotify > 0 && now.Sub(g.notified) >= renotify {
				g.notified = now
				n.Repeat = true
				out = append(out, n)
			}
		case !cond && g.firing:
			g.firing = false
			g.isNew = false
			n.State, n.Since = "resolved", g.since.UTC()
			n.Summary = r.summary(n)
			out = append(out, n)
		}
		g.last = n
		if !g.firing && total == 0 {
			delete(rs.groups, key)
		}
	}
	for p, seen := range rs.ranges {
		if now.Sub(seen) > r.Remember {
			delete(rs.ranges, p)
		}
	}
	rs.mu.Unlock()
	// Deterministic order, and no lock held while handing off.
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	for _, n := range out {
		if n.State == "firing" {
			e.logger.Warn("alert firing", "rule", n.Rule, "group", n.Group, "summary", n.Summary, "repeat", n.Repeat)
		} else {
			e.logger.Info("alert resolved", "rule", n.Rule, "group", n.Group, "summary", n.Summary)
		}
		if e.notify != nil {
			e.notify(n)
		}
	}
}

// evaluate is the rule's condition over one group's window.
func (r *Rule) evaluate(g *group, total, hits int64) (float64, bool) {
	switch r.Kind {
	case "rate":
		if total == 0 {
			return 0, false
		}
		v := float64(hits) / float64(total)
		return v, total >= r.MinRequests && v > r.threshold
	case "count":
		return float64(hits), float64(hits) > r.threshold
	default: // new_range: a new range that matched within the window.
		return float64(hits), g.isNew && hits > 0
	}
}

func (r *Rule) summary(n Notification) string {
	scope := ""
	if !r.where.any {
		scope = " on " + r.where.describe
	}
	if n.Group != "" && r.Kind != "new_range" {
		scope += " for " + n.Group
	}
	var s string
	switch r.Kind {
	case "rate":
		s = fmt.Sprintf("%s rate %.1f%% (%d of %d) over %s%s; threshold %.1f%%", r.match.describe, n.Value*100, n.Matched, n.Total, r.Window, scope, r.threshold*100)
	case "count":
		s = fmt.Sprintf("%d requests with %s over %s%s; threshold %g", n.Matched, r.match.describe, r.Window, scope, r.threshold)
	default:
		s = fmt.Sprintf("%s from new address range %s%s", r.match.describe, n.Group, scope)
	}
	if n.State == "resolved" {
		s = "resolved: " + s
	}
	return s
}

func (g *group) sampleIDs() []string {
	var out []string
	for i := 1; i <= len(g.samples) && i <= g.ns; i++ {
		out = append(out, g.samples[(g.ns-i)%len(g.samples)])
	}
	return out
}

// State is a rule's current view, for the admin API.
type State struct {
	Rule   string         `json:"rule"`
	Kind   string         `json:"kind"`
	Firing []Notification `json:"firing"`
	Groups int            `json:"groups"`
}

// States reports every rule and its firing groups.
func (e *Engine) States() []State {
	out := []State{}
	for _, rs := range e.set.Load().rules {
		rs.mu.Lock()
		s := State{Rule: rs.r.ID, Kind: rs.r.Kind, Firing: []Notification{}, Groups: len(rs.groups)}
		for _, g := range rs.groups {
			if g.firing {
				s.Firing = append(s.Firing, g.last)
			}
		}
		rs.mu.Unlock()
		sort.Slice(s.Firing, func(i, j int) bool { return s.Firing[i].Group < s.Firing[j].Group })
		out = append(out, s)
	}
	return out
}
