package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
)

// Adapter speaks the Messages API.
type Adapter struct{}

func init() {
	provider.Register(provider.Kind{Name: "anthropic", DefaultBaseURL: "https://api.anthropic.com", Adapter: Adapter{}})
}

var _ provider.Adapter = Adapter{}

// now is the clock for the "created" field; tests pin it.
var now = func() int64 { return time.Now().Unix() }

func newRequest(ctx context.Context, ep *provider.Endpoint, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(ep.BaseURL, "/")+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", Version)
	if ep.Secret != "" {
		req.Header.Set("x-api-key", ep.Secret)
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

func (Adapter) send(ctx context.Context, c *provider.Call, stream bool) (*http.Response, error) {
	r := *c.Req
	r.Stream = stream
	ar, err := toRequest(c.Model, &r)
	if err != nil {
		return nil, &provider.BadRequest{Provider: "anthropic", Err: err}
	}
	body, err := json.Marshal(ar)
	if err != nil {
		return nil, err
	}
	req, err := newRequest(ctx, &c.Endpoint, body)
	if err != nil {
		return nil, err
	}
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	return provider.Do(ctx, c.Endpoint.Client, req)
}

// Chat sends a non-streamed completion and translates the answer.
func (a Adapter) Chat(ctx context.Context, c *provider.Call) (*provider.Result, error) {
	resp, err := a.send(ctx, c, false)
	if err != nil {
		return nil, err
	}
	var ar response
	if _, err := provider.ReadJSON(ctx, resp, &ar); err != nil {
		return nil, err
	}
	cr := fromResponse(&ar, now())
	body, err := json.Marshal(cr)
	if err != nil {
		return nil, err
	}
	return &provider.Result{Body: body, Usage: *cr.Usage, Model: ar.Model}, nil
}

// Stream opens a streamed completion, translated event by event.
func (a Adapter) Stream(ctx context.Context, c *provider.Call) (provider.Stream, error) {
	resp, err := a.send(ctx, c, true)
	if err != nil {
		return nil, err
	}
	return &stream{ctx: ctx, body: resp.Body, sse: provider.NewSSE(resp.Body), want: c.WantUsage, created: now(), tools: map[int]int{}}, nil
}

type stream struct {
	ctx     context.Context
	body    io.ReadCloser
	sse     *provider.SSE
	want    bool
	created int64
	id      string
	model   string
	// tools maps an Anthropic content-block index to the OpenAI tool-call
	// index: OpenAI numbers tool calls only, Anthropic numbers all blocks.
	tools   map[int]int
	usage   usage
	hasUse  bool
	stopped bool
	ended   bool
}

func (s *stream) chunk() *chat.Chunk {
	return &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model, Choices: []chat.ChunkChoice{{}}}
}

func (s *stream) Next() (*chat.Chunk, error) {
	for {
		if s.ended {
			return nil, io.EOF
		}
		_, data, err := s.sse.Next()
		if err == io.EOF {
			return nil, provider.Transport(s.ctx, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, provider.Transport(s.ctx, err)
		}
		var ev event
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, &provider.Error{Status: http.StatusBadGateway, Message: "provider sent an invalid stream event: " + err.Error()}
		}
		switch ev.Type {
		case "message_start":
			if ev.Message == nil {
				continue
			}
			s.id, s.model = ev.Message.ID, ev.Message.Model
			s.usage, s.hasUse = ev.Message.Usage, true
			ch := s.chunk()
			ch.Choices[0].Delta = chat.Delta{Role: "assistant", Content: chat.Ptr("")}
			return ch, nil
		case "content_block_start":
			if ev.ContentBlock == nil || ev.ContentBlock.Type != "tool_use" {
				continue
			}
			idx := len(s.tools)
			s.tools[ev.Index] = idx
			ch := s.chunk()
			ch.Choices[0].Delta.ToolCalls = []chat.ToolCall{{Index: chat.Ptr(idx), ID: ev.ContentBlock.ID, Type: "function", Function: chat.FunctionCall{Name: ev.ContentBlock.Name}}}
			return ch, nil
		case "content_block_delta":
			if ev.Delta == nil {
				continue
			}
			ch := s.chunk()
			switch ev.Delta.Type {
			case "text_delta":
				ch.Choices[0].Delta.Content = chat.Ptr(ev.Delta.Text)
			case "input_json_delta":
				idx, ok := s.tools[ev.Index]
				if !ok {
					continue
				}
				ch.Choices[0].Delta.ToolCalls = []chat.ToolCall{{Index: chat.Ptr(idx), Function: chat.FunctionCall{Arguments: ev.Delta.PartialJSON}}}
			default:
				continue // thinking and signature deltas have no OpenAI form
			}
			return ch, nil
		case "message_delta":
			// message_delta usage is cumulative: it replaces, never adds.
			if ev.Usage != nil {
				s.mergeUsage(*ev.Usage)
			}
			if ev.Delta == nil || ev.Delta.StopReason == "" {
				continue
			}
			s.stopped = true
			ch := s.chunk()
			ch.Choices[0].FinishReason = chat.Ptr(finishReason(ev.Delta.StopReason))
			return ch, nil
		case "message_stop":
			s.ended = true
			if !s.want {
				return nil, io.EOF
			}
			u := s.openAIUsage()
			ch := s.chunk()
			ch.Choices = []chat.ChunkChoice{}
			ch.Usage = &u
			return ch, nil
		case "error":
			e := &provider.Error{Status: http.StatusBadGateway, Message: "provider stream error"}
			if ev.Error != nil {
				e.Message, e.Type = ev.Error.Message, ev.Error.Type
				if ev.Error.Type == "overloaded_error" {
					e.Status = 529
				}
			}
			return nil, e
		default:
			continue // ping, content_block_stop
		}
	}
}

// mergeUsage applies a message_delta's cumulative counts. Output tokens
// are always present; input counts appear there only on some API
// versions, and then they are totals too.
func (s *stream) mergeUsage(u usage) {
	s.hasUse = true
	s.usage.OutputTokens = u.OutputTokens
	if u.InputTokens > 0 {
		s.usage.InputTokens = u.InputTokens
	}
	if u.CacheCreationInputTokens > 0 {
		s.usage.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.CacheReadInputTokens > 0 {
		s.usage.CacheReadInputTokens = u.CacheReadInputTokens
	}
}

func (s *stream) openAIUsage() chat.Usage {
	u := chat.Usage{PromptTokens: s.usage.prompt(), CompletionTokens: s.usage.OutputTokens}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func (s *stream) Usage() (chat.Usage, bool) { return s.openAIUsage(), s.hasUse }

func (s *stream) Close() error { return s.body.Close() }

// Native sends a caller's own Messages body (POST /v1/messages) with the
// provider's model name, for clients that speak Anthropic's API.
func Native(ctx context.Context, ep provider.Endpoint, model string, raw []byte) (*http.Response, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, &provider.BadRequest{Provider: "anthropic", Err: fmt.Errorf("body is not a JSON object: %w", err)}
	}
	fields["model"], _ = json.Marshal(model)
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	req, err := newRequest(ctx, &ep, body)
	if err != nil {
		return nil, err
	}
	return provider.Do(ctx, ep.Client, req)
}

// NativeUsage reads usage from a non-streamed Messages answer.
func NativeUsage(body []byte) (chat.Usage, string, bool) {
	var r response
	if json.Unmarshal(body, &r) != nil {
		return chat.Usage{}, "", false
	}
	u := chat.Usage{PromptTokens: r.Usage.prompt(), CompletionTokens: r.Usage.OutputTokens}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u, r.Model, true
}

// UsageTracker follows a native stream's events to find its usage: the
// input count of message_start and the cumulative counts of message_delta.
type UsageTracker struct {
	s stream
}

// Observe reads one event's data.
func (t *UsageTracker) Observe(data []byte) {
	var ev event
	if json.Unmarshal(data, &ev) != nil {
		return
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			t.s.usage, t.s.hasUse, t.s.model = ev.Message.Usage, true, ev.Message.Model
		}
	case "message_delta":
		if ev.Usage != nil {
			t.s.mergeUsage(*ev.Usage)
		}
	}
}

// Usage is the usage seen so far and the model that answered.
func (t *UsageTracker) Usage() (chat.Usage, string, bool) {
	return t.s.openAIUsage(), t.s.model, t.s.hasUse
}
