package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
	"pinpoint/internal/ai/provider/anthropic"
	"pinpoint/internal/ai/template"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// serveModels lists the models the caller may use (GET /v1/models).
func (h *Handler) serveModels(w http.ResponseWriter, r *pipeline.Request) {
	g := h.g
	bs := g.policiesFor(r.Identity, h.policy)
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, name := range g.modelNames() {
		t, _, msg := g.resolve(name)
		if msg != "" || !allowedBy(bs, name, t.Name()) {
			continue
		}
		owner := t.Provider.Name
		if _, isAlias := g.aliases[name]; isAlias {
			owner = "pinpoint"
		}
		out.Data = append(out.Data, model{ID: name, Object: "model", OwnedBy: owner})
	}
	body, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	r.AddStep("ai", verdict.Pass().With("models", strconv.Itoa(len(out.Data))), 0)
	w.WriteHeader(http.StatusOK)
	if r.HTTP.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serveEmbeddings answers POST /v1/embeddings.
func (h *Handler) serveEmbeddings(w http.ResponseWriter, r *pipeline.Request) {
	var req chat.EmbeddingRequest
	raw, ok := h.readJSON(w, r, &req)
	if !ok {
		return
	}
	if req.Model == "" || len(req.Input) == 0 {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", `"model" and "input" (a string or a list of strings) are required`))
		return
	}
	est := 0
	for _, in := range req.Input {
		est += chat.EstimateTextTokens(in)
	}
	c := h.admit(w, r, "embeddings", req.Model, est, -1)
	if c == nil {
		return
	}
	if r.DryRun {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	embedder := func(t Target) bool {
		_, ok := t.Provider.adapter.(provider.Embedder)
		return ok
	}
	if !embedder(c.chain[0]) {
		c.fail(w, &provider.BadRequest{Provider: c.chain[0].Provider.Name, Err: fmt.Errorf("model %q is served by a %s provider, which offers no embeddings", req.Model, c.chain[0].Provider.Kind)})
		return
	}
	var res *provider.Result
	err := c.run(r.HTTP.Context(), embedder, func(ctx context.Context, t Target, ep provider.Endpoint) error {
		actx, cancel := context.WithTimeout(ctx, t.Provider.timeout)
		defer cancel()
		var err error
		res, err = t.Provider.adapter.(provider.Embedder).Embed(actx, &provider.EmbedCall{Endpoint: ep, Model: t.Model, Req: &req, Raw: raw})
		return err
	})
	if err != nil {
		c.fail(w, err)
		return
	}
	c.writeResult(w, res)
}

// serveTemplate answers a prompt-template route: the body is a JSON object
// of variables, the answer a chat completion.
func (h *Handler) serveTemplate(w http.ResponseWriter, r *pipeline.Request) {
	t := h.g.templates[h.tmpl]
	var vars map[string]json.RawMessage
	if _, ok := h.readJSON(w, r, &vars); !ok {
		return
	}
	if vars == nil {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.templates."+t.Name, "the body must be a JSON object of template variables"))
		return
	}
	msgs, err := t.Render(vars)
	if err != nil {
		ve := err.(*template.VarError)
		rule := "ai.templates." + t.Name
		switch {
		case len(ve.Missing) > 0:
			h.deny(w, r, verdict.Denied("template_variable_missing", rule, ve.Error()))
		case len(ve.Unknown) > 0:
			h.deny(w, r, verdict.Denied("template_variable_unknown", rule, ve.Error()))
		default:
			h.deny(w, r, verdict.Denied("ai_request_invalid", rule, ve.Error()))
		}
		return
	}
	r.SetLog("ai.template", t.Name)
	h.complete(w, r, t.Request(msgs), nil)
}

// nativeRequest is the part of an Anthropic Messages body the gateway
// reads; the rest is forwarded untouched.
type nativeRequest struct {
	Model     string            `json:"model"`
	Stream    bool              `json:"stream"`
	MaxTokens int               `json:"max_tokens"`
	Messages  []json.RawMessage `json:"messages"`
}

// serveMessages answers Anthropic's POST /v1/messages for clients that
// speak it, under the same keys and policies. Only Anthropic models can
// serve it; the body goes to them unchanged.
func (h *Handler) serveMessages(w http.ResponseWriter, r *pipeline.Request) {
	var req nativeRequest
	raw, ok := h.readJSON(w, r, &req)
	if !ok {
		return
	}
	if req.Model == "" || len(req.Messages) == 0 || req.MaxTokens <= 0 {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", `"model", "messages" and "max_tokens" are required by the Messages API`))
		return
	}
	c := h.admit(w, r, "messages", req.Model, len(raw)/4, req.MaxTokens)
	if c == nil {
		return
	}
	if r.DryRun {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	isAnthropic := func(t Target) bool { return t.Provider.Kind == "anthropic" }
	if !isAnthropic(c.chain[0]) {
		c.fail(w, &provider.BadRequest{Provider: c.chain[0].Provider.Name, Err: fmt.Errorf("model %q is served by a %s provider; /v1/messages serves Anthropic models, use /v1/chat/completions for this one", req.Model, c.chain[0].Provider.Kind)})
		return
	}
	c.stream = req.Stream
	var (
		resp   *http.Response
		sse    *provider.SSE
		ev     []byte
		data   []byte
		cancel context.CancelFunc
	)
	err := c.run(r.HTTP.Context(), isAnthropic, func(ctx context.Context, t Target, ep provider.Endpoint) error {
		actx, stop := context.WithCancel(ctx)
		timer := time.AfterFunc(t.Provider.timeout, stop)
		rs, err := anthropic.Native(actx, ep, t.Model, raw)
		if err != nil {
			timer.Stop()
			stop()
			return err
		}
		if req.Stream {
			// As for chat streams: the first event decides, before any
			// byte reaches the caller.
			s := provider.NewSSE(rs.Body)
			e, d, err := s.Next()
			timer.Stop()
			if err != nil {
				rs.Body.Close()
				stop()
				return provider.Transport(ctx, err)
			}
			sse, ev, data = s, append([]byte(nil), e...), append([]byte(nil), d...)
		} else {
			timer.Stop()
		}
		resp, cancel = rs, stop
		return nil
	})
	if err != nil {
		c.fail(w, err)
		return
	}
	defer cancel()
	defer resp.Body.Close()
	hd := w.Header()
	c.successHeaders(hd)
	if !req.Stream {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			c.fail(w, provider.Transport(r.HTTP.Context(), err))
			return
		}
		u, model, _ := anthropic.NativeUsage(body)
		c.finish(http.StatusOK, u, model, false)
		hd.Set("Content-Type", "application/json")
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var tr anthropic.UsageTracker
	var buf bytes.Buffer
	sent := 0
	for {
		tr.Observe(data)
		buf.Reset()
		if len(ev) > 0 {
			buf.WriteString("event: ")
			buf.Write(ev)
			buf.WriteByte('\n')
		}
		buf.WriteString("data: ")
		buf.Write(data)
		buf.WriteString("\n\n")
		sent += len(data)
		if _, err := w.Write(buf.Bytes()); err != nil {
			break
		}
		if rc.Flush() != nil {
			break
		}
		var err error
		ev, data, err = sse.Next()
		if err != nil {
			break
		}
	}
	u, model, ok := tr.Usage()
	estimated := false
	if !ok || u.CompletionTokens == 0 {
		u.PromptTokens = max(u.PromptTokens, c.estPrompt)
		u.CompletionTokens = max(u.CompletionTokens, chat.EstimateBytes(sent/2))
		estimated = true
	}
	c.finish(http.StatusOK, u, model, estimated)
}
