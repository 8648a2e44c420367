package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// readJSON buffers the body and decodes it into v, answering
// ai_request_invalid (or body_too_large) itself when it cannot.
func (h *Handler) readJSON(w http.ResponseWriter, r *pipeline.Request, v any) ([]byte, bool) {
	body, err := r.Body()
	if errors.Is(err, pipeline.ErrBodyTooLarge) {
		h.deny(w, r, verdict.Denied("body_too_large", "ai.max_body", fmt.Sprintf("the request body is larger than %d bytes", r.MaxBody)))
		return nil, false
	}
	if err != nil {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", "the request body could not be read"))
		return nil, false
	}
	if len(body) == 0 {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", "the request body is empty; send a JSON object"))
		return nil, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", "the request body is not valid for this endpoint: "+jsonError(err)))
		return nil, false
	}
	return body, true
}

// jsonError words a decoding error for the caller, naming the field.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %q: want %s, got JSON %s", te.Field, te.Type.String(), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
	}
	return err.Error()
}

func (h *Handler) serveChat(w http.ResponseWriter, r *pipeline.Request) {
	var req chat.Request
	raw, ok := h.readJSON(w, r, &req)
	if !ok {
		return
	}
	if !h.validChat(w, r, &req) {
		return
	}
	h.complete(w, r, &req, raw)
}

func (h *Handler) validChat(w http.ResponseWriter, r *pipeline.Request, req *chat.Request) bool {
	switch {
	case req.Model == "":
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", `the "model" field is required (GET /v1/models lists yours)`))
		return false
	case len(req.Messages) == 0:
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", `the "messages" field must hold at least one message`))
		return false
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.body", fmt.Sprintf("messages[%d].role %q is not one of system, developer, user, assistant, tool", i, m.Role)))
			return false
		}
	}
	return true
}

// complete runs a chat completion (streamed or not) through admission and
// the fallback chain. raw is the caller's body (nil for templates).
func (h *Handler) complete(w http.ResponseWriter, r *pipeline.Request, req *chat.Request, raw []byte) {
	est := chat.EstimatePromptTokens(req.Messages, req.Tools)
	c := h.admit(w, r, "chat", req.Model, est, req.Limit())
	if c == nil {
		return
	}
	if r.DryRun {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.stream = req.Stream
	if req.Stream {
		h.stream(w, c, req, raw)
		return
	}
	ctx := r.HTTP.Context()
	var res *provider.Result
	err := c.run(ctx, nil, func(ctx context.Context, t Target, ep provider.Endpoint) error {
		actx, cancel := context.WithTimeout(ctx, t.Provider.timeout)
		defer cancel()
		var err error
		res, err = t.Provider.adapter.Chat(actx, &provider.Call{Endpoint: ep, Model: t.Model, Req: req, Raw: raw})
		return err
	})
	if err != nil {
		c.fail(w, err)
		return
	}
	c.writeResult(w, res)
}

// stream runs a streamed completion. The first event is read before
// anything is written, so a provider that fails before it still falls
// back; once a byte has gone to the caller there is no fallback, and a
// failure ends the stream with an error event.
func (h *Handler) stream(w http.ResponseWriter, c *call, req *chat.Request, raw []byte) {
	ctx := c.r.HTTP.Context()
	want := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	var (
		st     provider.Stream
		first  *chat.Chunk
		cancel context.CancelFunc
	)
	err := c.run(ctx, nil, func(ctx context.Context, t Target, ep provider.Endpoint) error {
		sctx, stop := context.WithCancel(ctx)
		// The attempt's timeout covers the wait for the first event
		// only: a model may write for longer than that.
		timer := time.AfterFunc(t.Provider.timeout, stop)
		s, err := t.Provider.adapter.Stream(sctx, &provider.Call{Endpoint: ep, Model: t.Model, Req: req, Raw: raw, WantUsage: want})
		if err != nil {
			timer.Stop()
			stop()
			return err
		}
		ch, err := s.Next()
		timer.Stop()
		if err != nil && err != io.EOF {
			s.Close()
			stop()
			return err
		}
		st, first, cancel = s, ch, stop
		return nil
	})
	if err != nil {
		c.fail(w, err)
		return
	}
	defer cancel()
	defer st.Close()
	hd := w.Header()
	c.successHeaders(hd)
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var (
		buf    []byte
		text   int
		model  string
		ch     = first
		werr   error
		upErr  error
		events int
	)
	for ch != nil {
		if ch.Model != "" {
			model = ch.Model
		}
		for _, cc := range ch.Choices {
			if cc.Delta.Content != nil {
				text += len(*cc.Delta.Content)
			}
			for _, tc := range cc.Delta.ToolCalls {
				text += len(tc.Function.Name) + len(tc.Function.Arguments)
			}
		}
		buf = append(buf[:0], "data: "...)
		b, err := json.Marshal(ch)
		if err != nil {
			upErr = err
			break
		}
		buf = append(append(buf, b...), "\n\n"...)
		if _, werr = w.Write(buf); werr != nil {
			break
		}
		if werr = rc.Flush(); werr != nil {
			break
		}
		events++
		ch, err = st.Next()
		if err == io.EOF {
			ch = nil
			break
		}
		if err != nil {
			upErr = err
			ch = nil
		}
	}
	switch {
	case werr != nil:
		// The caller went away: stop reading the provider.
	case upErr != nil:
		c.r.AddStep("ai", verdict.Pass().With("result", "stream failed after "+strconv.Itoa(events)+" events: "+upErr.Error()).With("provider", c.served.Provider.Name), time.Since(c.start))
		buf = append(buf[:0], `data: {"error":{"message":`...)
		buf = verdict.AppendString(buf, "the provider's stream failed after it started: "+upErr.Error())
		buf = append(buf, `,"type":"api_error","param":null,"code":"provider_error","provider":`...)
		buf = verdict.AppendString(buf, c.served.Provider.Name)
		buf = append(buf, `,"request_id":`...)
		buf = verdict.AppendString(buf, c.r.ID)
		buf = append(buf, "}}\n\n"...)
		_, _ = w.Write(buf)
		_ = rc.Flush()
	default:
		_, _ = w.Write([]byte("data: [DONE]\n\n"))
		_ = rc.Flush()
	}
	u, ok := st.Usage()
	estimated := false
	if !ok || (u.PromptTokens == 0 && u.CompletionTokens == 0) {
		// A stream that ended without usage (cut short, or a provider
		// that never reports it) is billed on an estimate, never at zero.
		u = chat.Usage{PromptTokens: c.estPrompt, CompletionTokens: chat.EstimateBytes(text)}
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		estimated = true
	} else if upErr != nil || werr != nil {
		// Usage so far: completion counts may lag the text already sent.
		if est := chat.EstimateBytes(text); est > u.CompletionTokens {
			u.CompletionTokens, estimated = est, true
		}
	}
	c.finish(http.StatusOK, u, model, estimated)
}

// writeResult settles usage and writes a provider's non-streamed answer.
func (c *call) writeResult(w http.ResponseWriter, res *provider.Result) {
	c.finish(http.StatusOK, res.Usage, res.Model, false)
	hd := w.Header()
	c.successHeaders(hd)
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Body)
}
