package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
)

type anBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

type anMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (m anMessage) blocks() []anBlock {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []anBlock{{Type: "text", Text: s}}
	}
	var bs []anBlock
	_ = json.Unmarshal(m.Content, &bs)
	return bs
}

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	body, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	writeJSON(w, status, body)
}

func anthropicStatus(w http.ResponseWriter, status int, _, _ string) {
	switch status {
	case 429:
		anthropicError(w, status, "rate_limit_error", "mock: number of requests has exceeded your rate limit")
	case 400:
		anthropicError(w, status, "invalid_request_error", "mock: this model rejects every request")
	default:
		anthropicError(w, status, "api_error", fmt.Sprintf("mock: internal server error (%d)", status))
	}
}

// anthropic serves POST /v1/messages, validating like the real API: the
// version header, max_tokens, alternating user/assistant turns starting
// with user, no system role in messages, tool results answering tool uses.
func (s *Server) anthropic(w http.ResponseWriter, r *http.Request, body []byte) {
	if badKey(r.Header.Get("x-api-key")) || r.Header.Get("x-api-key") == "" {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		anthropicError(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	var req struct {
		Model     string          `json:"model"`
		MaxTokens int             `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []anMessage     `json:"messages"`
		Stream    bool            `json:"stream"`
		Tools     []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	switch {
	case req.Model == "":
		anthropicError(w, 400, "invalid_request_error", "model: Field required")
		return
	case req.MaxTokens <= 0:
		anthropicError(w, 400, "invalid_request_error", "max_tokens: Field required")
		return
	case len(req.Messages) == 0 || req.Messages[0].Role != "user":
		anthropicError(w, 400, "invalid_request_error", "messages: first message must use the \"user\" role")
		return
	}
	for _, t := range req.Tools {
		if len(t.InputSchema) == 0 {
			anthropicError(w, 400, "invalid_request_error", "tools.input_schema: Field required")
			return
		}
	}
	pendingTools := map[string]bool{}
	prompt, last, lastResult := 0, "", ""
	lastIsResult := false
	if len(req.System) > 0 {
		var sys string
		_ = json.Unmarshal(req.System, &sys)
		prompt += words(sys)
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			anthropicError(w, 400, "invalid_request_error", fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
			return
		}
		if i > 0 && req.Messages[i-1].Role == m.Role {
			anthropicError(w, 400, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\"")
			return
		}
		prompt += 3
		lastIsResult = false
		for _, b := range m.blocks() {
			switch b.Type {
			case "text":
				prompt += words(b.Text)
				if m.Role == "user" {
					last, lastIsResult = b.Text, false
				}
			case "tool_use":
				if m.Role != "assistant" {
					anthropicError(w, 400, "invalid_request_error", "tool_use blocks are only allowed in assistant messages")
					return
				}
				pendingTools[b.ID] = true
			case "tool_result":
				if m.Role != "user" || !pendingTools[b.ToolUseID] {
					anthropicError(w, 400, "invalid_request_error", "tool_result block(s) provided when previous message does not contain tool_use blocks: "+b.ToolUseID)
					return
				}
				var c string
				_ = json.Unmarshal(b.Content, &c)
				lastResult, lastIsResult = c, true
				prompt += words(c)
			case "image":
			default:
				anthropicError(w, 400, "invalid_request_error", "unknown content block type "+b.Type)
				return
			}
		}
	}
	b := behaviourOf(req.Model)
	if !s.wait(r, b) {
		return
	}
	if b.status != 0 {
		anthropicStatus(w, b.status, "", "")
		return
	}
	content, stop := reply(last), "end_turn"
	var toolName, toolArgs string
	switch {
	case lastIsResult:
		content = "Tool result: " + lastResult
	case len(req.Tools) > 0:
		a, _ := json.Marshal(map[string]string{"query": last})
		toolName, toolArgs, content, stop = req.Tools[0].Name, string(a), "", "tool_use"
	}
	completion := words(content)
	if toolName != "" {
		completion = 5
	}
	id := "msg_mock"
	if !req.Stream {
		var blocks []any
		if content != "" {
			blocks = append(blocks, map[string]any{"type": "text", "text": content})
		}
		if toolName != "" {
			blocks = append(blocks, map[string]any{"type": "tool_use", "id": "toolu_mock_1", "name": toolName, "input": json.RawMessage(toolArgs)})
		}
		out, _ := json.Marshal(map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": blocks,
			"stop_reason": stop, "stop_sequence": nil, "usage": map[string]int{"input_tokens": prompt, "output_tokens": completion}})
		writeJSON(w, 200, out)
		return
	}
	send := sse(w)
	ev := func(name string, v any) {
		out, _ := json.Marshal(v)
		send(name, out)
	}
	ev("message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{}, "stop_reason": nil, "usage": map[string]int{"input_tokens": prompt, "output_tokens": 1}}})
	ev("ping", map[string]any{"type": "ping"})
	idx := 0
	if content != "" {
		ev("content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
		for i, p := range pieces(content) {
			if b.cut && i == 2 {
				return
			}
			ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "text_delta", "text": p}})
		}
		ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	if toolName != "" {
		ev("content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "tool_use", "id": "toolu_mock_1", "name": toolName, "input": map[string]any{}}})
		half := len(toolArgs) / 2
		for _, a := range []string{toolArgs[:half], toolArgs[half:]} {
			ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": a}})
		}
		ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
	}
	// Real Anthropic streams report cumulative output tokens here; a
	// gateway that adds them to message_start's count would double-bill.
	ev("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]int{"output_tokens": completion}})
	ev("message_stop", map[string]any{"type": "message_stop"})
}
