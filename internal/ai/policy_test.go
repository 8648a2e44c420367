package ai

import (
	"strings"
	"sync"
	"testing"

	"pinpoint/internal/ai/usage"
	"pinpoint/internal/pipeline"
)

const policyConfig = baseConfig + `
consumers:
  acme:
    models: ["openai/gpt-4o-mini", "fast", "claude/*"]
  default:
    models: ["openai/*"]
    rpm: 2
  tokeny:
    tpm: 20
  priced:
    budget: {daily_usd: 0.0004}
keys:
  key_ci:
    models: ["fast"]
`

func TestModelNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyConfig)
	h := f.handler("{}")
	cases := []struct {
		name  string
		model string
		id    *pipeline.Identity
		want  int
		rule  string
		list  string
	}{
		{"listed", "openai/gpt-4o-mini", acme, 200, "", ""},
		{"alias listed", "fast", acme, 200, "", ""},
		{"pattern", "claude/claude-3-5-haiku-latest", acme, 200, "", ""},
		{"not listed", "openai/gpt-4o", acme, 403, "ai.consumers.acme", "openai/gpt-4o-mini, fast, claude/*"},
		{"key narrower than consumer", "openai/gpt-4o-mini", &pipeline.Identity{ConsumerID: "acme", KeyID: "key_ci"}, 403, "ai.keys.key_ci", "fast"},
		{"default policy", "claude/claude-3-5-haiku-latest", &pipeline.Identity{ConsumerID: "zed"}, 403, "ai.consumers.default", "openai/*"},
	}
	for _, tc := range cases {
		res := serve(h, "POST", "/v1/chat/completions", chatBody(tc.model, "hi", ""), tc.id)
		if res.Code != tc.want {
			t.Errorf("%s: %d %s", tc.name, res.Code, res.Body)
			continue
		}
		if tc.want != 403 {
			continue
		}
		e := res.errorObject(t)
		msg, _ := e["message"].(string)
		if e["code"] != "model_not_allowed" || e["type"] != "permission_error" || e["rule"] != tc.rule || e["layer"] != "ai" ||
			!strings.Contains(msg, `"`+tc.model+`"`) || !strings.Contains(msg, "allowed models: "+tc.list) {
			t.Errorf("%s: %v", tc.name, e)
		}
		if res.req.Decision == nil || res.req.Decision.Code != "model_not_allowed" {
			t.Errorf("%s: decision not recorded", tc.name)
		}
	}
	if n := f.mock.Count("/openai/v1/chat/completions"); n != 2 {
		t.Errorf("denied calls reached the provider: %d openai calls, want 2", n)
	}
}

func TestModelsListFollowsPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, `
providers:
  - {name: openai, kind: openai, base_url: "{{mock}}/openai/v1", api_key: k, models: [gpt-4o, gpt-4o-mini]}
  - {name: claude, kind: anthropic, base_url: "{{mock}}/anthropic", api_key: k, models: [claude-sonnet-4-5]}
aliases:
  fast: {model: openai/gpt-4o-mini}
consumers:
  acme: {models: ["fast", "claude/*"]}
`)
	res := serve(f.handler("{}"), "GET", "/v1/models", "", acme)
	var ids []string
	for _, m := range res.json(t)["data"].([]any) {
		ids = append(ids, m.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "fast,claude/claude-sonnet-4-5" {
		t.Errorf("models %v", ids)
	}
}

func TestRateAndTokenLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyConfig)
	h := f.handler("{}")
	zed := &pipeline.Identity{ConsumerID: "zed"}
	for i := 0; i < 2; i++ {
		if res := serve(h, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hi", ""), zed); res.Code != 200 {
			t.Fatalf("call %d: %d", i, res.Code)
		}
	}
	res := serve(h, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hi", ""), zed)
	e := res.errorObject(t)
	if res.Code != 429 || e["code"] != "rate_limited" || res.Header().Get("Retry-After") == "" || !strings.Contains(e["message"].(string), "2 requests per minute") {
		t.Errorf("rpm: %d %v", res.Code, e)
	}
	// Tokens: each call uses 8 (4 prompt, 4 completion); calls are
	// admitted while fewer than 20 are used, so the fourth is refused.
	tok := &pipeline.Identity{ConsumerID: "tokeny"}
	for i := 0; i < 3; i++ {
		if res := serve(h, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hi", `"max_tokens":5`), tok); res.Code != 200 {
			t.Fatalf("tpm call %d: %d", i, res.Code)
		}
	}
	res = serve(h, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hi", `"max_tokens":5`), tok)
	if e := res.errorObject(t); res.Code != 429 || e["code"] != "token_limit_exceeded" || e["message"] == "" || res.Header().Get("Pinpoint-Denied-By") != "gateway" {
		t.Errorf("tpm: %d %v", res.Code, e)
	}
	// The catalog's fix tells callers to wait for Retry-After.
	if ra := res.Header().Get("Retry-After"); ra == "" {
		t.Errorf("tpm: no Retry-After (headers %v)", res.Header())
	}
}

func TestBudgetUnderConcurrentCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, strings.Replace(policyConfig, "prices:\n", "prices:\n  openai/gpt-4o-mini: {input: 10, output: 10}\n", 1))
	h := f.handler("{}")
	id := &pipeline.Identity{ConsumerID: "priced"}
	// Each call: 5 prompt + 5 completion tokens at $10/M = 100 micro-USD;
	// the budget is 400.
	const calls = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	var denial map[string]any
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := serve(h, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "spend it", `"max_tokens":6`), id)
			mu.Lock()
			defer mu.Unlock()
			codes[res.Code]++
			if res.Code == 429 && denial == nil {
				denial = res.errorObject(t)
			}
		}()
	}
	wg.Wait()
	spent, reserved := f.handler("{}").g.ledger.Spent("consumer:priced", usage.Day)
	if reserved != 0 {
		t.Errorf("reservations left over: %d", reserved)
	}
	if codes[200]+codes[429] != calls || codes[429] == 0 {
		t.Fatalf("codes %v", codes)
	}
	// No more than one call's cost over the budget.
	if spent > 400+100 || spent != usage.Micros(codes[200]*100) {
		t.Errorf("spent %d micro-USD over %d calls (budget 400)", spent, codes[200])
	}
	msg, _ := denial["message"].(string)
	if denial["code"] != "budget_exhausted" || !strings.Contains(msg, "daily budget of $0.00") || !strings.Contains(msg, "resets at") {
		t.Errorf("denial %v", denial)
	}
}
