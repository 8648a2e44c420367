package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"

	"pinpoint/internal/ai/chat"
)

// Endpoint is where and how one call reaches a provider: the base URL, one
// of its credentials, and the HTTP client. Secret never leaves the gateway
// except in the header the provider expects.
type Endpoint struct {
	BaseURL string
	KeyID   string
	Secret  string
	// APIVersion is Azure's api-version query parameter.
	APIVersion string
	// Headers are extra headers from config (e.g. OpenAI-Organization).
	Headers map[string]string
	Client  *http.Client
}

// Call is one chat completion sent to a provider.
type Call struct {
	Endpoint Endpoint
	// Model is the provider's own model name (no "provider/" prefix).
	Model string
	Req   *chat.Request
	// Raw is the caller's original OpenAI-format body, when there is one.
	// OpenAI-compatible adapters forward it with only the model changed, so
	// fields the gateway does not model (logprobs, seed, response_format…)
	// still reach the provider.
	Raw []byte
	// WantUsage is whether the caller asked for a usage chunk at the end
	// of a stream; adapters always obtain usage, but only emit it then.
	WantUsage bool
}

// Result is a non-streamed completion in OpenAI's shape.
type Result struct {
	// Body is the response body for the caller (OpenAI chat.completion).
	Body  []byte
	Usage chat.Usage
	// Model is the model the provider says answered.
	Model string
}

// Stream is an open streamed completion. Next returns the next chunk in
// OpenAI's shape, or io.EOF after the last one. Usage is valid after
// io.EOF; ok is false when the provider never reported it.
type Stream interface {
	Next() (*chat.Chunk, error)
	Usage() (u chat.Usage, ok bool)
	Close() error
}

// Adapter is one provider kind's translation.
type Adapter interface {
	Chat(ctx context.Context, c *Call) (*Result, error)
	Stream(ctx context.Context, c *Call) (Stream, error)
}

// EmbedCall is one embeddings request.
type EmbedCall struct {
	Endpoint Endpoint
	Model    string
	Req      *chat.EmbeddingRequest
	Raw      []byte
}

// Embedder is implemented by adapters whose provider offers embeddings.
type Embedder interface {
	Embed(ctx context.Context, c *EmbedCall) (*Result, error)
}

// Kind describes a provider kind: its adapter and defaults.
type Kind struct {
	Name string
	// DefaultBaseURL is used when config gives none; "" means required.
	DefaultBaseURL string
	// KeyOptional is true for providers that run without credentials
	// (a local Ollama).
	KeyOptional bool
	// NeedsAPIVersion is true for Azure OpenAI.
	NeedsAPIVersion bool
	Adapter         Adapter
}

var (
	mu    sync.RWMutex
	kinds = map[string]Kind{}
)

// Register makes a provider kind available to config; adapters call it
// from init.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Name]; dup {
		panic(fmt.Sprintf("provider: kind %q registered twice", k.Name))
	}
	kinds[k.Name] = k
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, bool) {
	mu.RLock()
	defer mu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Kinds lists registered kind names, sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ReadJSON reads and closes a provider's answer and decodes it into v. It
// returns the raw bytes too (some adapters pass them through). A broken
// connection is a transport error; a body that is not JSON is a 502.
func ReadJSON(ctx context.Context, resp *http.Response, v any) ([]byte, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, Transport(ctx, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Message: "provider answered with invalid JSON: " + err.Error()}
	}
	return data, nil
}
