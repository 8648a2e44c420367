package ai

import (
	"encoding/json"
	"strings"
	"testing"

	"pinpoint/internal/ai/chat"
)

// collect parses a chat stream into text, tool calls, finish reason and
// the usage chunk (nil when none was sent).
func collect(t *testing.T, res result) (text string, args map[int]string, names map[int]string, finish string, usage *chat.Usage, done bool) {
	t.Helper()
	args, names = map[int]string{}, map[int]string{}
	var b strings.Builder
	for _, ev := range res.events(t) {
		if ev == "[DONE]" {
			done = true
			continue
		}
		var ch chat.Chunk
		if err := json.Unmarshal([]byte(ev), &ch); err != nil {
			t.Fatalf("bad chunk %q: %v", ev, err)
		}
		if ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk object %q in %s", ch.Object, ev)
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
		for _, c := range ch.Choices {
			if c.Delta.Content != nil {
				b.WriteString(*c.Delta.Content)
			}
			for _, tc := range c.Delta.ToolCalls {
				args[*tc.Index] += tc.Function.Arguments
				if tc.Function.Name != "" {
					names[*tc.Index] = tc.Function.Name
				}
			}
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	return b.String(), args, names, finish, usage, done
}

func TestStreamEachProvider(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	for _, model := range []string{"openai/gpt-4o-mini", "claude/claude-3-5-haiku-latest", "gemini/gemini-2.0-flash", "mistral/mistral-small-latest"} {
		for _, includeUsage := range []bool{false, true} {
			extra := `"stream":true`
			if includeUsage {
				extra += `,"stream_options":{"include_usage":true}`
			}
			res := serve(h, "POST", "/v1/chat/completions", chatBody(model, "stream me please", extra), acme)
			if res.Code != 200 || res.Header().Get("Content-Type") != "text/event-stream" {
				t.Fatalf("%s: status %d %q: %s", model, res.Code, res.Header().Get("Content-Type"), res.Body)
			}
			text, _, _, finish, usage, done := collect(t, res)
			if text != "Hello! You said: stream me please" || finish != "stop" || !done {
				t.Errorf("%s: text %q finish %q done %v", model, text, finish, done)
			}
			// The caller gets a usage chunk only when it asked for one
			// (Mistral's mock never reports stream usage).
			if includeUsage && usage == nil && !strings.HasPrefix(model, "mistral/") {
				t.Errorf("%s: include_usage asked, no usage chunk", model)
			}
			if !includeUsage && usage != nil {
				t.Errorf("%s: usage chunk not asked for: %+v", model, usage)
			}
			// Usage is exact whatever the caller asked: prompt 3+3 words,
			// completion 6 words. Anthropic's cumulative message_delta
			// (6) must replace message_start's 1, not add to it.
			wantEst := strings.HasPrefix(model, "mistral/")
			if !wantEst && (res.req.Log["ai.prompt_tokens"] != 6 || res.req.Log["ai.completion_tokens"] != 6) {
				t.Errorf("%s (usage %v): logged %v/%v, want 6/6", model, includeUsage, res.req.Log["ai.prompt_tokens"], res.req.Log["ai.completion_tokens"])
			}
			if c, _ := res.req.Log["ai.cost_usd"].(float64); c <= 0 {
				t.Errorf("%s: streamed call recorded at cost %v", model, res.req.Log["ai.cost_usd"])
			}
		}
	}
	// The gateway asks OpenAI for usage even when the caller did not.
	up, _ := f.mock.Last("/openai/")
	if !strings.Contains(string(up.Body), `"stream_options":{"include_usage":true}`) {
		t.Errorf("openai stream sent without include_usage: %s", up.Body)
	}
	// Mistral rejects unknown fields: no stream_options.
	up, _ = f.mock.Last("/mistral/")
	if strings.Contains(string(up.Body), "stream_options") {
		t.Errorf("mistral got stream_options: %s", up.Body)
	}
}

func TestStreamToolCallsTranslated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	tools := `"stream":true,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]`
	for _, model := range []string{"openai/gpt-4o", "claude/claude-3-5-haiku-latest", "gemini/gemini-2.0-flash"} {
		res := serve(h, "POST", "/v1/chat/completions", chatBody(model, "dogs", tools), acme)
		if res.Code != 200 {
			t.Fatalf("%s: %d %s", model, res.Code, res.Body)
		}
		_, args, names, finish, _, _ := collect(t, res)
		if names[0] != "lookup" || args[0] != `{"query":"dogs"}` || finish != "tool_calls" {
			t.Errorf("%s: names %v args %v finish %q\n%s", model, names, args, finish, res.Body)
		}
	}
}

func TestStreamWithoutUsageIsEstimatedNotFree(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	res := serve(f.handler("{}"), "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini-nousage", "a b c", `"stream":true`), acme)
	if res.Code != 200 {
		t.Fatalf("%d %s", res.Code, res.Body)
	}
	if res.req.Log["ai.usage_estimated"] != true || res.req.Log["ai.completion_tokens"].(int) <= 0 || res.req.Log["ai.cost_usd"].(float64) <= 0 {
		t.Errorf("log %v", res.req.Log)
	}
}
