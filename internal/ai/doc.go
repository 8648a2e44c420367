// Package ai is pinpoint's AI gateway: one OpenAI-compatible API in front
// of many model providers, with provider keys kept in the gateway,
// per-consumer model access, rate limits, token limits and budgets, exact
// cost, fallbacks, and prompt templates published as REST endpoints.
//
// A route answered by it names the handler kind "ai":
//
//	routes:
//	  - id: ai
//	    path: /v1/*                    # POST /v1/chat/completions (stream or not),
//	    authn: {…}                     # GET /v1/models, POST /v1/embeddings,
//	    handler: {ai: {}}              # POST /v1/messages (Anthropic's API)
//	  - id: summarize
//	    path: /prompts/summarize       # POST {"text": "…"} → a chat completion
//	    handler: {ai: {template: summarize}}
//	  - id: public-ai                  # no authn: callers get the named policy
//	    path: /public/v1/*
//	    handler: {ai: {policy: public}}
//
// The top-level `ai:` section configures providers, models and policies:
//
//	ai:
//	  providers:
//	    - name: openai                 # the "openai/" in model names
//	      kind: openai                 # openai | azure | anthropic | gemini | mistral | ollama | compatible
//	      keys:                        # several keys, picked by weight; a key answered
//	        - {id: main, key: ${OPENAI_API_KEY}, weight: 3}    # 401/403 leaves rotation
//	        - {id: spare, key: ${OPENAI_API_KEY_2}, weight: 1} # for eject_for (5m)
//	      models: [gpt-4o, gpt-4o-mini, text-embedding-3-small]  # optional allow-list
//	      timeout: 60s                 # until the answer, or the first stream event
//	    - name: claude
//	      kind: anthropic
//	      api_key: ${ANTHROPIC_API_KEY}
//	    - name: azure
//	      kind: azure
//	      base_url: https://myres.openai.azure.com
//	      api_version: 2024-10-21
//	      api_key: ${AZURE_OPENAI_KEY}  # model = deployment name
//	    - {name: gemini, kind: gemini, api_key: ${GEMINI_API_KEY}}
//	    - {name: local, kind: ollama}  # http://127.0.0.1:11434/v1, no key
//	    - {name: vllm, kind: compatible, base_url: http://10.0.0.5:8000/v1}
//	  aliases:                         # gateway model names
//	    fast: {model: openai/gpt-4o-mini, fallbacks: [claude/claude-3-5-haiku-latest]}
//	  fallbacks:                       # chains for provider models
//	    openai/gpt-4o: [claude/claude-sonnet-4-5, gemini/gemini-2.5-pro]
//	  prices:                          # USD per million tokens, over the defaults
//	    vllm/llama-3.1-70b: {input: 0.5, output: 0.5}
//	  consumers:                       # by consumer id or name; "default" for the rest
//	    default:
//	      models: [fast, "openai/*"]   # names or path.Match patterns
//	      rpm: 60                      # requests per minute
//	      tpm: 100000                  # tokens per minute
//	      model_limits: {"openai/gpt-4o": {rpm: 10, tpm: 20000}}
//	      budget: {daily_usd: 5, monthly_usd: 50}
//	  keys:                            # by API key id, on top of the consumer's policy
//	    key_ci: {models: [fast], budget: {daily_usd: 1}}
//	  templates:
//	    summarize:
//	      model: fast
//	      max_tokens: 200
//	      messages:
//	        - {role: system, content: "You summarize text."}
//	        - {role: user, content: "Summarize: {{text}}"}
//	  estimate_completion_tokens: 512  # reserved when a request sets no max_tokens
//	  budget_status: 429               # or 403/402 for budget_exhausted
//
// A model is named "provider/model", by an alias, or by a bare name that
// exactly one provider lists. Fallback happens on 429, 5xx, timeouts and
// connection errors, only before the first byte reaches the caller; the
// headers Pinpoint-AI-Provider, Pinpoint-AI-Model and Pinpoint-AI-Fallbacks
// and the trace say who served and what failed first. Refusals are
// model_unknown 404, model_not_allowed 403, budget_exhausted 429,
// rate_limited 429, token_limit_exceeded 429, ai_request_invalid 400,
// template_variable_missing/unknown 400 and provider_error 502, all in
// OpenAI's error envelope; a provider's own refusal is passed through in the
// same envelope with Pinpoint-Denied-By: upstream.
//
// Usage is exact: OpenAI-compatible streams are sent with
// stream_options.include_usage, Anthropic's cumulative message_delta usage
// replaces rather than adds, and a stream that ends without usage is
// billed on an estimate, never at zero. Budgets and limits reserve an
// estimate before a call and settle real usage after it (package usage).
// Budget windows are UTC days and months; rate windows are UTC minutes.
// Counters are per gateway node; spend is persisted and reloaded at start.
package ai
