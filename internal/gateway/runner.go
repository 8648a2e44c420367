package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"pinpoint/internal/clientip"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

func itoa(n int) string { return strconv.Itoa(n) }

// countingWriter records the status and bytes written, for the call log.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	// capture, when non-nil, keeps the first captureMax bytes of the
	// response body for routes that log bodies.
	capture    []byte
	captureMax int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	k, err := c.ResponseWriter.Write(b)
	c.n += int64(k)
	if room := c.captureMax - len(c.capture); room > 0 && k > 0 {
		c.capture = append(c.capture, b[:min(k, room)]...)
	}
	return k, err
}

// teeBody copies the first max bytes of a request body as it streams to
// the upstream, without buffering the body.
type teeBody struct {
	io.ReadCloser
	buf []byte
	max int
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := t.max - len(t.buf); room > 0 && n > 0 {
		t.buf = append(t.buf, p[:min(n, room)]...)
	}
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// ServeHTTP is a request's whole life, in order: request id and client
// address, the route, each layer of the route's pipeline (pipeline.Order),
// then the handler or the upstream, then the trace record.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := g.acquire()
	defer rt.release()
	start := time.Now()
	peer := clientip.Peer(r.RemoteAddr)
	pr := &pipeline.Request{HTTP: r, Start: start, ClientIP: rt.clientIP.ClientIP(r)}
	pr.ID = rt.requestID(r, peer)
	cw := &countingWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			g.env.Logger.Error("panic while handling request", "request_id", pr.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			v := verdict.Failed("internal_error", "", "The gateway failed while handling the request.").With("panic", fmt.Sprint(p))
			v.Layer = "gateway"
			pr.AddStep("gateway", v, 0)
			if cw.status == 0 {
				pr.Deny(cw, v)
			} else {
				pr.Decision = &v
			}
			g.finish(rt, pr, cw, start)
		}
	}()

	if strings.HasPrefix(r.URL.Path, verdict.TypePrefix) || r.URL.Path == strings.TrimSuffix(verdict.TypePrefix, "/") {
		serveDenialPage(cw, r, pr.ID)
		return
	}
	if g.draining.Load() {
		// Stopping: requests already running finish, a new one is told
		// why it is refused and to go elsewhere.
		v := verdict.Denied("shutting_down", "", "The gateway is shutting down and takes no new requests; retry, another instance will answer.").
			WithHeader("Connection", "close").WithHeader("Retry-After", "1")
		v.Layer = "gateway"
		pr.AddStep("gateway", v, 0)
		pr.Deny(cw, v)
		g.finish(rt, pr, cw, start)
		return
	}
	g.run(rt, cw, pr)
	g.finish(rt, pr, cw, start)
}

// run routes the request and runs its pipeline, then proxies it.
func (g *Gateway) run(rt *runtime, w http.ResponseWriter, pr *pipeline.Request) {
	r := pr.HTTP
	t0 := time.Now()
	m := rt.match(r)
	if m.route == nil {
		v := routeDenial(rt, r, m)
		pr.AddStep("route", v, time.Since(t0))
		pr.Deny(w, v)
		return
	}
	rte := m.route
	pr.Route, pr.Params = rte.info, m.params
	if max := int(rte.cfg.LogBodies); max > 0 {
		if cw, ok := w.(*countingWriter); ok {
			cw.captureMax = max
		}
		if r.Body != nil && r.Body != http.NoBody {
			tb := &teeBody{ReadCloser: r.Body, max: max}
			r.Body = tb
			pr.SetLog("request_body_tee", tb)
		}
	}
	// One allocation for the whole trace: route, each layer, upstream.
	pr.Steps = make([]trace.Step, 0, len(rte.layers)+2)
	pr.AddStep("route", rte.routeStep, time.Since(t0))

	var extra http.Header
	for _, bl := range rte.layers {
		t := time.Now()
		v := bl.layer.Evaluate(r.Context(), pr)
		d := time.Since(t)
		if v.Layer == "" {
			v.Layer = bl.name
		}
		mode := ""
		if bl.shadow {
			mode = "shadow"
			if v.Outcome == verdict.Deny {
				v.Outcome = verdict.ShadowDeny
			}
		}
		pr.Steps = append(pr.Steps, trace.StepFrom(bl.name, v, d, mode))
		switch v.Outcome {
		case verdict.Allow, verdict.Skip, verdict.ShadowDeny:
			if len(v.Header) > 0 {
				if extra == nil {
					extra = make(http.Header, len(v.Header))
				}
				mergeHeaders(extra, v.Header)
			}
			continue
		case verdict.Answer:
			h := w.Header()
			applyHeaders(h, extra)
			applyHeaders(h, v.Header)
			h.Set(verdict.HeaderRequestID, pr.ID)
			h.Set("Content-Length", "0")
			w.WriteHeader(v.Status)
			return
		default:
			// Headers from layers that allowed (CORS, RateLimit) still
			// apply, so a browser can read the denial.
			applyHeaders(w.Header(), extra)
			pr.Deny(w, v)
			return
		}
	}
	if rte.handler != nil {
		applyHeaders(w.Header(), extra)
		w.Header().Set(verdict.HeaderRequestID, pr.ID)
		rte.handler.Serve(w, pr)
		return
	}
	g.proxyFn(rt, w, pr, rte, extra)
}

// routeDenial explains a request no route takes: 405 with Allow when the
// path exists for other methods, else 404 with the nearest routes traced.
func routeDenial(rt *runtime, r *http.Request, m match) verdict.Verdict {
	if len(m.allow) > 0 {
		allow := strings.Join(m.allow, ", ")
		return verdict.Denied("method_not_allowed", "", fmt.Sprintf("%s is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, allow)).
			WithHeader("Allow", allow).With("allow", allow)
	}
	v := verdict.Denied("no_route", "", "No route matches "+r.Method+" "+r.URL.Path+" on host "+requestHost(r.Host)+".")
	near, d := rt.router.Nearest(r.Host, r.URL.Path, 3)
	if len(near) > 0 {
		v = v.With("nearest_routes", strings.Join(near, " "))
		if d <= 3 {
			v = v.WithHint("Did you mean " + near[0] + "? Check the path against the API's documentation.")
		}
	}
	return v
}

// finish builds the call-log record and hands it to the writer and the
// observers. It never blocks the request.
func (g *Gateway) finish(rt *runtime, pr *pipeline.Request, cw *countingWriter, start time.Time) {
	r := pr.HTTP
	rec := &trace.Record{
		ID: pr.ID, Time: start.UTC(), Method: r.Method, Host: r.Host, Path: r.URL.Path,
		Query: rt.redact.rawQuery(r.URL.RawQuery), Client: pr.ClientIP.String(),
		Status: cw.status, Micros: time.Since(start).Microseconds(), BytesIn: max(r.ContentLength, 0), BytesOut: cw.n,
		Upstream: pr.Upstream, UpStatus: pr.UpstreamStatus, DeniedBy: pr.DeniedBy, DryRun: pr.DryRun,
		Steps: pr.Steps, Headers: rt.redact.headerMap(r.Header), Extra: pr.Log,
	}
	if pr.Route != nil {
		rec.RouteID = pr.Route.ID
	}
	if id := pr.Identity; id != nil {
		rec.Consumer, rec.KeyID, rec.Tenant = id.ConsumerID, id.KeyID, id.Tenant
	}
	if d := pr.Decision; d != nil {
		rec.Layer, rec.Code, rec.Rule, rec.Detail, rec.Hint = d.Layer, d.Code, d.Rule, d.Detail, d.Hint
	} else if pr.DeniedBy == "upstream" {
		rec.Layer = "upstream"
	}
	for _, s := range pr.Steps {
		if s.Outcome == "shadow_deny" {
			rec.ShadowHit = true
			break
		}
	}
	if pr.Route != nil && pr.Log != nil {
		if tb, ok := pr.Log["request_body_tee"].(*teeBody); ok {
			delete(pr.Log, "request_body_tee")
			body := tb.buf
			if pr.BodyBuffered() {
				// A layer read the body whole; log from that copy.
				b, _ := pr.Body()
				body = b[:min(len(b), tb.max)]
			}
			pr.Log["request_body"] = redactBody(string(body))
		}
	}
	if cw.captureMax > 0 {
		if pr.Log == nil {
			pr.Log = map[string]any{}
			rec.Extra = pr.Log
		}
		pr.Log["response_body"] = redactBody(string(cw.capture))
	}
	if cw.status == 0 {
		rec.Status = 499
	}
	if g.writer != nil {
		g.writer.Enqueue(rec)
	}
	for _, o := range g.observers {
		o(rec)
	}
}

// Simulation is the result of a dry run: every layer's verdict, not just
// the first denial, and what would make the request pass.
type Simulation struct {
	RequestID string       `json:"request_id"`
	Route     string       `json:"route,omitempty"`
	Client    string       `json:"client"`
	Allowed   bool         `json:"allowed"`
	Steps     []trace.Step `json:"steps"`
	Fixes     []string     `json:"fixes"`
}

// Simulate evaluates r against the live config without calling the
// upstream or changing state (layers see DryRun), and without stopping at
// the first denial.
func (g *Gateway) Simulate(ctx context.Context, r *http.Request, identity *pipeline.Identity) *Simulation {
	rt := g.acquire()
	defer rt.release()
	pr := &pipeline.Request{HTTP: r.WithContext(ctx), Start: time.Now(), ClientIP: rt.clientIP.ClientIP(r), DryRun: true, ID: newID()}
	sim := &Simulation{RequestID: pr.ID, Client: pr.ClientIP.String()}
	m := rt.match(r)
	if m.route == nil {
		v := routeDenial(rt, r, m).Resolved()
		sim.Steps = append(sim.Steps, trace.StepFrom("route", v, 0, ""))
		sim.Fixes = append(sim.Fixes, v.Hint)
		return sim
	}
	rte := m.route
	pr.Route, pr.Params = rte.info, m.params
	sim.Route = rte.info.ID
	sim.Steps = append(sim.Steps, trace.StepFrom("route", verdict.Verdict{Rule: rte.info.ID}, 0, ""))
	for _, bl := range rte.layers {
		if bl.name == "authn" && identity != nil {
			pr.Identity = identity
			sim.Steps = append(sim.Steps, trace.StepFrom("authn", verdict.Skipped("simulated as consumer "+identity.ConsumerID), 0, ""))
			continue
		}
		t := time.Now()
		v := bl.layer.Evaluate(pr.HTTP.Context(), pr)
		if v.Layer == "" {
			v.Layer = bl.name
		}
		mode := ""
		if bl.shadow {
			mode = "shadow"
			if v.Outcome == verdict.Deny {
				v.Outcome = verdict.ShadowDeny
			}
		}
		step := trace.StepFrom(bl.name, v, time.Since(t), mode)
		sim.Steps = append(sim.Steps, step)
		if v.Outcome == verdict.Deny || v.Outcome == verdict.Error {
			sim.Fixes = append(sim.Fixes, fmt.Sprintf("%s (%s): %s", v.Code, bl.name, step.Hint))
		}
	}
	sim.Allowed = len(sim.Fixes) == 0
	return sim
}

// match routes a request. A CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method) goes to the route of the method it asks
// about, so that the route's cors layer answers it even when the route's
// methods do not list OPTIONS.
func (rt *runtime) match(r *http.Request) match {
	m := rt.router.Match(r.Host, r.Method, r.URL.Path)
	if m.route != nil || r.Method != http.MethodOptions || r.Header.Get("Origin") == "" {
		return m
	}
	asked := r.Header.Get("Access-Control-Request-Method")
	if asked == "" {
		return m
	}
	pm := rt.router.Match(r.Host, asked, r.URL.Path)
	if pm.route == nil {
		return m
	}
	for _, bl := range pm.route.layers {
		if bl.name == "cors" {
			return pm
		}
	}
	return m
}
