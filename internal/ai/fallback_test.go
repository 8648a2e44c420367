package ai

import (
	"strings"
	"testing"
)

func TestFallbackBeforeFirstByte(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	for _, extra := range []string{"", `"stream":true`} {
		res := serve(h, "POST", "/v1/chat/completions", chatBody("fast", "hi", extra), acme)
		if res.Code != 200 {
			t.Fatalf("stream=%q: %d %s", extra, res.Code, res.Body)
		}
		if res.Header().Get(HeaderProvider) != "claude" || res.Header().Get(HeaderModel) != "claude-3-5-haiku-latest" {
			t.Errorf("served by %s/%s", res.Header().Get(HeaderProvider), res.Header().Get(HeaderModel))
		}
		if got := res.Header().Get(HeaderFallbacks); got != "openai/gpt-4o-mini-error-429 (429)" {
			t.Errorf("fallbacks header %q", got)
		}
		if res.req.Log["ai.fallbacks"] != 1 {
			t.Errorf("log %v", res.req.Log)
		}
		// The trace has the failed attempt, then the one that served.
		var attempts []string
		for _, s := range res.req.Steps {
			if strings.HasPrefix(s.Rule, "ai.attempt:") {
				attempts = append(attempts, s.Rule)
			}
		}
		if len(attempts) != 2 || attempts[0] != "ai.attempt:openai/gpt-4o-mini-error-429" || attempts[1] != "ai.attempt:claude/claude-3-5-haiku-latest" {
			t.Errorf("trace attempts %v", attempts)
		}
	}
}

func TestNoFallbackAfterFirstByte(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	res := serve(f.handler("{}"), "POST", "/v1/chat/completions", chatBody("flaky-stream", "one two three four", `"stream":true`), acme)
	if res.Code != 200 {
		t.Fatalf("%d %s", res.Code, res.Body)
	}
	if n := f.mock.Count("/anthropic/"); n != 0 {
		t.Errorf("fell back after bytes were streamed (%d anthropic calls)", n)
	}
	evs := res.events(t)
	last := evs[len(evs)-1]
	if !strings.Contains(last, `"code":"provider_error"`) || strings.Contains(res.Body.String(), "[DONE]") {
		t.Errorf("stream should end with an error event and no [DONE]; got %q", last)
	}
	if !strings.Contains(res.Body.String(), "Hello! ") {
		t.Errorf("partial content lost: %s", res.Body)
	}
	// The partial call is billed, on an estimate when usage never came.
	if res.req.Log["ai.cost_usd"].(float64) <= 0 || res.req.Log["ai.usage_estimated"] != true {
		t.Errorf("log %v", res.req.Log)
	}
}

func TestRejectedKeyLeavesRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, `
providers:
  - name: broken
    kind: openai
    base_url: {{mock}}/broken/v1
    keys:
      - {id: revoked, key: sk-bad-revoked}
  - name: good
    kind: openai
    base_url: {{mock}}/good/v1
    keys:
      - {id: k-bad, key: sk-bad-2, weight: 1}
      - {id: k-ok, key: sk-ok, weight: 1}
fallbacks:
  broken/gpt-4o: [good/gpt-4o]
`)
	h := f.handler("{}")
	for i := 0; i < 6; i++ {
		res := serve(h, "POST", "/v1/chat/completions", chatBody("broken/gpt-4o", "hi", ""), acme)
		if res.Code != 200 || res.Header().Get(HeaderProvider) != "good" {
			t.Fatalf("call %d: %d via %q: %s", i, res.Code, res.Header().Get(HeaderProvider), res.Body)
		}
		if i == 0 && !strings.Contains(res.Header().Get(HeaderFallbacks), "broken/gpt-4o (401)") {
			t.Errorf("first call fallbacks %q", res.Header().Get(HeaderFallbacks))
		}
		if i > 0 && !strings.Contains(res.Header().Get(HeaderFallbacks), "broken/gpt-4o (no key)") {
			t.Errorf("call %d fallbacks %q", i, res.Header().Get(HeaderFallbacks))
		}
	}
	// Each rejected key was tried once, then left alone.
	bad := 0
	for _, r := range f.mock.Requests() {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk-bad") {
			bad++
		}
	}
	if f.mock.Count("/broken/") != 1 || bad > 2 {
		t.Errorf("rejected keys retried: broken=%d bad-key calls=%d", f.mock.Count("/broken/"), bad)
	}
}

func TestProviderErrorsPassedThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t, baseConfig)
	h := f.handler("{}")
	cases := []struct {
		model  string
		status int
		msg    string
	}{
		{"openai/gpt-4o-error-400", 400, "mock: this model rejects every request"},
		{"claude/claude-error-429", 429, "mock: number of requests has exceeded your rate limit"},
		{"gemini/gemini-error-500", 500, "mock: status 500 on demand"},
	}
	for _, tc := range cases {
		res := serve(h, "POST", "/v1/chat/completions", chatBody(tc.model, "hi", ""), acme)
		e := res.errorObject(t)
		if res.Code != tc.status || e["message"] != tc.msg || res.Header().Get("Pinpoint-Denied-By") != "upstream" ||
			res.Header().Get(HeaderProvider) == "" || e["provider"] == "" || res.req.DeniedBy != "upstream" {
			t.Errorf("%s: %d %v %v", tc.model, res.Code, res.Header(), e)
		}
		if tc.status == 429 && res.Header().Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After not passed on", tc.model)
		}
	}
}

func TestUnreachableProviderIsProviderError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, `
providers:
  - {name: down, kind: openai, base_url: "http://127.0.0.1:1/v1", api_key: sk-x}
`)
	res := serve(f.handler("{}"), "POST", "/v1/chat/completions", chatBody("down/gpt-4o", "hi", ""), acme)
	e := res.errorObject(t)
	if res.Code != 502 || e["code"] != "provider_error" || !strings.Contains(e["message"].(string), "down/gpt-4o (unreachable)") {
		t.Errorf("%d %v", res.Code, e)
	}
}
