package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
)

// flavor is what differs between OpenAI-compatible providers.
type flavor struct {
	// auth is "bearer", "api-key" (Azure) or "" (none unless a key is set).
	auth string
	// streamUsage is whether the provider understands
	// stream_options.include_usage; Mistral reports usage in its last
	// chunk without it and rejects unknown fields.
	streamUsage bool
	// azure builds deployment URLs with an api-version.
	azure bool
}

// Adapter talks to one flavor of OpenAI-compatible API.
type Adapter struct{ f flavor }

func init() {
	provider.Register(provider.Kind{Name: "openai", DefaultBaseURL: "https://api.openai.com/v1", Adapter: &Adapter{flavor{auth: "bearer", streamUsage: true}}})
	provider.Register(provider.Kind{Name: "azure", NeedsAPIVersion: true, Adapter: &Adapter{flavor{auth: "api-key", streamUsage: true, azure: true}}})
	provider.Register(provider.Kind{Name: "mistral", DefaultBaseURL: "https://api.mistral.ai/v1", Adapter: &Adapter{flavor{auth: "bearer"}}})
	provider.Register(provider.Kind{Name: "ollama", DefaultBaseURL: "http://127.0.0.1:11434/v1", KeyOptional: true, Adapter: &Adapter{flavor{auth: "bearer", streamUsage: true}}})
	provider.Register(provider.Kind{Name: "compatible", KeyOptional: true, Adapter: &Adapter{flavor{auth: "bearer", streamUsage: true}}})
}

var (
	_ provider.Adapter  = (*Adapter)(nil)
	_ provider.Embedder = (*Adapter)(nil)
)

func (a *Adapter) url(ep *provider.Endpoint, model, op string) string {
	base := strings.TrimRight(ep.BaseURL, "/")
	if a.f.azure {
		return base + "/openai/deployments/" + url.PathEscape(model) + "/" + op + "?api-version=" + url.QueryEscape(ep.APIVersion)
	}
	return base + "/" + op
}

func (a *Adapter) newRequest(ctx context.Context, ep *provider.Endpoint, target string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if ep.Secret != "" {
		if a.f.auth == "api-key" {
			req.Header.Set("api-key", ep.Secret)
		} else {
			req.Header.Set("Authorization", "Bearer "+ep.Secret)
		}
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// body builds the upstream body: the caller's fields, with the provider's
// model name and, for streams, a request for the final usage chunk.
func (a *Adapter) body(c *provider.Call) ([]byte, error) {
	src := c.Raw
	if src == nil {
		b, err := json.Marshal(c.Req)
		if err != nil {
			return nil, err
		}
		src = b
	}
	model, err := json.Marshal(c.Model)
	if err != nil {
		return nil, err
	}
	set := []field{{"model", model}}
	if !c.Req.Stream {
		return rewrite(src, set)
	}
	set = append(set, field{"stream", []byte("true")})
	if a.f.streamUsage {
		return rewrite(src, append(set, field{"stream_options", []byte(`{"include_usage":true}`)}))
	}
	return rewrite(src, set, "stream_options")
}

// response is the part of a chat.completion the gateway reads.
type response struct {
	Model string      `json:"model"`
	Usage *chat.Usage `json:"usage"`
}

// Chat sends a non-streamed completion and passes the answer through.
func (a *Adapter) Chat(ctx context.Context, c *provider.Call) (*provider.Result, error) {
	body, err := a.body(c)
	if err != nil {
		return nil, fmt.Errorf("openai: building request: %w", err)
	}
	return a.post(ctx, &c.Endpoint, c.Model, "chat/completions", body)
}

// Stream opens a streamed completion.
func (a *Adapter) Stream(ctx context.Context, c *provider.Call) (provider.Stream, error) {
	body, err := a.body(c)
	if err != nil {
		return nil, fmt.Errorf("openai: building request: %w", err)
	}
	req, err := a.newRequest(ctx, &c.Endpoint, a.url(&c.Endpoint, c.Model, "chat/completions"), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := provider.Do(ctx, c.Endpoint.Client, req)
	if err != nil {
		return nil, err
	}
	return &stream{ctx: ctx, body: resp.Body, sse: provider.NewSSE(resp.Body), want: c.WantUsage}, nil
}

type stream struct {
	ctx     context.Context
	body    io.ReadCloser
	sse     *provider.SSE
	want    bool
	usage   chat.Usage
	hasUse  bool
	done    bool
	pending *chat.Chunk
}

func (s *stream) Next() (*chat.Chunk, error) {
	for {
		if s.done {
			return nil, io.EOF
		}
		_, data, err := s.sse.Next()
		if err == io.EOF {
			// A stream that ends without [DONE] was cut short.
			return nil, provider.Transport(s.ctx, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, provider.Transport(s.ctx, err)
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			s.done = true
			return nil, io.EOF
		}
		if bytes.HasPrefix(data, []byte(`{"error"`)) {
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			_ = json.Unmarshal(data, &e)
			return nil, &provider.Error{Status: http.StatusBadGateway, Message: e.Error.Message, Type: e.Error.Type}
		}
		ch := new(chat.Chunk)
		if err := json.Unmarshal(data, ch); err != nil {
			return nil, &provider.Error{Status: http.StatusBadGateway, Message: "provider sent an invalid stream event: " + err.Error()}
		}
		if ch.Usage != nil {
			s.usage, s.hasUse = *ch.Usage, true
			if !s.want {
				// The gateway asked for usage, not the caller: keep the
				// caller's stream as it would have been.
				if len(ch.Choices) == 0 {
					continue
				}
				ch.Usage = nil
			}
		}
		return ch, nil
	}
}

func (s *stream) Usage() (chat.Usage, bool) { return s.usage, s.hasUse }

func (s *stream) Close() error { return s.body.Close() }

// Embed forwards an embeddings request.
func (a *Adapter) Embed(ctx context.Context, c *provider.EmbedCall) (*provider.Result, error) {
	src := c.Raw
	if src == nil {
		var err error
		if src, err = json.Marshal(c.Req); err != nil {
			return nil, err
		}
	}
	model, _ := json.Marshal(c.Model)
	body, err := rewrite(src, []field{{"model", model}})
	if err != nil {
		return nil, err
	}
	return a.post(ctx, &c.Endpoint, c.Model, "embeddings", body)
}

// post sends a JSON body to an endpoint and passes the answer through,
// reading the model and usage it reports.
func (a *Adapter) post(ctx context.Context, ep *provider.Endpoint, model, path string, body []byte) (*provider.Result, error) {
	req, err := a.newRequest(ctx, ep, a.url(ep, model, path), body)
	if err != nil {
		return nil, err
	}
	resp, err := provider.Do(ctx, ep.Client, req)
	if err != nil {
		return nil, err
	}
	var r response
	data, err := provider.ReadJSON(ctx, resp, &r)
	if err != nil {
		return nil, err
	}
	res := &provider.Result{Body: data, Model: r.Model}
	if r.Usage != nil {
		res.Usage = *r.Usage
	}
	return res, nil
}
