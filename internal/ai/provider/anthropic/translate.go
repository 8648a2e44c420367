package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"pinpoint/internal/ai/chat"
)

// toRequest translates an OpenAI chat request. System messages become the
// system prompt; tool results become tool_result blocks in a user turn;
// consecutive turns of the same role are merged, because Anthropic requires
// user and assistant turns to alternate.
func toRequest(model string, r *chat.Request) (*request, error) {
	out := &request{Model: model, Temperature: r.Temperature, TopP: r.TopP, StopSequences: r.Stop, Stream: r.Stream}
	out.MaxTokens = r.Limit()
	if out.MaxTokens <= 0 {
		out.MaxTokens = DefaultMaxTokens
	}
	if r.User != "" {
		out.Metadata = &metadata{UserID: r.User}
	}
	var system []string
	for i := range r.Messages {
		m := &r.Messages[i]
		switch m.Role {
		case "system", "developer":
			system = append(system, m.Content.String())
		case "user":
			blocks, err := contentBlocks(m.Content)
			if err != nil {
				return nil, fmt.Errorf("messages[%d]: %w", i, err)
			}
			out.Messages = appendTurn(out.Messages, "user", blocks)
		case "assistant":
			var blocks []block
			if t := m.Content.String(); t != "" {
				blocks = append(blocks, block{Type: "text", Text: t})
			}
			for _, tc := range m.ToolCalls {
				input := json.RawMessage(tc.Function.Arguments)
				if strings.TrimSpace(tc.Function.Arguments) == "" {
					input = json.RawMessage("{}")
				} else if !json.Valid(input) {
					return nil, fmt.Errorf("messages[%d].tool_calls: arguments of %q are not valid JSON", i, tc.Function.Name)
				}
				blocks = append(blocks, block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
			if len(blocks) == 0 {
				continue
			}
			out.Messages = appendTurn(out.Messages, "assistant", blocks)
		case "tool":
			if m.ToolCallID == "" {
				return nil, fmt.Errorf("messages[%d]: a tool message needs tool_call_id", i)
			}
			out.Messages = appendTurn(out.Messages, "user", []block{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Content.String()}})
		default:
			return nil, fmt.Errorf("messages[%d]: unknown role %q", i, m.Role)
		}
	}
	out.System = strings.Join(system, "\n\n")
	if len(out.Messages) == 0 {
		return nil, errors.New("messages: at least one user message is required")
	}
	for _, t := range r.Tools {
		schema := t.Function.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	tc, err := toolChoice(r.ToolChoice)
	if err != nil {
		return nil, err
	}
	out.ToolChoice = tc
	return out, nil
}

func appendTurn(ms []message, role string, blocks []block) []message {
	if n := len(ms); n > 0 && ms[n-1].Role == role {
		ms[n-1].Content = append(ms[n-1].Content, blocks...)
		return ms
	}
	return append(ms, message{Role: role, Content: blocks})
}

func contentBlocks(c chat.Content) ([]block, error) {
	if c.Parts == nil {
		return []block{{Type: "text", Text: c.Text}}, nil
	}
	var out []block
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			out = append(out, block{Type: "text", Text: p.Text})
		case "image_url":
			if p.ImageURL == nil {
				return nil, errors.New("image_url part without a url")
			}
			out = append(out, block{Type: "image", Source: imageSource(p.ImageURL.URL)})
		default:
			return nil, fmt.Errorf("content part type %q is not supported by Anthropic models", p.Type)
		}
	}
	return out, nil
}

// imageSource turns a data: URL into an inline base64 source, anything
// else into a URL source.
func imageSource(u string) *source {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, _ := strings.Cut(rest, ",")
		return &source{Type: "base64", MediaType: strings.TrimSuffix(meta, ";base64"), Data: data}
	}
	return &source{Type: "url", URL: u}
}

func toolChoice(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto":
			return json.RawMessage(`{"type":"auto"}`), nil
		case "required":
			return json.RawMessage(`{"type":"any"}`), nil
		case "none":
			return json.RawMessage(`{"type":"none"}`), nil
		}
		return nil, fmt.Errorf("tool_choice %q is not one of auto, required, none", s)
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Function.Name == "" {
		return nil, errors.New(`tool_choice: want "auto", "required", "none" or {"type":"function","function":{"name":…}}`)
	}
	return json.Marshal(map[string]string{"type": "tool", "name": obj.Function.Name})
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason.
func finishReason(s string) string {
	switch s {
	case "max_tokens":
		return chat.FinishLength
	case "tool_use":
		return chat.FinishToolCalls
	case "refusal":
		return chat.FinishFilter
	}
	return chat.FinishStop
}

// fromResponse translates a Messages answer.
func fromResponse(r *response, created int64) *chat.Response {
	msg := chat.Message{Role: "assistant"}
	var text strings.Builder
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := string(b.Input)
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: b.ID, Type: "function", Function: chat.FunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	msg.Content = chat.Content{Text: text.String(), Null: text.Len() == 0 && len(msg.ToolCalls) > 0}
	u := chat.Usage{PromptTokens: r.Usage.prompt(), CompletionTokens: r.Usage.OutputTokens}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return &chat.Response{
		ID: r.ID, Object: "chat.completion", Created: created, Model: r.Model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finishReason(r.StopReason)}},
		Usage:   &u,
	}
}
