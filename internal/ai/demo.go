package ai

import "strings"

// DemoConfig is the `ai:` section and routes that `pinpoint demo` serves
// against the in-repo mock provider at mockBaseURL (mock.NewServer). A
// newcomer sees, without a provider key:
//
//	curl -s localhost:8080/v1/chat/completions -d '{"model":"fast","messages":[{"role":"user","content":"hi"}]}'
//	curl -sN … '"stream":true' …                       a stream
//	… '"model":"openai/gpt-4o"' …                       403 model_not_allowed
//	curl -s localhost:8080/tiny/v1/chat/completions … (twice)   429 budget_exhausted
//	curl -s localhost:8080/prompts/summarize -d '{"text":"…"}'   a prompt template
//
// The "fast" alias first tries a model that always answers 429 and falls
// back to Anthropic, so the Pinpoint-AI-Fallbacks header shows a fallback.
func DemoConfig(mockBaseURL string) string {
	return strings.ReplaceAll(demoYAML, "{{mock}}", strings.TrimRight(mockBaseURL, "/"))
}

const demoYAML = `ai:
  providers:
    - name: openai
      kind: openai
      base_url: {{mock}}/openai/v1
      keys:
        - {id: demo-openai-1, key: sk-demo-openai-1, weight: 3}
        - {id: demo-openai-2, key: sk-demo-openai-2, weight: 1}
      models: [gpt-4o, gpt-4o-mini, gpt-4o-mini-error-429, text-embedding-3-small]
    - name: anthropic
      kind: anthropic
      base_url: {{mock}}/anthropic
      api_key: sk-ant-demo
      models: [claude-3-5-haiku-latest, claude-sonnet-4-5]
  aliases:
    fast:
      model: openai/gpt-4o-mini-error-429
      fallbacks: [anthropic/claude-3-5-haiku-latest]
    smart:
      model: anthropic/claude-sonnet-4-5
      fallbacks: [openai/gpt-4o-mini]
  prices:
    openai/gpt-4o-mini-error-429: {input: 0.15, output: 0.6}
  consumers:
    default:
      models: ["fast", "smart", "openai/gpt-4o-mini", "anthropic/*", "openai/text-embedding-3-small"]
      rpm: 120
      tpm: 200000
      budget: {daily_usd: 5, monthly_usd: 50}
    tiny:
      models: ["fast", "openai/gpt-4o-mini"]
      budget: {daily_usd: 0.000001}
  templates:
    summarize:
      model: fast
      max_tokens: 200
      temperature: 0.2
      messages:
        - {role: system, content: "You summarize text in one sentence."}
        - {role: user, content: "Summarize this text: {{text}}"}
routes:
  - id: ai
    path: /v1/*
    handler: {ai: {}}
  - id: ai-tiny-budget
    path: /tiny/v1/*
    handler: {ai: {policy: tiny}}
  - id: prompt-summarize
    path: /prompts/summarize
    methods: [POST]
    handler: {ai: {template: summarize}}
`
