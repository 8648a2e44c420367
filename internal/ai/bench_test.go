package ai

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/pipeline"
)

// cannedTransport answers every provider call from memory, so the
// benchmark measures the handler, not a provider or the network.
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

var cannedCompletion = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, this is a canned answer."},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":9,"total_tokens":259}}`)

// oneKBRequest is a chat request of about 1 KB.
func oneKBRequest() string {
	return chatBody("openai/gpt-4o-mini", strings.Repeat("The quick brown fox jumps over the lazy dog. ", 21), `"temperature":0.2,"max_tokens":64`)
}

func benchHandler(b *testing.B, client *http.Client, base string) *Handler {
	f := newFixture(b, strings.ReplaceAll(`
providers:
  - {name: openai, kind: openai, base_url: "BASE", api_key: sk-bench}
consumers:
  default: {models: ["openai/*"], rpm: 100000000, tpm: 1000000000, budget: {daily_usd: 1000000}}
`, "BASE", base))
	if client != nil {
		_, _ = f.env.Shared("ai.client", func() (any, error) { return client, nil })
	}
	return f.handler("{}")
}

func runChat(b *testing.B, h *Handler, body string) {
	hr := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
	r := &pipeline.Request{HTTP: hr, ID: "bench", Route: &pipeline.RouteInfo{ID: "ai"}, Identity: acme}
	w := httptest.NewRecorder()
	h.Serve(w, r)
	if w.Code != 200 {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkChatHandlerOverhead is the gateway's own cost per non-streamed
// 1 KB chat completion: parsing, policy, reservation, upstream body,
// usage and cost, against a provider answered from memory.
func BenchmarkChatHandlerOverhead(b *testing.B) {
	h := benchHandler(b, &http.Client{Transport: cannedTransport{cannedCompletion}}, "http://provider.invalid/v1")
	body := oneKBRequest()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runChat(b, h, body)
	}
}

// BenchmarkChatLoopbackMock is the same call against the mock provider on
// loopback (includes the mock's own time and the HTTP round trip).
func BenchmarkChatLoopbackMock(b *testing.B) {
	f := newFixture(b, "{}")
	h := benchHandler(b, nil, f.srv.URL+"/openai/v1")
	body := oneKBRequest()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runChat(b, h, body)
	}
}

// BenchmarkStreamTTFB measures time to first byte of a stream through the
// gateway minus the same against the mock directly, on loopback.
func BenchmarkStreamTTFB(b *testing.B) {
	f := newFixture(b, "{}")
	h := benchHandler(b, nil, f.srv.URL+"/openai/v1")
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		h.Serve(w, &pipeline.Request{HTTP: hr, ID: "bench", Route: &pipeline.RouteInfo{ID: "ai"}, Identity: acme})
	}))
	defer gw.Close()
	body := chatBody("gpt-4o-mini", "time to first byte", `"stream":true`)
	ttfb := func(url, model string) time.Duration {
		t0 := time.Now()
		resp, err := http.Post(url, "application/json", strings.NewReader(strings.Replace(body, "gpt-4o-mini", model, 1)))
		if err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		_, _ = io.Copy(io.Discard, br)
		resp.Body.Close()
		return d
	}
	var direct, via time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		direct += ttfb(f.srv.URL+"/openai/v1/chat/completions", "gpt-4o-mini")
		via += ttfb(gw.URL+"/v1/chat/completions", "openai/gpt-4o-mini")
	}
	b.ReportMetric(float64(direct.Microseconds())/float64(b.N), "direct-ttfb-µs")
	b.ReportMetric(float64(via.Microseconds())/float64(b.N), "gateway-ttfb-µs")
	b.ReportMetric(float64((via-direct).Microseconds())/float64(b.N), "added-ttfb-µs")
}
