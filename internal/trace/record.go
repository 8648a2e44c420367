package trace

import (
	"time"

	"pinpoint/internal/verdict"
)

// Step is one layer's part in a decision.
type Step struct {
	Layer    string          `json:"layer"`
	Outcome  string          `json:"outcome"`
	Code     string          `json:"code,omitempty"`
	Rule     string          `json:"rule,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Hint     string          `json:"hint,omitempty"`
	Status   int             `json:"status,omitempty"`
	Mode     string          `json:"mode,omitempty"`
	Nanos    int64           `json:"ns"`
	Evidence []verdict.Field `json:"evidence,omitempty"`
}

// Record is everything the call log keeps about one request. Secrets are
// redacted before a Record is built.
type Record struct {
	ID        string            `json:"id"`
	Time      time.Time         `json:"time"`
	Method    string            `json:"method"`
	Host      string            `json:"host"`
	Path      string            `json:"path"`
	Query     string            `json:"query,omitempty"`
	RouteID   string            `json:"route,omitempty"`
	Client    string            `json:"client"`
	Status    int               `json:"status"`
	Micros    int64             `json:"duration_us"`
	BytesIn   int64             `json:"bytes_in"`
	BytesOut  int64             `json:"bytes_out"`
	Consumer  string            `json:"consumer,omitempty"`
	KeyID     string            `json:"key_id,omitempty"`
	Tenant    string            `json:"tenant,omitempty"`
	Upstream  string            `json:"upstream,omitempty"`
	UpStatus  int               `json:"upstream_status,omitempty"`
	DeniedBy  string            `json:"denied_by,omitempty"`
	Layer     string            `json:"layer,omitempty"`
	Code      string            `json:"code,omitempty"`
	Rule      string            `json:"rule,omitempty"`
	Detail    string            `json:"detail,omitempty"`
	Hint      string            `json:"hint,omitempty"`
	DryRun    bool              `json:"dry_run,omitempty"`
	Steps     []Step            `json:"steps"`
	Headers   map[string]string `json:"headers,omitempty"`
	Extra     map[string]any    `json:"extra,omitempty"`
	ShadowHit bool              `json:"shadow,omitempty"`
}

// StepFrom converts a resolved verdict into a step.
func StepFrom(layer string, v verdict.Verdict, d time.Duration, mode string) Step {
	s := Step{Layer: layer, Outcome: v.Outcome.String(), Code: v.Code, Rule: v.Rule, Nanos: d.Nanoseconds(), Evidence: v.Evidence, Mode: mode}
	if v.Outcome != verdict.Allow && v.Outcome != verdict.Skip {
		v = v.Resolved()
		s.Detail, s.Hint, s.Status = v.Detail, v.Hint, v.Status
	}
	return s
}
