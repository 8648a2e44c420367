package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

type oaMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []oaToolCall    `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaRequest struct {
	Model         string      `json:"model"`
	Messages      []oaMessage `json:"messages"`
	Stream        bool        `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// text returns the text of OpenAI content (a string or parts).
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func openAIError(w http.ResponseWriter, status int, typ, msg string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": typ}})
	writeJSON(w, status, body)
}

func statusError(w http.ResponseWriter, status int, write func(http.ResponseWriter, int, string, string)) {
	switch status {
	case 429:
		write(w, status, "rate_limit_exceeded", "mock: rate limit reached for requests")
	case 400:
		write(w, status, "invalid_request_error", "mock: this model rejects every request")
	default:
		write(w, status, "server_error", fmt.Sprintf("mock: the server had an error (%d)", status))
	}
}

func (s *Server) openAIChat(w http.ResponseWriter, r *http.Request, body []byte) {
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if key == "" {
		key = r.Header.Get("api-key") // Azure
	}
	if badKey(key) {
		openAIError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided.")
		return
	}
	var req oaRequest
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, 400, "invalid_request_error", "We could not parse the JSON body of your request: "+err.Error())
		return
	}
	if req.Model == "" && !strings.Contains(r.URL.Path, "/deployments/") {
		openAIError(w, 400, "invalid_request_error", "you must provide a model parameter")
		return
	}
	if strings.Contains(r.URL.Path, "/deployments/") {
		req.Model = strings.Split(strings.SplitAfter(r.URL.Path, "/deployments/")[1], "/")[0]
	}
	if len(req.Messages) == 0 {
		openAIError(w, 400, "invalid_request_error", "'messages' must contain at least one message")
		return
	}
	b := behaviourOf(req.Model)
	if !s.wait(r, b) {
		return
	}
	if b.status != 0 {
		statusError(w, b.status, openAIError)
		return
	}
	prompt := 0
	last, lastRole, lastTool := "", "", ""
	for _, m := range req.Messages {
		t := text(m.Content)
		prompt += 3 + words(t)
		lastRole = m.Role
		if m.Role == "user" {
			last = t
		}
		if m.Role == "tool" {
			lastTool = t
		}
	}
	content, finish := reply(last), "stop"
	var call *oaToolCall
	switch {
	case lastRole == "tool":
		content = "Tool result: " + lastTool
	case len(req.Tools) > 0:
		args, _ := json.Marshal(map[string]string{"query": last})
		call = &oaToolCall{ID: "call_mock_1", Type: "function"}
		call.Function.Name, call.Function.Arguments = req.Tools[0].Function.Name, string(args)
		content, finish = "", "tool_calls"
	}
	completion := words(content)
	if call != nil {
		completion = 5
	}
	usage := map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
	id := "chatcmpl-mock"
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": content}
		if call != nil {
			msg["content"] = nil
			msg["tool_calls"] = []*oaToolCall{call}
		}
		out, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion", "created": 1700000000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage})
		writeJSON(w, 200, out)
		return
	}
	send := sse(w)
	chunk := func(delta map[string]any, finish any) {
		out, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": 1700000000, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		send("", out)
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	if call != nil {
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": call.ID, "type": "function", "function": map[string]any{"name": call.Function.Name, "arguments": ""}}}}, nil)
		args := call.Function.Arguments
		half := len(args) / 2
		for _, a := range []string{args[:half], args[half:]} {
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": a}}}}, nil)
		}
	}
	for i, p := range pieces(content) {
		if b.cut && i == 2 {
			return // the connection drops mid-stream
		}
		chunk(map[string]any{"content": p}, nil)
	}
	chunk(map[string]any{}, finish)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage && !b.noUsage {
		out, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": 1700000000, "model": req.Model, "choices": []any{}, "usage": usage})
		send("", out)
	}
	send("", []byte("[DONE]"))
}

func (s *Server) openAIEmbeddings(w http.ResponseWriter, r *http.Request, body []byte) {
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if badKey(key) {
		openAIError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided.")
		return
	}
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Input) == 0 {
		openAIError(w, 400, "invalid_request_error", "'input' is required")
		return
	}
	if b := behaviourOf(req.Model); b.status != 0 {
		statusError(w, b.status, openAIError)
		return
	}
	var inputs []string
	if json.Unmarshal(req.Input, &inputs) != nil {
		var one string
		_ = json.Unmarshal(req.Input, &one)
		inputs = []string{one}
	}
	tokens := 0
	var data []any
	for i, in := range inputs {
		tokens += words(in)
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vector(in)})
	}
	out, _ := json.Marshal(map[string]any{"object": "list", "data": data, "model": req.Model, "usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
	writeJSON(w, 200, out)
}

// vector is a deterministic 4-dimensional embedding of s.
func vector(s string) []float64 {
	v := make([]float64, 4)
	for i, c := range s {
		v[i%4] += float64(c%17) / 17
	}
	return v
}
