package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"pinpoint/internal/ai/chat"
	"pinpoint/internal/ai/provider"
)

// Adapter speaks generateContent.
type Adapter struct{}

func init() {
	provider.Register(provider.Kind{Name: "gemini", DefaultBaseURL: "https://generativelanguage.googleapis.com", Adapter: Adapter{}})
}

var (
	_ provider.Adapter  = Adapter{}
	_ provider.Embedder = Adapter{}
)

var now = func() time.Time { return time.Now() }

type part struct {
	Text             string            `json:"text,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
	InlineData       *inlineData       `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
}

type functionCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type functionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type inlineData struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type request struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
	Tools             []toolDecl        `json:"tools,omitempty"`
	ToolConfig        json.RawMessage   `json:"toolConfig,omitempty"`
}

type generationConfig struct {
	Temperature     *float64 `json:"temperature,omitempty"`
	TopP            *float64 `json:"topP,omitempty"`
	MaxOutputTokens int      `json:"maxOutputTokens,omitempty"`
	StopSequences   []string `json:"stopSequences,omitempty"`
}

type toolDecl struct {
	FunctionDeclarations []funcDecl `json:"functionDeclarations"`
}

type funcDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type response struct {
	Candidates []struct {
		Content      content `json:"content"`
		FinishReason string  `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *usageMetadata `json:"usageMetadata"`
	ModelVersion  string         `json:"modelVersion"`
	ResponseID    string         `json:"responseId"`
}

type usageMetadata struct {
	PromptTokenCount     int `json:"promptTokenCount"`
	CandidatesTokenCount int `json:"candidatesTokenCount"`
	ThoughtsTokenCount   int `json:"thoughtsTokenCount"`
	TotalTokenCount      int `json:"totalTokenCount"`
}

// openAI converts usage; thinking tokens are billed as output.
func (u *usageMetadata) openAI() chat.Usage {
	out := chat.Usage{PromptTokens: u.PromptTokenCount, CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	return out
}

func toRequest(r *chat.Request) (*request, error) {
	out := &request{}
	// functionResponse needs the function's name; OpenAI tool messages
	// carry only the call id, so names are looked up from earlier calls.
	names := map[string]string{}
	var system []part
	for i := range r.Messages {
		m := &r.Messages[i]
		switch m.Role {
		case "system", "developer":
			system = append(system, part{Text: m.Content.String()})
		case "user":
			ps, err := parts(m.Content)
			if err != nil {
				return nil, fmt.Errorf("messages[%d]: %w", i, err)
			}
			out.Contents = appendTurn(out.Contents, "user", ps)
		case "assistant":
			var ps []part
			if t := m.Content.String(); t != "" {
				ps = append(ps, part{Text: t})
			}
			for _, tc := range m.ToolCalls {
				names[tc.ID] = tc.Function.Name
				args := json.RawMessage(tc.Function.Arguments)
				if strings.TrimSpace(tc.Function.Arguments) == "" {
					args = json.RawMessage("{}")
				} else if !json.Valid(args) {
					return nil, fmt.Errorf("messages[%d].tool_calls: arguments of %q are not valid JSON", i, tc.Function.Name)
				}
				ps = append(ps, part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: args}})
			}
			if len(ps) > 0 {
				out.Contents = appendTurn(out.Contents, "model", ps)
			}
		case "tool":
			name, ok := names[m.ToolCallID]
			if !ok {
				return nil, fmt.Errorf("messages[%d]: tool_call_id %q matches no earlier tool call", i, m.ToolCallID)
			}
			// Gemini wants an object; a JSON object result is passed as
			// is, anything else is wrapped.
			text := m.Content.String()
			resp := json.RawMessage(text)
			if !json.Valid(resp) || !strings.HasPrefix(strings.TrimSpace(text), "{") {
				resp, _ = json.Marshal(map[string]string{"content": text})
			}
			out.Contents = appendTurn(out.Contents, "user", []part{{FunctionResponse: &functionResponse{Name: name, Response: resp}}})
		default:
			return nil, fmt.Errorf("messages[%d]: unknown role %q", i, m.Role)
		}
	}
	if len(out.Contents) == 0 {
		return nil, errors.New("messages: at least one user message is required")
	}
	if len(system) > 0 {
		out.SystemInstruction = &content{Parts: system}
	}
	gc := generationConfig{Temperature: r.Temperature, TopP: r.TopP, MaxOutputTokens: r.Limit(), StopSequences: r.Stop}
	if gc.Temperature != nil || gc.TopP != nil || gc.MaxOutputTokens > 0 || len(gc.StopSequences) > 0 {
		out.GenerationConfig = &gc
	}
	if len(r.Tools) > 0 {
		var decls []funcDecl
		for _, t := range r.Tools {
			decls = append(decls, funcDecl{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
		}
		out.Tools = []toolDecl{{FunctionDeclarations: decls}}
	}
	if len(r.ToolChoice) > 0 && string(r.ToolChoice) != "null" {
		tc, err := toolConfig(r.ToolChoice)
		if err != nil {
			return nil, err
		}
		out.ToolConfig = tc
	}
	return out, nil
}

func toolConfig(raw json.RawMessage) (json.RawMessage, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		mode := map[string]string{"auto": "AUTO", "required": "ANY", "none": "NONE"}[s]
		if mode == "" {
			return nil, fmt.Errorf("tool_choice %q is not one of auto, required, none", s)
		}
		return json.Marshal(map[string]any{"functionCallingConfig": map[string]string{"mode": mode}})
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Function.Name == "" {
		return nil, errors.New(`tool_choice: want "auto", "required", "none" or {"type":"function","function":{"name":…}}`)
	}
	return json.Marshal(map[string]any{"functionCallingConfig": map[string]any{"mode": "ANY", "allowedFunctionNames": []string{obj.Function.Name}}})
}

func appendTurn(cs []content, role string, ps []part) []content {
	if n := len(cs); n > 0 && cs[n-1].Role == role {
		cs[n-1].Parts = append(cs[n-1].Parts, ps...)
		return cs
	}
	return append(cs, content{Role: role, Parts: ps})
}

func parts(c chat.Content) ([]part, error) {
	if c.Parts == nil {
		return []part{{Text: c.Text}}, nil
	}
	var out []part
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			out = append(out, part{Text: p.Text})
		case "image_url":
			if p.ImageURL == nil {
				return nil, errors.New("image_url part without a url")
			}
			if rest, ok := strings.CutPrefix(p.ImageURL.URL, "data:"); ok {
				meta, data, _ := strings.Cut(rest, ",")
				out = append(out, part{InlineData: &inlineData{MimeType: strings.TrimSuffix(meta, ";base64"), Data: data}})
			} else {
				out = append(out, part{FileData: &fileData{FileURI: p.ImageURL.URL}})
			}
		default:
			return nil, fmt.Errorf("content part type %q is not supported by Gemini models", p.Type)
		}
	}
	return out, nil
}

func finishReason(s string, toolCalls bool) string {
	if toolCalls {
		return chat.FinishToolCalls
	}
	switch s {
	case "MAX_TOKENS":
		return chat.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII":
		return chat.FinishFilter
	}
	return chat.FinishStop
}

func (Adapter) send(ctx context.Context, c *provider.Call, stream bool) (*http.Response, error) {
	gr, err := toRequest(c.Req)
	if err != nil {
		return nil, &provider.BadRequest{Provider: "gemini", Err: err}
	}
	body, err := json.Marshal(gr)
	if err != nil {
		return nil, err
	}
	op := ":generateContent"
	if stream {
		op = ":streamGenerateContent?alt=sse"
	}
	target := strings.TrimRight(c.Endpoint.BaseURL, "/") + "/v1beta/models/" + url.PathEscape(c.Model) + op
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Endpoint.Secret != "" {
		req.Header.Set("x-goog-api-key", c.Endpoint.Secret)
	}
	for k, v := range c.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	return provider.Do(ctx, c.Endpoint.Client, req)
}

// message converts a candidate's parts; callSeq numbers tool-call ids,
// because Gemini's function calls have none.
func message(ct content, id string, callSeq *int) chat.Message {
	msg := chat.Message{Role: "assistant"}
	var text strings.Builder
	for _, p := range ct.Parts {
		switch {
		case p.FunctionCall != nil:
			args := string(p.FunctionCall.Args)
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: fmt.Sprintf("call_%s_%d", id, *callSeq), Type: "function", Function: chat.FunctionCall{Name: p.FunctionCall.Name, Arguments: args}})
			*callSeq++
		default:
			text.WriteString(p.Text)
		}
	}
	msg.Content = chat.Content{Text: text.String(), Null: text.Len() == 0 && len(msg.ToolCalls) > 0}
	return msg
}

func responseID(r *response) string {
	if r.ResponseID != "" {
		return r.ResponseID
	}
	return fmt.Sprintf("gemini-%d", now().UnixNano())
}

// Chat sends a non-streamed completion.
func (a Adapter) Chat(ctx context.Context, c *provider.Call) (*provider.Result, error) {
	resp, err := a.send(ctx, c, false)
	if err != nil {
		return nil, err
	}
	var gr response
	if _, err := provider.ReadJSON(ctx, resp, &gr); err != nil {
		return nil, err
	}
	model := gr.ModelVersion
	if model == "" {
		model = c.Model
	}
	id := responseID(&gr)
	out := &chat.Response{ID: id, Object: "chat.completion", Created: now().Unix(), Model: model}
	seq := 0
	for i, cand := range gr.Candidates {
		msg := message(cand.Content, id, &seq)
		out.Choices = append(out.Choices, chat.Choice{Index: i, Message: msg, FinishReason: finishReason(cand.FinishReason, len(msg.ToolCalls) > 0)})
	}
	var u chat.Usage
	if gr.UsageMetadata != nil {
		u = gr.UsageMetadata.openAI()
	}
	out.Usage = &u
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &provider.Result{Body: body, Usage: u, Model: model}, nil
}

// Stream opens streamGenerateContent with SSE framing.
func (a Adapter) Stream(ctx context.Context, c *provider.Call) (provider.Stream, error) {
	resp, err := a.send(ctx, c, true)
	if err != nil {
		return nil, err
	}
	return &stream{ctx: ctx, body: resp.Body, sse: provider.NewSSE(resp.Body), want: c.WantUsage, model: c.Model, created: now().Unix()}, nil
}

type stream struct {
	ctx     context.Context
	body    io.ReadCloser
	sse     *provider.SSE
	want    bool
	model   string
	id      string
	created int64
	started bool
	calls   int
	finish  string
	usage   chat.Usage
	hasUse  bool
	ended   bool
}

func (s *stream) chunk() *chat.Chunk {
	return &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model, Choices: []chat.ChunkChoice{{}}}
}

// Next translates one Gemini event. Gemini has no end marker: the stream
// ends with the body, and the last event carries the finish reason.
func (s *stream) Next() (*chat.Chunk, error) {
	for {
		if s.ended {
			return nil, io.EOF
		}
		_, data, err := s.sse.Next()
		if err == io.EOF {
			s.ended = true
			if s.finish == "" {
				return nil, provider.Transport(s.ctx, io.ErrUnexpectedEOF)
			}
			if s.want && s.hasUse {
				ch := s.chunk()
				ch.Choices = []chat.ChunkChoice{}
				u := s.usage
				ch.Usage = &u
				return ch, nil
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, provider.Transport(s.ctx, err)
		}
		var gr response
		if err := json.Unmarshal(data, &gr); err != nil {
			return nil, &provider.Error{Status: http.StatusBadGateway, Message: "provider sent an invalid stream event: " + err.Error()}
		}
		if gr.UsageMetadata != nil {
			// Cumulative: the last report is the total.
			s.usage, s.hasUse = gr.UsageMetadata.openAI(), true
		}
		if s.id == "" {
			s.id = responseID(&gr)
		}
		if gr.ModelVersion != "" {
			s.model = gr.ModelVersion
		}
		if len(gr.Candidates) == 0 {
			continue
		}
		cand := gr.Candidates[0]
		ch := s.chunk()
		d := &ch.Choices[0].Delta
		if !s.started {
			s.started = true
			d.Role = "assistant"
		}
		var text strings.Builder
		for _, p := range cand.Content.Parts {
			if p.FunctionCall != nil {
				args := string(p.FunctionCall.Args)
				if args == "" {
					args = "{}"
				}
				d.ToolCalls = append(d.ToolCalls, chat.ToolCall{Index: chat.Ptr(s.calls), ID: fmt.Sprintf("call_%s_%d", s.id, s.calls), Type: "function", Function: chat.FunctionCall{Name: p.FunctionCall.Name, Arguments: args}})
				s.calls++
				continue
			}
			text.WriteString(p.Text)
		}
		if text.Len() > 0 || d.Role != "" {
			d.Content = chat.Ptr(text.String())
		}
		if cand.FinishReason != "" {
			s.finish = finishReason(cand.FinishReason, s.calls > 0)
			ch.Choices[0].FinishReason = chat.Ptr(s.finish)
		}
		return ch, nil
	}
}

func (s *stream) Usage() (chat.Usage, bool) { return s.usage, s.hasUse }

func (s *stream) Close() error { return s.body.Close() }

// Embed calls batchEmbedContents. Gemini reports no token usage for
// embeddings, so it is estimated from the input.
func (Adapter) Embed(ctx context.Context, c *provider.EmbedCall) (*provider.Result, error) {
	type req struct {
		Model   string  `json:"model"`
		Content content `json:"content"`
	}
	var batch struct {
		Requests []req `json:"requests"`
	}
	tokens := 0
	for _, in := range c.Req.Input {
		batch.Requests = append(batch.Requests, req{Model: "models/" + c.Model, Content: content{Parts: []part{{Text: in}}}})
		tokens += chat.EstimateTextTokens(in)
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return nil, err
	}
	target := strings.TrimRight(c.Endpoint.BaseURL, "/") + "/v1beta/models/" + url.PathEscape(c.Model) + ":batchEmbedContents"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	if c.Endpoint.Secret != "" {
		hr.Header.Set("x-goog-api-key", c.Endpoint.Secret)
	}
	resp, err := provider.Do(ctx, c.Endpoint.Client, hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Embeddings []struct {
			Values []float64 `json:"values"`
		} `json:"embeddings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, &provider.Error{Status: http.StatusBadGateway, Message: "provider answered with invalid JSON: " + err.Error()}
	}
	er := chat.EmbeddingResponse{Object: "list", Model: c.Model, Usage: chat.Usage{PromptTokens: tokens, TotalTokens: tokens}}
	for i, e := range out.Embeddings {
		er.Data = append(er.Data, chat.Embedding{Object: "embedding", Index: i, Embedding: e.Values})
	}
	data, err := json.Marshal(er)
	if err != nil {
		return nil, err
	}
	return &provider.Result{Body: data, Usage: er.Usage, Model: c.Model}, nil
}
