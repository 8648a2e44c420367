package ai

import (
	"encoding/json"
	"pinpoint/internal/verdict"
	"strings"
	"testing"
)

func TestChatNonStreamEachProvider(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	cases := []struct {
		model, upstreamPath, upstreamModel string
	}{
		{"openai/gpt-4o-mini", "/openai/v1/chat/completions", "gpt-4o-mini"},
		{"claude/claude-3-5-haiku-latest", "/anthropic/v1/messages", "claude-3-5-haiku-latest"},
		{"gemini/gemini-2.0-flash", "/gemini/v1beta/models/gemini-2.0-flash:generateContent", ""},
		{"mistral/mistral-small-latest", "/mistral/v1/chat/completions", "mistral-small-latest"},
		{"azure/gpt-4o", "/azure/openai/deployments/gpt-4o/chat/completions", "gpt-4o"},
	}
	for _, tc := range cases {
		res := serve(h, "POST", "/v1/chat/completions", chatBody(tc.model, "hello there", `"temperature":0.5`), acme)
		if res.Code != 200 {
			t.Fatalf("%s: status %d: %s", tc.model, res.Code, res.Body)
		}
		body := res.json(t)
		choice := body["choices"].([]any)[0].(map[string]any)
		msg := choice["message"].(map[string]any)
		if msg["content"] != "Hello! You said: hello there" || choice["finish_reason"] != "stop" {
			t.Errorf("%s: got %v", tc.model, choice)
		}
		// Mock usage: prompt = 3 per message + words; completion = words.
		u := body["usage"].(map[string]any)
		if u["prompt_tokens"] != 5.0 || u["completion_tokens"] != 5.0 {
			t.Errorf("%s: usage %v, want 5/5", tc.model, u)
		}
		if res.req.Log["ai.prompt_tokens"] != 5 || res.req.Log["ai.completion_tokens"] != 5 {
			t.Errorf("%s: call log %v", tc.model, res.req.Log)
		}
		prov, _, _ := strings.Cut(tc.model, "/")
		if res.Header().Get(HeaderProvider) != prov {
			t.Errorf("%s: provider header %q", tc.model, res.Header().Get(HeaderProvider))
		}
		up, ok := f.mock.Last(tc.upstreamPath)
		if !ok {
			t.Fatalf("%s: mock saw no request to %s", tc.model, tc.upstreamPath)
		}
		if tc.upstreamModel != "" {
			var sent map[string]any
			_ = json.Unmarshal(up.Body, &sent)
			if sent["model"] != tc.upstreamModel {
				t.Errorf("%s: upstream model %v, want %s", tc.model, sent["model"], tc.upstreamModel)
			}
		}
	}
	// Secrets go only in each provider's own header.
	if r, _ := f.mock.Last("/anthropic/"); r.Header.Get("x-api-key") != "sk-ant-test" || r.Header.Get("Authorization") != "" {
		t.Errorf("anthropic auth headers: %v", r.Header)
	}
	if r, _ := f.mock.Last("/azure/"); r.Header.Get("api-key") != "az-test" || !strings.Contains(r.Query, "api-version=2024-10-21") {
		t.Errorf("azure: headers %v query %q", r.Header, r.Query)
	}
}

func TestOpenAIPassesUnknownFieldsThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	res := serve(f.handler("{}"), "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hi", `"seed":7,"response_format":{"type":"json_object"}`), acme)
	if res.Code != 200 {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	up, _ := f.mock.Last("/openai/")
	var sent map[string]any
	_ = json.Unmarshal(up.Body, &sent)
	if sent["seed"] != 7.0 || sent["response_format"] == nil {
		t.Errorf("fields lost on the way: %s", up.Body)
	}
}

func TestAnthropicTranslationWithTools(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	tools := `"tools":[{"type":"function","function":{"name":"lookup","description":"Look up","parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}],"tool_choice":"auto"`
	body := `{"model":"claude/claude-sonnet-4-5","max_tokens":300,"stop":"END","messages":[
	  {"role":"system","content":"Be brief."},
	  {"role":"user","content":"find cats"},
	  {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"lookup","arguments":"{\"query\":\"cats\"}"}}]},
	  {"role":"tool","tool_call_id":"toolu_1","content":"3 cats"},
	  {"role":"user","content":"thanks"}
	],` + tools + `}`
	res := serve(h, "POST", "/v1/chat/completions", body, acme)
	if res.Code != 200 {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	up, _ := f.mock.Last("/anthropic/")
	var sent struct {
		System        string   `json:"system"`
		MaxTokens     int      `json:"max_tokens"`
		StopSequences []string `json:"stop_sequences"`
		Messages      []struct {
			Role    string           `json:"role"`
			Content []map[string]any `json:"content"`
		} `json:"messages"`
		Tools      []map[string]any `json:"tools"`
		ToolChoice map[string]any   `json:"tool_choice"`
	}
	if err := json.Unmarshal(up.Body, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.System != "Be brief." || sent.MaxTokens != 300 || len(sent.StopSequences) != 1 || sent.StopSequences[0] != "END" {
		t.Errorf("system/max_tokens/stop: %s", up.Body)
	}
	// user, assistant(tool_use), user(tool_result + text): the tool result
	// and the next user text merge into one turn so roles alternate.
	if len(sent.Messages) != 3 || sent.Messages[1].Content[0]["type"] != "tool_use" || sent.Messages[2].Content[0]["type"] != "tool_result" ||
		sent.Messages[2].Content[1]["text"] != "thanks" {
		t.Errorf("messages: %s", up.Body)
	}
	if sent.Messages[1].Content[0]["input"].(map[string]any)["query"] != "cats" {
		t.Errorf("tool_use input: %v", sent.Messages[1].Content[0])
	}
	if sent.Tools[0]["name"] != "lookup" || sent.Tools[0]["input_schema"] == nil || sent.ToolChoice["type"] != "auto" {
		t.Errorf("tools: %v %v", sent.Tools, sent.ToolChoice)
	}
	// The last turn is not a tool result, so the mock calls the tool.
	choice := res.json(t)["choices"].([]any)[0].(map[string]any)
	calls := choice["message"].(map[string]any)["tool_calls"].([]any)
	fn := calls[0].(map[string]any)["function"].(map[string]any)
	if choice["finish_reason"] != "tool_calls" || fn["name"] != "lookup" || fn["arguments"] != `{"query":"thanks"}` {
		t.Errorf("tool call answer: %v", choice)
	}
}

func TestToolResultAnsweredEachProvider(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	for _, model := range []string{"openai/gpt-4o", "claude/claude-3-5-haiku-latest", "gemini/gemini-2.0-flash"} {
		body := `{"model":"` + model + `","messages":[
		  {"role":"user","content":"weather?"},
		  {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{}"}}]},
		  {"role":"tool","tool_call_id":"c1","content":"sunny"}],
		  "tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}]}`
		res := serve(h, "POST", "/v1/chat/completions", body, acme)
		if res.Code != 200 {
			t.Fatalf("%s: status %d: %s", model, res.Code, res.Body)
		}
		msg := res.json(t)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
		if !strings.HasPrefix(msg["content"].(string), "Tool result: ") || !strings.Contains(msg["content"].(string), "sunny") {
			t.Errorf("%s: %v", model, msg)
		}
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	cases := []struct {
		name, method, path, body, code string
		status                         int
	}{
		{"not json", "POST", "/v1/chat/completions", `{"model":`, "ai_request_invalid", 400},
		{"wrong type", "POST", "/v1/chat/completions", `{"model":"openai/x","messages":"hi"}`, "ai_request_invalid", 400},
		{"no model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, "ai_request_invalid", 400},
		{"bad role", "POST", "/v1/chat/completions", `{"model":"openai/x","messages":[{"role":"robot","content":"x"}]}`, "ai_request_invalid", 400},
		{"unknown model", "POST", "/v1/chat/completions", chatBody("nope/model", "x", ""), "model_unknown", 404},
		{"bare unknown", "POST", "/v1/chat/completions", chatBody("gpt-9", "x", ""), "model_unknown", 404},
		{"GET chat", "GET", "/v1/chat/completions", "", "method_not_allowed", 405},
		{"no endpoint", "POST", "/v1/other", "{}", "ai_request_invalid", 404},
	}
	for _, tc := range cases {
		res := serve(h, tc.method, tc.path, tc.body, acme)
		if res.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, res.Code, tc.status, res.Body)
			continue
		}
		e := res.errorObject(t)
		if e["code"] != tc.code || e["request_id"] != "req-test" || e["message"] == "" || e["layer"] == "" || e["hint"] == "" || e["type_uri"] != verdict.TypeURI(tc.code) {
			t.Errorf("%s: envelope %v", tc.name, e)
		}
		if res.Header().Get("Pinpoint-Denied-By") != "gateway" || res.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", tc.name, res.Header())
		}
		if tc.code == "method_not_allowed" && res.Header().Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q, want POST", tc.name, res.Header().Get("Allow"))
		}
	}
}
