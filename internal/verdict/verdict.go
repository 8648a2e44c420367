package verdict

import (
	"net/http"
	"strconv"
)

// Outcome is what a layer decided about a request.
type Outcome uint8

const (
	// Allow lets the request continue to the next layer.
	Allow Outcome = iota
	// Deny stops the request; the renderer answers with the verdict.
	Deny
	// Skip means the layer had nothing to check for this request.
	Skip
	// Error means the layer failed internally; the request is refused
	// (fail closed) with the verdict's code, which is a 5xx code.
	Error
	// ShadowDeny records a denial a shadowed policy would have made; the
	// request continues.
	ShadowDeny
	// Answer ends the request with a response that is not a denial and
	// has no body, built from Status and Header (a CORS preflight's 204).
	Answer
)

var outcomeNames = [...]string{"allow", "deny", "skip", "error", "shadow_deny", "answer"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Stops reports whether the outcome ends the request.
func (o Outcome) Stops() bool { return o == Deny || o == Error || o == Answer }

// Answered builds an Answer verdict: the gateway replies with status and
// the verdict's headers, and no body.
func Answered(status int, rule string) Verdict {
	return Verdict{Outcome: Answer, Status: status, Rule: rule}
}

// Field is one piece of evidence: a name and a (redacted) value. Evidence is
// written to the trace only, never to the caller.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Verdict is a layer's decision. The zero value allows.
type Verdict struct {
	Outcome Outcome
	// Status is the HTTP status of a denial; zero means the catalog's.
	Status int
	// Layer is the layer that decided; the pipeline fills it when empty.
	Layer string
	// Code is the catalog code of a denial (e.g. "key_expired").
	Code string
	// Rule names the policy, list entry or rule id that decided.
	Rule string
	// Detail is safe to show the caller: it never reveals other consumers,
	// list contents, rule contents or key material.
	Detail string
	// Hint says what to change; empty means the catalog's fix.
	Hint string
	// Evidence is for the trace only.
	Evidence []Field
	// Header holds response headers the denial needs (WWW-Authenticate,
	// Retry-After, RateLimit, Allow). It is also applied to allowed
	// responses when set on an Allow verdict (e.g. RateLimit fields).
	Header http.Header
}

// Pass is the allow verdict.
func Pass() Verdict { return Verdict{} }

// Skipped is the verdict of a layer with nothing to check.
func Skipped(reason string) Verdict {
	v := Verdict{Outcome: Skip}
	if reason != "" {
		v.Evidence = []Field{{Key: "reason", Value: reason}}
	}
	return v
}

// Denied builds a denial for a catalog code. Status, layer and hint come
// from the catalog unless set later.
func Denied(code, rule, detail string) Verdict {
	return Verdict{Outcome: Deny, Code: code, Rule: rule, Detail: detail}
}

// Failed builds an internal-error verdict (fail closed) for a catalog code.
func Failed(code, rule, detail string) Verdict {
	return Verdict{Outcome: Error, Code: code, Rule: rule, Detail: detail}
}

// With appends one piece of evidence and returns the verdict.
func (v Verdict) With(key, value string) Verdict {
	v.Evidence = append(v.Evidence, Field{Key: key, Value: value})
	return v
}

// WithHint replaces the catalog's fix with a more specific one.
func (v Verdict) WithHint(hint string) Verdict {
	v.Hint = hint
	return v
}

// WithStatus overrides the catalog status (e.g. 403 for rate limits on a
// route that asks for it). The code stays the same.
func (v Verdict) WithStatus(status int) Verdict {
	v.Status = status
	return v
}

// WithHeader adds a response header to the verdict.
func (v Verdict) WithHeader(key, value string) Verdict {
	if v.Header == nil {
		v.Header = make(http.Header, 2)
	}
	v.Header.Add(key, value)
	return v
}

// Resolved fills status, layer and hint from the catalog where the verdict
// left them empty.
func (v Verdict) Resolved() Verdict {
	if v.Code == "" {
		return v
	}
	e, ok := Lookup(v.Code)
	if !ok {
		return v
	}
	if v.Status == 0 {
		v.Status = e.Status
	}
	if v.Layer == "" {
		v.Layer = e.Layer
	}
	if v.Hint == "" {
		v.Hint = e.Fix
	}
	return v
}

// Error makes a denial usable as an error (errors.As finds it by the
// StatusCode method), for code paths that return errors.
func (v Verdict) Error() string {
	if v.Detail != "" {
		return v.Code + ": " + v.Detail
	}
	return v.Code
}

// StatusCode is the HTTP status of the denial.
func (v Verdict) StatusCode() int { return v.Resolved().Status }
