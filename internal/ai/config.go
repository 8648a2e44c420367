package ai

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/ai/provider"
	"pinpoint/internal/ai/template"
	"pinpoint/internal/ai/usage"
	"pinpoint/internal/config"
)

// Config is the top-level `ai:` section.
type Config struct {
	Providers []ProviderConfig `yaml:"providers"`
	// Aliases are model names of the gateway's own ("fast", "smart"),
	// each naming a provider model and optional fallbacks.
	Aliases map[string]AliasConfig `yaml:"aliases"`
	// Fallbacks are chains tried after a provider model fails with 429,
	// 5xx, a timeout or a connection error, keyed by "provider/model".
	Fallbacks map[string][]string `yaml:"fallbacks"`
	// Prices override the default price table (USD per million tokens),
	// keyed "provider/model", "kind/model" or "model".
	Prices map[string]usage.Price `yaml:"prices"`
	// Consumers are policies by consumer id (or name); "default" applies
	// to every consumer without its own entry.
	Consumers map[string]PolicyConfig `yaml:"consumers"`
	// Keys are policies by API key id, applied on top of the consumer's.
	Keys      map[string]PolicyConfig  `yaml:"keys"`
	Templates map[string]template.Spec `yaml:"templates"`
	// EstimateCompletionTokens is the completion size reserved against
	// budgets and token limits when a request sets no max_tokens
	// (default 512).
	EstimateCompletionTokens int `yaml:"estimate_completion_tokens"`
	// BudgetStatus is the status of budget_exhausted: 429 (default) or 403.
	BudgetStatus int `yaml:"budget_status"`
	// MaxBody caps request bodies (default 4MB).
	MaxBody config.ByteSize `yaml:"max_body"`
}

// ProviderConfig is one provider account.
type ProviderConfig struct {
	Name string `yaml:"name"`
	// Kind is openai, azure, anthropic, gemini, mistral, ollama or
	// compatible (any OpenAI-compatible base URL).
	Kind    string `yaml:"kind"`
	BaseURL string `yaml:"base_url"`
	// APIKey is a single credential; Keys lists several with weights.
	APIKey     string            `yaml:"api_key"`
	Keys       []KeyConfig       `yaml:"keys"`
	APIVersion string            `yaml:"api_version"`
	Headers    map[string]string `yaml:"headers"`
	// Models restricts the provider to these model names; empty accepts
	// any name the provider knows. /v1/models lists these.
	Models []string `yaml:"models"`
	// Timeout bounds one attempt until the answer (non-streamed) or the
	// first event (streamed); default 60s.
	Timeout time.Duration `yaml:"timeout"`
	// EjectFor is how long a key answered with 401/403 stays out of
	// rotation (default 5m).
	EjectFor time.Duration `yaml:"eject_for"`
}

// KeyConfig is one provider credential. Use ${ENV} references: the value
// is never logged or shown.
type KeyConfig struct {
	ID     string `yaml:"id"`
	Key    string `yaml:"key"`
	Weight int    `yaml:"weight"`
}

// AliasConfig maps a gateway model name to a provider model.
type AliasConfig struct {
	Model     string   `yaml:"model"`
	Fallbacks []string `yaml:"fallbacks"`
}

// PolicyConfig is what a consumer or key may use.
type PolicyConfig struct {
	// Models are allowed model names or patterns (path.Match syntax:
	// "openai/*", "fast"); empty allows every model.
	Models []string `yaml:"models"`
	// RPM and TPM are requests and tokens per minute over all models.
	RPM int `yaml:"rpm"`
	TPM int `yaml:"tpm"`
	// ModelLimits are per-model RPM/TPM, keyed by model name or pattern.
	ModelLimits map[string]Limit `yaml:"model_limits"`
	Budget      BudgetConfig     `yaml:"budget"`
}

// Limit is a per-minute limit.
type Limit struct {
	RPM int `yaml:"rpm"`
	TPM int `yaml:"tpm"`
}

// BudgetConfig is spending limits in USD.
type BudgetConfig struct {
	DailyUSD   float64 `yaml:"daily_usd"`
	MonthlyUSD float64 `yaml:"monthly_usd"`
}

// decodeConfig decodes and validates the `ai:` section.
func decodeConfig(node *yaml.Node) (*Config, error) {
	cfg := &Config{}
	if node != nil {
		if err := config.DecodeNode(node, cfg, "ai"); err != nil {
			return nil, err
		}
	}
	var es config.Errors
	add := func(p, f string, a ...any) {
		es = append(es, config.NodeError(find(node, p), "ai."+p, fmt.Sprintf(f, a...)))
	}
	names := map[string]bool{}
	for i, p := range cfg.Providers {
		at := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "":
			add(at+".name", "required")
		case strings.ContainsAny(p.Name, "/ *?["):
			add(at+".name", "%q: a provider name may not contain / * ? [ or spaces", p.Name)
		case names[p.Name]:
			add(at+".name", "duplicate provider %q", p.Name)
		}
		names[p.Name] = true
		k, ok := provider.Lookup(p.Kind)
		if !ok {
			msg := fmt.Sprintf("unknown kind %q (one of %s)", p.Kind, strings.Join(provider.Kinds(), ", "))
			if s := config.Suggest(p.Kind, provider.Kinds()); s != "" && p.Kind != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			add(at+".kind", "%s", msg)
			continue
		}
		base := p.BaseURL
		if base == "" {
			base = k.DefaultBaseURL
		}
		if base == "" {
			add(at+".base_url", "required for kind %s", p.Kind)
		} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(at+".base_url", "want an absolute http:// or https:// URL, got %q", base)
		}
		if k.NeedsAPIVersion && p.APIVersion == "" {
			add(at+".api_version", "required for kind %s (e.g. 2024-10-21)", p.Kind)
		}
		if p.APIKey != "" && len(p.Keys) > 0 {
			add(at, "set api_key or keys, not both")
		}
		if p.APIKey == "" && len(p.Keys) == 0 && !k.KeyOptional {
			add(at+".api_key", "a credential is required for kind %s (api_key: ${ENV_VAR}, or keys)", p.Kind)
		}
		ids := map[string]bool{}
		for j, key := range p.Keys {
			kat := fmt.Sprintf("%s.keys[%d]", at, j)
			if key.ID == "" {
				add(kat+".id", "required (a name for the key in traces and logs)")
			} else if ids[key.ID] {
				add(kat+".id", "duplicate key id %q", key.ID)
			}
			ids[key.ID] = true
			if key.Key == "" {
				add(kat+".key", "empty (is the environment variable set?)")
			}
			if key.Weight < 0 {
				add(kat+".weight", "must not be negative")
			}
		}
		if p.Timeout < 0 || p.EjectFor < 0 {
			add(at, "timeout and eject_for must not be negative")
		}
	}
	if cfg.BudgetStatus != 0 && cfg.BudgetStatus != 429 && cfg.BudgetStatus != 403 && cfg.BudgetStatus != 402 {
		add("budget_status", "want 429, 403 or 402, got %d", cfg.BudgetStatus)
	}
	if cfg.EstimateCompletionTokens < 0 {
		add("estimate_completion_tokens", "must not be negative")
	}
	for name, pc := range cfg.Consumers {
		checkPolicy("consumers."+name, pc, add)
	}
	for name, pc := range cfg.Keys {
		checkPolicy("keys."+name, pc, add)
	}
	for name, p := range cfg.Prices {
		if p.Input < 0 || p.Output < 0 {
			add("prices."+name, "prices must not be negative")
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return cfg, nil
}

func checkPolicy(at string, pc PolicyConfig, add func(string, string, ...any)) {
	for i, m := range pc.Models {
		if _, err := path.Match(m, ""); err != nil {
			add(fmt.Sprintf("%s.models[%d]", at, i), "bad pattern %q: %v", m, err)
		}
	}
	if pc.RPM < 0 || pc.TPM < 0 {
		add(at, "rpm and tpm must not be negative")
	}
	if pc.Budget.DailyUSD < 0 || pc.Budget.MonthlyUSD < 0 {
		add(at+".budget", "budgets must not be negative")
	}
	for m := range pc.ModelLimits {
		if _, err := path.Match(m, ""); err != nil {
			add(at+".model_limits."+m, "bad pattern: %v", err)
		}
	}
}

// find returns the node at a dotted path below node (for error lines),
// or node itself when the path does not resolve.
func find(node *yaml.Node, p string) *yaml.Node {
	cur := node
	for _, part := range strings.Split(p, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		next := mapValue(cur, name)
		if next == nil {
			return cur
		}
		if idx >= 0 {
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return next
			}
			next = next.Content[idx]
		}
		cur = next
	}
	return cur
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
