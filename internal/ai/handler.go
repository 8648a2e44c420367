package ai

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/ai/usage"
	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"

	// Provider adapters register their kinds.
	_ "pinpoint/internal/ai/provider/anthropic"
	_ "pinpoint/internal/ai/provider/gemini"
	_ "pinpoint/internal/ai/provider/openai"
)

func init() {
	pipeline.RegisterHandler("ai", newHandler)
}

// HandlerConfig is a route's `handler: {ai: {...}}`.
type HandlerConfig struct {
	// Template publishes one prompt template at the route.
	Template string `yaml:"template"`
	// Endpoint pins the API the route serves (chat, embeddings, models,
	// messages); by default it is chosen by the path's last segments.
	Endpoint string `yaml:"endpoint"`
	// Policy is the consumers entry applied to callers without an
	// identity (routes without authn); default "default".
	Policy string `yaml:"policy"`
}

// Handler answers an AI route.
type Handler struct {
	g        *Gateway
	endpoint string
	tmpl     string
	policy   string
}

var _ pipeline.Handler = (*Handler)(nil)

type deps struct {
	ledger *usage.Ledger
	health *keyHealth
	client *http.Client
	logger *slog.Logger
	now    func() time.Time
}

// sharedDeps returns what outlives a reload: spend counters, key health
// and the connection pool to providers.
func sharedDeps(env *pipeline.Env) (deps, error) {
	d := deps{logger: env.Logger, now: env.Now}
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	l, err := env.Shared("ai.ledger", func() (any, error) {
		return usage.NewLedger(context.Background(), env.Store, d.logger, d.now)
	})
	if err != nil {
		return d, err
	}
	d.ledger = l.(*usage.Ledger)
	h, _ := env.Shared("ai.keyhealth", func() (any, error) { return newKeyHealth(), nil })
	d.health = h.(*keyHealth)
	c, _ := env.Shared("ai.client", func() (any, error) { return newClient(), nil })
	d.client = c.(*http.Client)
	return d, nil
}

// newClient is the HTTP client for providers. No overall timeout: streams
// last as long as the model writes; each attempt has its own deadline for
// the first answer instead.
func newClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t}
}

// compiled caches the last compiled `ai:` section, so a config with many
// AI routes compiles (and reports errors in) the section once.
var compiled struct {
	sync.Mutex
	cfg *config.Config
	env *pipeline.Env
	g   *Gateway
	err error
}

func gatewayFor(b *pipeline.Build) (*Gateway, error) {
	compiled.Lock()
	defer compiled.Unlock()
	if b.Global != nil && compiled.cfg == b.Global && compiled.env == b.Env {
		return compiled.g, compiled.err
	}
	var node *yaml.Node
	if b.Global != nil {
		if n, ok := b.Global.Sections["ai"]; ok {
			node = &n
		}
	}
	g, err := buildGateway(b.Env, node)
	if b.Global != nil {
		compiled.cfg, compiled.env, compiled.g, compiled.err = b.Global, b.Env, g, err
	}
	return g, err
}

// buildGateway decodes and compiles an `ai:` section.
func buildGateway(env *pipeline.Env, node *yaml.Node) (*Gateway, error) {
	cfg, err := decodeConfig(node)
	if err != nil {
		return nil, err
	}
	d, err := sharedDeps(env)
	if err != nil {
		return nil, err
	}
	return newGateway(cfg, node, d)
}

func newHandler(b *pipeline.Build, node *yaml.Node) (pipeline.Handler, error) {
	var hc HandlerConfig
	if err := b.Decode(node, &hc); err != nil {
		return nil, err
	}
	switch hc.Endpoint {
	case "", "chat", "embeddings", "models", "messages":
	default:
		return nil, b.Errorf(node, "endpoint", "%q is not one of chat, embeddings, models, messages", hc.Endpoint)
	}
	g, err := gatewayFor(b)
	if err != nil {
		return nil, err
	}
	if hc.Template != "" && g.templates[hc.Template] == nil {
		msg := fmt.Sprintf("no template %q under ai.templates", hc.Template)
		if s := config.Suggest(hc.Template, sortedKeys(g.templates)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, b.Errorf(node, "template", "%s", msg)
	}
	if hc.Policy != "" && g.consumers[hc.Policy] == nil {
		return nil, b.Errorf(node, "policy", "no policy %q under ai.consumers", hc.Policy)
	}
	if b.Route != nil {
		b.Route.Format = uint8(verdict.OpenAI)
	}
	return &Handler{g: g, endpoint: hc.Endpoint, tmpl: hc.Template, policy: hc.Policy}, nil
}

// endpointOf picks the API by the path's last segments.
func endpointOf(p string) string {
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		return "chat"
	case strings.HasSuffix(p, "/embeddings"):
		return "embeddings"
	case strings.HasSuffix(p, "/messages"):
		return "messages"
	case strings.HasSuffix(p, "/models"):
		return "models"
	}
	return ""
}

// Serve answers one request.
func (h *Handler) Serve(w http.ResponseWriter, r *pipeline.Request) {
	if r.Route != nil {
		r.Route.Format = uint8(verdict.OpenAI)
	}
	if r.MaxBody == 0 || r.MaxBody > h.g.maxBody {
		r.MaxBody = h.g.maxBody
	}
	if h.tmpl != "" {
		if !h.method(w, r, http.MethodPost) {
			return
		}
		h.serveTemplate(w, r)
		return
	}
	ep := h.endpoint
	if ep == "" {
		ep = endpointOf(r.HTTP.URL.Path)
	}
	switch ep {
	case "chat":
		if h.method(w, r, http.MethodPost) {
			h.serveChat(w, r)
		}
	case "embeddings":
		if h.method(w, r, http.MethodPost) {
			h.serveEmbeddings(w, r)
		}
	case "messages":
		if h.method(w, r, http.MethodPost) {
			h.serveMessages(w, r)
		}
	case "models":
		if h.method(w, r, http.MethodGet) {
			h.serveModels(w, r)
		}
	default:
		h.deny(w, r, verdict.Denied("ai_request_invalid", "ai.endpoint",
			fmt.Sprintf("%s is not an AI endpoint; use POST /v1/chat/completions, POST /v1/embeddings, POST /v1/messages or GET /v1/models", r.HTTP.URL.Path)).WithStatus(http.StatusNotFound))
	}
}

func (h *Handler) method(w http.ResponseWriter, r *pipeline.Request, m string) bool {
	if r.HTTP.Method == m || (m == http.MethodGet && r.HTTP.Method == http.MethodHead) {
		return true
	}
	h.deny(w, r, verdict.Denied("method_not_allowed", "ai.endpoint",
		fmt.Sprintf("%s %s is not supported; use %s", r.HTTP.Method, r.HTTP.URL.Path, m)).WithHeader("Allow", m))
	return false
}

// deny records the denial as the ai step and renders it.
func (h *Handler) deny(w http.ResponseWriter, r *pipeline.Request, v verdict.Verdict) {
	r.AddStep("ai", v, 0)
	r.Deny(w, v)
}
