package ai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
	"pinpoint/internal/ai/usage"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// Response headers that say who served an AI call.
const (
	HeaderProvider  = "Pinpoint-AI-Provider"
	HeaderModel     = "Pinpoint-AI-Model"
	HeaderFallbacks = "Pinpoint-AI-Fallbacks"
)

// call is one admitted AI request on its way through the fallback chain.
type call struct {
	h         *Handler
	r         *pipeline.Request
	start     time.Time
	endpoint  string
	requested string
	chain     []Target
	bounds    []bound
	res       *usage.Reservation
	estPrompt int
	// tried lists the targets that failed before the one that served,
	// as "provider/model (reason)".
	tried  []string
	served Target
	keyID  string
	stream bool
}

// admit resolves the model, applies the caller's policies and reserves an
// estimate against budgets and limits. It answers the request itself and
// returns nil when the call may not go ahead.
func (h *Handler) admit(w http.ResponseWriter, r *pipeline.Request, endpoint, requested string, estPrompt, maxCompletion int) *call {
	t0 := time.Now()
	g := h.g
	target, fallbacks, msg := g.resolve(requested)
	if msg != "" {
		h.deny(w, r, verdict.Denied("model_unknown", "ai.models", msg).With("model", requested))
		return nil
	}
	bs := g.policiesFor(r.Identity, h.policy)
	if v := checkModel(bs, requested, target.Name()); v != nil {
		h.deny(w, r, *v)
		return nil
	}
	completion := maxCompletion
	if completion <= 0 {
		completion = g.estCompletion
	}
	price, _ := g.prices.Lookup(target.Provider.Name, target.Provider.Kind, target.Model)
	estCost := price.Cost(chat.Usage{PromptTokens: estPrompt, CompletionTokens: completion})
	budgets, rates := limits(bs, requested, target.Name())
	c := &call{h: h, r: r, start: t0, endpoint: endpoint, requested: requested, chain: append([]Target{target}, fallbacks...), bounds: bs, estPrompt: estPrompt}
	if r.DryRun {
		// Dry runs report the decision without spending anything.
		r.AddStep("ai", verdict.Pass().With("model", target.Name()), time.Since(t0))
		return c
	}
	res, rf := g.ledger.Reserve(budgets, rates, estCost, estPrompt+completion)
	if rf != nil {
		h.deny(w, r, g.refusalVerdict(bs, rf, g.now()))
		return nil
	}
	c.res = res
	v := verdict.Pass().With("model", target.Name()).With("reserved_usd", strconv.FormatFloat(estCost.USD(), 'f', 6, 64)).
		With("reserved_tokens", strconv.Itoa(estPrompt+completion))
	for _, b := range bs {
		v = v.With("policy", b.rule+" ("+b.subject+")")
	}
	v.Rule = "ai.admit"
	r.AddStep("ai", v, time.Since(t0))
	return c
}

// attemptFunc makes one attempt at one target with one key. It returns a
// *provider.Error for provider failures.
type attemptFunc func(ctx context.Context, t Target, ep provider.Endpoint) error

// errNoKey is the reason a target was skipped: every key is out of
// rotation or already tried.
var errNoKey = errors.New("no provider key in rotation")

// run walks the fallback chain: a target is left for the next one on 429,
// 5xx, a timeout or a connection failure; a key answered with 401/403 is
// taken out of rotation and the provider's next key is tried, each key at
// most once per request. Any other provider answer ends the walk.
func (c *call) run(ctx context.Context, only func(Target) bool, fn attemptFunc) error {
	g := c.h.g
	var last error = errNoKey
	tried := map[string]bool{}
	for _, t := range c.chain {
		if only != nil && !only(t) {
			continue
		}
		for {
			k, ok := g.pickKey(t.Provider, tried, g.now())
			if !ok {
				c.note(t, "no key")
				c.step(t, "", "skipped: every key is out of rotation", 0)
				break
			}
			tried[t.Provider.Name+"#"+k.id] = true
			// The last target tried answers for a failure, too.
			c.served, c.keyID = t, k.id
			ep := provider.Endpoint{BaseURL: t.Provider.baseURL, KeyID: k.id, Secret: k.secret, APIVersion: t.Provider.apiVersion, Headers: t.Provider.headers, Client: g.client}
			t0 := time.Now()
			err := fn(ctx, t, ep)
			d := time.Since(t0)
			if err == nil {
				c.step(t, k.id, "ok", d)
				return nil
			}
			last = err
			var pe *provider.Error
			if !errors.As(err, &pe) {
				c.step(t, k.id, err.Error(), d)
				return err
			}
			c.r.UpstreamStatus = pe.Status
			if pe.KeyRejected() {
				until := g.now().Add(t.Provider.ejectFor)
				if g.health.eject(t.Provider.Name+"#"+k.id, until) {
					g.logger.Warn("ai: provider key rejected; out of rotation", "layer", "ai", "provider", t.Provider.Name,
						"key", k.id, "status", pe.Status, "until", until.UTC().Format(time.RFC3339))
				}
				c.step(t, k.id, fmt.Sprintf("key rejected (%d): out of rotation until %s", pe.Status, until.UTC().Format(time.RFC3339)), d)
				if len(t.Provider.keys) > 1 {
					continue
				}
				c.note(t, pe.Reason())
				break
			}
			if !pe.Retryable() {
				c.step(t, k.id, "provider refused: "+pe.Reason(), d)
				return err
			}
			c.step(t, k.id, "failed: "+pe.Reason()+"; trying the next in the chain", d)
			c.note(t, pe.Reason())
			break
		}
		if ctx.Err() != nil {
			return last
		}
	}
	return last
}

// note remembers a failed target for Pinpoint-AI-Fallbacks.
func (c *call) note(t Target, reason string) {
	c.tried = append(c.tried, t.Name()+" ("+reason+")")
}

// step records an attempt in the trace.
func (c *call) step(t Target, keyID, result string, d time.Duration) {
	v := verdict.Pass().With("provider", t.Provider.Name).With("model", t.Model).With("result", result)
	if keyID != "" {
		v = v.With("key", keyID)
	}
	v.Rule = "ai.attempt:" + t.Name()
	c.r.AddStep("ai", v, d)
}

// successHeaders say who served the call and what failed first.
func (c *call) successHeaders(h http.Header) {
	h.Set(HeaderProvider, c.served.Provider.Name)
	h.Set(HeaderModel, c.served.Model)
	if len(c.tried) > 0 {
		h.Set(HeaderFallbacks, strings.Join(c.tried, ", "))
	}
	if c.r.ID != "" {
		h.Set(verdict.HeaderRequestID, c.r.ID)
	}
}

// finish settles the reservation with real usage and fills the call log.
func (c *call) finish(status int, u chat.Usage, model string, estimated bool) {
	g := c.h.g
	t := c.served
	if model == "" {
		model = t.Model
	}
	var cost usage.Micros
	if t.Provider != nil {
		if p, ok := g.prices.Lookup(t.Provider.Name, t.Provider.Kind, model); ok {
			cost = p.Cost(u)
		} else if p, ok := g.prices.Lookup(t.Provider.Name, t.Provider.Kind, t.Model); ok {
			cost = p.Cost(u)
		}
	}
	r := c.r
	rec := usage.Record{RequestID: r.ID, Time: c.start, Endpoint: c.endpoint, Stream: c.stream, Status: status,
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Cost: cost, Latency: time.Since(c.start),
		Fallbacks: len(c.tried), Estimated: estimated}
	if r.Identity != nil {
		rec.Consumer, rec.KeyID = firstNonEmpty(r.Identity.ConsumerID, r.Identity.ConsumerName), r.Identity.KeyID
	}
	if r.Route != nil {
		rec.Route = r.Route.ID
	}
	if t.Provider != nil {
		rec.Provider, rec.Model = t.Provider.Name, t.Provider.Name+"/"+t.Model
		r.Upstream = "ai:" + t.Provider.Name
		r.SetLog("ai.provider", t.Provider.Name)
		r.SetLog("ai.model", t.Model)
		r.SetLog("ai.provider_key", c.keyID)
	}
	if !r.DryRun {
		g.ledger.Settle(c.res, rec)
	}
	r.UpstreamStatus = status
	r.SetLog("ai.requested_model", c.requested)
	r.SetLog("ai.prompt_tokens", u.PromptTokens)
	r.SetLog("ai.completion_tokens", u.CompletionTokens)
	r.SetLog("ai.cost_usd", cost.USD())
	r.SetLog("ai.fallbacks", len(c.tried))
	if len(c.tried) > 0 {
		r.SetLog("ai.tried", strings.Join(c.tried, ", "))
	}
	r.SetLog("ai.latency_ms", float64(time.Since(c.start).Microseconds())/1000)
	r.SetLog("ai.stream", c.stream)
	if estimated {
		r.SetLog("ai.usage_estimated", true)
	}
}

// fail answers a call no provider served: the caller's request could not
// be translated (400), a provider refused it (passed through, marked as
// the provider's), or every target failed (provider_error).
func (c *call) fail(w http.ResponseWriter, err error) {
	c.finish(0, chat.Usage{}, "", false)
	var br *provider.BadRequest
	var pe *provider.Error
	switch {
	case errors.As(err, &br):
		c.h.deny(w, c.r, verdict.Denied("ai_request_invalid", "ai.translate:"+br.Provider, br.Err.Error()))
	case errors.As(err, &pe) && pe.Status != 0:
		c.r.UpstreamStatus = pe.Status
		writeProviderError(w, c.r, c.served, c.tried, pe)
	default:
		detail := "no provider could answer"
		if len(c.tried) > 0 {
			detail += "; tried " + strings.Join(c.tried, ", ")
		}
		v := verdict.Denied("provider_error", "ai.chain:"+c.requested, detail).With("error", err.Error())
		c.r.AddStep("ai", v, time.Since(c.start))
		c.r.Deny(w, v)
	}
}

// writeProviderError passes a provider's refusal through in OpenAI's error
// envelope, marked as the provider's (Pinpoint-Denied-By: upstream), so SDKs
// surface the provider's own message and status.
func writeProviderError(w http.ResponseWriter, r *pipeline.Request, t Target, tried []string, pe *provider.Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(verdict.HeaderDeniedBy, "upstream")
	if r.ID != "" {
		h.Set(verdict.HeaderRequestID, r.ID)
	}
	if t.Provider != nil {
		h.Set(HeaderProvider, t.Provider.Name)
		h.Set(HeaderModel, t.Model)
	}
	if len(tried) > 0 {
		h.Set(HeaderFallbacks, strings.Join(tried, ", "))
	}
	if pe.RetryAfter != "" {
		h.Set("Retry-After", pe.RetryAfter)
	}
	typ := pe.Type
	if typ == "" {
		typ = "upstream_error"
	}
	b := []byte(`{"error":{"message":`)
	b = verdict.AppendString(b, pe.Message)
	b = append(b, `,"type":`...)
	b = verdict.AppendString(b, typ)
	b = append(b, `,"param":null,"code":`...)
	if pe.Code != "" {
		b = verdict.AppendString(b, pe.Code)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"denied_by":"upstream","provider":`...)
	if t.Provider != nil {
		b = verdict.AppendString(b, t.Provider.Name)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"request_id":`...)
	b = verdict.AppendString(b, r.ID)
	b = append(b, "}}\n"...)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	r.DeniedBy = "upstream"
	w.WriteHeader(pe.Status)
	_, _ = w.Write(b)
}
