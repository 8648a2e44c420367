package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"time"

	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// Identity is who the authn layer found the caller to be.
type Identity struct {
	ConsumerID   string
	ConsumerName string
	Tenant       string
	// KeyID is the public id of the API key (never the secret).
	KeyID string
	// Method is how the caller authenticated: "key", "jwt", "basic".
	Method   string
	Subject  string
	Scopes   []string
	Roles    []string
	Metadata map[string]any
	// Claims are the verified token's claims (JWT only).
	Claims map[string]any
}

// Request is one request as the layers see it.
type Request struct {
	HTTP  *http.Request
	ID    string
	Start time.Time
	Route *RouteInfo
	// Params are the route's {param} values.
	Params   map[string]string
	ClientIP netip.Addr
	Identity *Identity
	// DryRun is set by `pinpoint try` and the simulate API: layers must
	// not change state and the pipeline reports every layer's verdict.
	DryRun bool
	// Log holds extra fields for the call log (AI usage, cost, …).
	Log map[string]any
	// MaxBody caps how much of the body a layer may buffer; the request
	// layer sets it from the route's limit.
	MaxBody int64

	// Steps is the decision trace so far, in order.
	Steps []trace.Step
	// Decision is the verdict that ended the request (nil when allowed).
	Decision *verdict.Verdict
	// Upstream and UpstreamStatus say who answered, for the call log.
	Upstream       string
	UpstreamStatus int
	// DeniedBy is "gateway" or "upstream" when the answer is a denial.
	DeniedBy string

	body      []byte
	bodyRead  bool
	bodyErr   error
	json      any
	jsonErr   error
	jsonParsd bool
}

// DefaultMaxBody caps buffering when no route limit is set.
const DefaultMaxBody = 10 << 20

// ErrBodyTooLarge is returned by Body when the body exceeds MaxBody.
var ErrBodyTooLarge = errors.New("request body exceeds the limit")

// Body buffers the request body (at most MaxBody bytes) for layers that
// must inspect it, and puts it back so the upstream still receives it.
// Only layers that need the body call this; otherwise bodies stream.
func (r *Request) Body() ([]byte, error) {
	if r.bodyRead {
		return r.body, r.bodyErr
	}
	r.bodyRead = true
	if r.HTTP.Body == nil || r.HTTP.Body == http.NoBody {
		return nil, nil
	}
	limit := r.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.HTTP.ContentLength > limit {
		r.bodyErr = ErrBodyTooLarge
		return nil, r.bodyErr
	}
	var buf bytes.Buffer
	if r.HTTP.ContentLength > 0 {
		buf.Grow(int(r.HTTP.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.HTTP.Body, limit+1))
	if err != nil {
		r.bodyErr = fmt.Errorf("reading request body: %w", err)
		return nil, r.bodyErr
	}
	if n > limit {
		r.bodyErr = ErrBodyTooLarge
		return nil, r.bodyErr
	}
	_ = r.HTTP.Body.Close()
	r.body = buf.Bytes()
	r.HTTP.Body = io.NopCloser(bytes.NewReader(r.body))
	r.HTTP.ContentLength = int64(len(r.body))
	return r.body, nil
}

// BodyBuffered reports whether some layer buffered the body.
func (r *Request) BodyBuffered() bool { return r.bodyRead && r.bodyErr == nil }

// JSON parses the buffered body as JSON once (numbers as json.Number).
func (r *Request) JSON() (any, error) {
	if r.jsonParsd {
		return r.json, r.jsonErr
	}
	r.jsonParsd = true
	b, err := r.Body()
	if err != nil {
		r.jsonErr = err
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		r.jsonErr = err
		return nil, err
	}
	r.json = v
	return v, nil
}

// SetLog records a call-log field.
func (r *Request) SetLog(key string, v any) {
	if r.Log == nil {
		r.Log = make(map[string]any, 4)
	}
	r.Log[key] = v
}

// AddStep appends a step to the decision trace. Handlers use it to record
// what they decided (a provider tried, a model refused).
func (r *Request) AddStep(layer string, v verdict.Verdict, d time.Duration) {
	if v.Layer == "" {
		v.Layer = layer
	}
	r.Steps = append(r.Steps, trace.StepFrom(layer, v, d, ""))
}

// Deny records v as the deciding verdict and renders it in the route's
// format. Handlers call it instead of writing an error themselves, so every
// denial has the same shape and is in the trace.
func (r *Request) Deny(w http.ResponseWriter, v verdict.Verdict) {
	v = v.Resolved()
	if v.Outcome == verdict.Allow {
		v.Outcome = verdict.Deny
	}
	r.Decision = &v
	r.DeniedBy = "gateway"
	format := verdict.Problem
	if r.Route != nil {
		format = verdict.Format(r.Route.Format)
	}
	verdict.Write(w, r.HTTP, v, r.ID, format)
}
