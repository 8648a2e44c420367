package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Status of one checklist step.
type Status string

// Step statuses. Info records a fact that is neither good nor bad (the DNS
// answer); Skip a step that could not run (offline).
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Info Status = "info"
	Skip Status = "skip"
)

// Phases in the order a senior engineer walks them.
const (
	PhaseRequest     = "request"
	PhaseCredentials = "credentials"
	PhaseServer      = "server"
	PhaseIsolation   = "isolation"
	PhasePath        = "path"
	PhaseLogs        = "logs"
)

var phaseOrder = map[string]int{PhaseRequest: 0, PhaseCredentials: 1, PhaseServer: 2, PhaseIsolation: 3, PhasePath: 4, PhaseLogs: 5}

// Step is one line of the checklist.
type Step struct {
	Phase  string `json:"phase"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Finding is one candidate cause: what, how sure, why we think so, and
// what to do about it.
type Finding struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Confidence int      `json:"confidence"`
	Phase      string   `json:"phase"`
	Evidence   []string `json:"evidence"`
	Fix        string   `json:"fix"`
	// Explain is a follow-up command (pinpoint explain <request id>).
	Explain string `json:"explain,omitempty"`
}

// RequestView is the request as shown: secrets masked.
type RequestView struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []string `json:"headers"`
	Body    string   `json:"body,omitempty"`
	Source  string   `json:"source"`
}

// ResponseView summarises the analysed response.
type ResponseView struct {
	Status     int      `json:"status"`
	StatusText string   `json:"status_text,omitempty"`
	Headers    []string `json:"headers"`
	Body       string   `json:"body_excerpt,omitempty"`
	NetError   string   `json:"net_error,omitempty"`
	Recorded   bool     `json:"recorded"`
}

// Outcomes and their exit codes.
const (
	OutcomeSuccess    = "success"
	OutcomeCauseFound = "cause_found"
	OutcomeNoCause    = "no_cause"
)

// Report is the full result of a probe.
type Report struct {
	Request   RequestView   `json:"request"`
	Response  *ResponseView `json:"response,omitempty"`
	Outcome   string        `json:"outcome"`
	ExitCode  int           `json:"exit_code"`
	Diagnosis []Finding     `json:"diagnosis"`
	Checklist []Step        `json:"checklist"`
	Sent      []Exchange    `json:"sent"`
	Notes     []string      `json:"notes,omitempty"`
}

// ExitError carries the probe's exit code to the CLI root: 1 when a cause
// was found, 2 when none was. Success returns no error.
type ExitError struct{ Code int }

func (e *ExitError) Error() string {
	switch e.Code {
	case 1:
		return "probe: a cause was found"
	case 2:
		return "probe: no cause found"
	}
	return "probe: exit " + strconv.Itoa(e.Code)
}

// collector gathers steps and findings while the probe walks.
type collector struct {
	steps    []Step
	findings []Finding
}

func (c *collector) step(phase, name string, st Status, detail string) {
	c.steps = append(c.steps, Step{Phase: phase, Name: name, Status: st, Detail: detail})
}

// find adds a finding, merging one with the same ID: the same cause seen
// twice (a fingerprint and a log line) is stronger, not a second cause.
func (c *collector) find(f Finding) {
	for i := range c.findings {
		if c.findings[i].ID == f.ID {
			g := &c.findings[i]
			if f.Confidence > g.Confidence {
				g.Confidence = f.Confidence
				g.Title = f.Title
			}
			g.Evidence = append(g.Evidence, f.Evidence...)
			if g.Fix == "" {
				g.Fix = f.Fix
			}
			if g.Explain == "" {
				g.Explain = f.Explain
			}
			return
		}
	}
	c.findings = append(c.findings, f)
}

// has reports whether a finding with the ID prefix exists.
func (c *collector) has(prefix string) bool {
	for _, f := range c.findings {
		if strings.HasPrefix(f.ID, prefix) {
			return true
		}
	}
	return false
}

// boost raises a finding's confidence when independent evidence agrees.
func (c *collector) boost(prefix string, to int, evidence string) bool {
	hit := false
	for i := range c.findings {
		if strings.HasPrefix(c.findings[i].ID, prefix) {
			if c.findings[i].Confidence < to {
				c.findings[i].Confidence = to
			}
			if evidence != "" {
				c.findings[i].Evidence = append(c.findings[i].Evidence, evidence)
			}
			hit = true
		}
	}
	return hit
}

// ranked sorts findings by confidence, then by phase order so an earlier
// step (a malformed request) beats a later one at equal confidence.
func ranked(fs []Finding) []Finding {
	out := append([]Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return phaseOrder[out[i].Phase] < phaseOrder[out[j].Phase]
	})
	return out
}

func confidenceWord(c int) string {
	switch {
	case c >= 85:
		return "high"
	case c >= 60:
		return "medium"
	}
	return "low"
}

// WriteJSON renders the report for tools.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

// WriteText renders the report for a terminal; colour only when asked
// (the CLI asks when stdout is a terminal and NO_COLOR is unset).
func (r *Report) WriteText(w io.Writer, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	fmt.Fprintf(w, "%s %s %s\n", paint(ansiBold, "pinpoint probe"), r.Request.Method, r.Request.URL)
	if r.Response != nil {
		src := "received now"
		if r.Response.Recorded {
			src = "recorded, nothing sent"
		}
		if r.Response.NetError != "" {
			fmt.Fprintf(w, "No response: %s (%s)\n", r.Response.NetError, src)
		} else {
			fmt.Fprintf(w, "Response: %s (%s)\n", strings.TrimSpace(fmt.Sprintf("%d %s", r.Response.Status, r.Response.StatusText)), src)
		}
	} else {
		fmt.Fprintln(w, "Response: none (request not sent)")
	}
	fmt.Fprintln(w)
	switch {
	case r.Outcome == OutcomeSuccess:
		fmt.Fprintln(w, paint(ansiGreen, "The request succeeded."))
	case len(r.Diagnosis) == 0:
		fmt.Fprintln(w, paint(ansiYellow, "No cause found.")+" See the checklist; --log FILE with the server's logs, or --allow-replay N, may narrow it down.")
	default:
		fmt.Fprintln(w, paint(ansiBold, "Diagnosis (most likely first)"))
	}
	for i, f := range r.Diagnosis {
		fmt.Fprintf(w, "%2d. %s %s\n", i+1, paint(confColor(f.Confidence), fmt.Sprintf("[%s %d%%]", confidenceWord(f.Confidence), f.Confidence)), paint(ansiBold, f.Title))
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "      evidence: %s\n", e)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", f.Fix)
		}
		if f.Explain != "" {
			fmt.Fprintf(w, "      next: %s\n", f.Explain)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, paint(ansiBold, "Checklist"))
	for _, s := range r.Checklist {
		st := string(s.Status)
		switch s.Status {
		case Pass:
			st = paint(ansiGreen, "pass")
		case Warn:
			st = paint(ansiYellow, "warn")
		case Fail:
			st = paint(ansiRed, "fail")
		default:
			st = paint(ansiDim, st)
		}
		line := fmt.Sprintf("  %-11s %s  %s", s.Phase, st, s.Name)
		if s.Detail != "" {
			line += ": " + s.Detail
		}
		fmt.Fprintln(w, line)
	}
	if len(r.Sent) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, paint(ansiBold, "Sent"))
		for _, e := range r.Sent {
			res := strconv.Itoa(e.Status)
			if e.Error != "" {
				res = "error: " + e.Error
			}
			fmt.Fprintf(w, "  %-8s %s %s → %s (%s)\n", e.Kind, e.Method, e.URL, res, e.Purpose)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func confColor(c int) string {
	switch {
	case c >= 85:
		return ansiRed
	case c >= 60:
		return ansiYellow
	}
	return ansiDim
}

// ExitCode lets the CLI root map the error to the process exit code.
func (e *ExitError) ExitCode() int { return e.Code }
