package ai

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pinpoint/internal/pipeline"
)

// TestOpenAINodeSDK drives the handler with the official openai npm client
// (test/sdk/chat.mjs): a completion, a stream, and a model_not_allowed
// error must surface in the SDK as they would from OpenAI.
func TestOpenAINodeSDK(t *testing.T) {
	dir, _ := filepath.Abs("../../test/sdk")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "openai")); err != nil || statErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node or test/sdk/node_modules missing (run npm ci --prefix test/sdk): node=%v modules=%v", err, statErr)
		}
		t.Skip("node or test/sdk/node_modules missing; run npm ci --prefix test/sdk")
	}
	f := newFixture(t, baseConfig+`
consumers:
  acme: {models: ["openai/gpt-4o-mini", "claude/*"]}
`)
	h := f.handler("{}")
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		// Stands in for the gateway: authn would have set this identity.
		h.Serve(w, &pipeline.Request{HTTP: hr, ID: "req-sdk", Route: &pipeline.RouteInfo{ID: "ai", Handler: "ai"}, Identity: acme})
	}))
	defer gw.Close()
	cmd := exec.Command(node, filepath.Join(dir, "chat.mjs"), gw.URL+"/v1")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		Completion struct {
			Content string         `json:"content"`
			Usage   map[string]int `json:"usage"`
		} `json:"completion"`
		Stream struct {
			Content string         `json:"content"`
			Usage   map[string]int `json:"usage"`
			Finish  string         `json:"finish"`
		} `json:"stream"`
		Denied struct {
			Status       int    `json:"status"`
			Message      string `json:"message"`
			Code         string `json:"code"`
			Type         string `json:"type"`
			IsPermission bool   `json:"isPermission"`
		} `json:"denied"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("sdk output %q: %v", out, err)
	}
	if got.Completion.Content != "Hello! You said: hello sdk" || got.Completion.Usage["total_tokens"] != 10 {
		t.Errorf("completion %+v", got.Completion)
	}
	if got.Stream.Content != "Hello! You said: stream sdk" || got.Stream.Finish != "stop" || got.Stream.Usage["prompt_tokens"] != 5 || got.Stream.Usage["completion_tokens"] != 5 {
		t.Errorf("stream %+v", got.Stream)
	}
	d := got.Denied
	if d.Status != 403 || d.Code != "model_not_allowed" || d.Type != "permission_error" || !d.IsPermission ||
		!strings.Contains(d.Message, `model "openai/gpt-4o" is not allowed`) {
		t.Errorf("denial as the SDK sees it: %+v", d)
	}
}
