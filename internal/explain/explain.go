package explain

import (
	"fmt"
	"io"
	"strings"
	"time"

	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

var marks = map[string]string{"allow": "✓", "deny": "✗", "error": "✗", "skip": "·", "shadow_deny": "◐", "answer": "↩"}

// Write prints the story of one request.
func Write(w io.Writer, r *trace.Record) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	route := r.RouteID
	if route == "" {
		route = "no route"
	}
	p("Request %s\n", r.ID)
	p("  %s %s%s  (route: %s)\n", r.Method, r.Path, query(r.Query), route)
	p("  time     %s\n", r.Time.UTC().Format("2006-01-02 15:04:05.000 MST"))
	p("  client   %s    host %s\n", r.Client, r.Host)
	if r.Consumer != "" || r.KeyID != "" {
		p("  caller   consumer %s", orDash(r.Consumer))
		if r.KeyID != "" {
			p(", key %s", r.KeyID)
		}
		if r.Tenant != "" {
			p(", tenant %s", r.Tenant)
		}
		p("\n")
	}
	p("  result   %s\n", outcomeLine(r))
	if r.DryRun {
		p("  (dry run: nothing was sent upstream and no state changed)\n")
	}
	p("\nDecision, layer by layer:\n")
	stoppedAt := -1
	for i, s := range r.Steps {
		mark := marks[s.Outcome]
		if mark == "" {
			mark = "?"
		}
		line := fmt.Sprintf("  %s %-9s %s", mark, s.Layer, stepSummary(s))
		p("%-72s %s\n", line, dur(s.Nanos))
		for _, e := range s.Evidence {
			p("              %s: %s\n", e.Key, e.Value)
		}
		if s.Outcome == "deny" || s.Outcome == "error" {
			stoppedAt = i
		}
	}
	if stoppedAt >= 0 && stoppedAt < len(r.Steps)-1 {
		p("  (steps after the denial are the gateway's own bookkeeping)\n")
	}
	for _, k := range []string{"request_body", "response_body"} {
		if b, ok := r.Extra[k].(string); ok && b != "" {
			p("\n%s (logged excerpt, redacted):\n  %s\n", strings.ReplaceAll(k, "_", " "), b)
		}
	}
	if r.Code != "" {
		e, _ := verdict.Lookup(r.Code)
		p("\nWhy: %s\n", e.Meaning)
		if r.Rule != "" {
			p("Rule: %s\n", r.Rule)
		}
		p("Told the caller: %q\n", r.Detail)
		p("Fix: %s\n", r.Hint)
		p("About this code: %s%s\n", verdict.TypePrefix, r.Code)
	} else if r.DeniedBy == "upstream" {
		p("\nWhy: the upstream service itself answered %d; the gateway allowed the request and passed the answer through unchanged (marked Pinpoint-Denied-By: upstream).\n", r.Status)
		p("Fix: look at the upstream's own rules; its body and WWW-Authenticate are in the upstream step above.\n")
	}
	for _, s := range r.Steps {
		if s.Outcome == "shadow_deny" {
			p("\nShadow: layer %s would have denied this request with %s (%s) if enforced.\n", s.Layer, s.Code, s.Detail)
		}
	}
}

func query(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func outcomeLine(r *trace.Record) string {
	switch {
	case r.Code != "":
		return fmt.Sprintf("%d — denied by the gateway: layer %s, code %s", r.Status, r.Layer, r.Code)
	case r.DeniedBy == "upstream":
		return fmt.Sprintf("%d — denied by the upstream (%s), passed through", r.Status, r.Upstream)
	case r.Status == 499:
		return "499 — the client closed the connection before the answer"
	default:
		s := fmt.Sprintf("%d — allowed", r.Status)
		if r.Upstream != "" {
			s += ", answered by " + r.Upstream
		}
		return s + fmt.Sprintf(" in %s", time.Duration(r.Micros)*time.Microsecond)
	}
}

func stepSummary(s trace.Step) string {
	switch s.Outcome {
	case "allow":
		if s.Rule != "" {
			return "allowed (" + s.Rule + ")"
		}
		return "allowed"
	case "skip":
		return "nothing to check"
	case "shadow_deny":
		return fmt.Sprintf("SHADOW %s — would deny, not enforced", s.Code)
	case "answer":
		return fmt.Sprintf("answered %d itself (%s)", s.Status, s.Rule)
	}
	out := strings.ToUpper(s.Outcome) + " " + s.Code
	if s.Code == "" {
		out = strings.ToUpper(s.Outcome)
	}
	if s.Rule != "" {
		out += "  rule: " + s.Rule
	}
	if s.Detail != "" {
		out += " — " + s.Detail
	}
	return out
}

func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d == 0:
		return ""
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", ns)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	default:
		return d.Round(10 * time.Microsecond).String()
	}
}

// Simulation prints a dry run's result: every layer's verdict and the list
// of changes that would make the request pass.
func Simulation(w io.Writer, steps []trace.Step, fixes []string, route string) {
	if route != "" {
		fmt.Fprintf(w, "Route: %s\n", route)
	}
	for _, s := range steps {
		mark := marks[s.Outcome]
		fmt.Fprintf(w, "  %s %-9s %s\n", mark, s.Layer, stepSummary(s))
		for _, e := range s.Evidence {
			fmt.Fprintf(w, "              %s: %s\n", e.Key, e.Value)
		}
	}
	if len(fixes) == 0 {
		fmt.Fprintln(w, "\nThe request would pass every layer.")
		return
	}
	fmt.Fprintf(w, "\nTo make it pass, fix all of these:\n")
	for i, f := range fixes {
		fmt.Fprintf(w, "  %d. %s\n", i+1, f)
	}
}
