package demo

import (
	"strings"

	"pinpoint/internal/ai"
)

// The AI gateway's part of the demo: a mock provider behind the
// OpenAI-compatible API, so a newcomer sees completions, a stream, a
// fallback, model_not_allowed and budget_exhausted without a provider key.
func init() {
	Register(Extension{
		Name: "ai",
		Config: func(p Ports) map[string]string {
			if p.AIMock == "" {
				return nil
			}
			sections, routes, _ := strings.Cut(ai.DemoConfig(p.AIMock), "routes:\n")
			return map[string]string{"sections": sections, "routes": routes}
		},
		Examples: func(p Ports) []Example {
			if p.AIMock == "" {
				return nil
			}
			json := [2]string{"Content-Type", "application/json"}
			chat := func(model, extra string) string {
				return `{"model":"` + model + `","messages":[{"role":"user","content":"Say hello"}]` + extra + `}`
			}
			return []Example{
				{Order: 60, Title: "AI: a chat completion (alias fast: a 429 from the first model, served by the fallback)", Method: "POST", Path: "/v1/chat/completions", Headers: [][2]string{json}, Body: chat("fast", ""), Status: 200},
				{Order: 61, Title: "AI: a streamed completion", Method: "POST", Path: "/v1/chat/completions", Headers: [][2]string{json}, Body: chat("openai/gpt-4o-mini", `,"stream":true`), Status: 200},
				{Order: 62, Title: "AI: a model outside the caller's allowed list", Method: "POST", Path: "/v1/chat/completions", Headers: [][2]string{json}, Body: chat("openai/gpt-4o", ""), Status: 403, Code: "model_not_allowed"},
				{Order: 62.3, Title: "AI: a model no provider serves", Method: "POST", Path: "/v1/chat/completions", Headers: [][2]string{json}, Body: chat("nobody/no-such-model", ""), Status: 404, Code: "model_unknown"},
				{Order: 62.6, Title: "AI: a request without messages", Method: "POST", Path: "/v1/chat/completions", Headers: [][2]string{json}, Body: `{"model":"fast"}`, Status: 400, Code: "ai_request_invalid"},
				{Order: 63, Title: "AI: spend a tiny daily budget (the demo's own run already spent it)", Method: "POST", Path: "/tiny/v1/chat/completions", Headers: [][2]string{json}, Body: chat("fast", ""), Status: 200},
				{Order: 64, Title: "AI: over budget", Method: "POST", Path: "/tiny/v1/chat/completions", Headers: [][2]string{json}, Body: chat("fast", ""), Status: 429, Code: "budget_exhausted"},
				{Order: 65, Title: "AI: a prompt template published as a REST API", Method: "POST", Path: "/prompts/summarize", Headers: [][2]string{json}, Body: `{"text":"pinpoint explains every denial."}`, Status: 200},
				{Order: 66, Title: "AI: a template called without its variable", Method: "POST", Path: "/prompts/summarize", Headers: [][2]string{json}, Body: `{"txt":"typo"}`, Status: 400, Code: "template_variable_unknown"},
			}
		},
	})
}
