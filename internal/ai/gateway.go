package ai

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/ai/provider"
	"pinpoint/internal/ai/template"
	"pinpoint/internal/ai/usage"
	"pinpoint/internal/config"
)

// Gateway is the compiled `ai:` section: providers, model routing,
// policies, prices and templates. Handlers of every AI route share one.
type Gateway struct {
	providers  map[string]*Provider
	provOrder  []string
	aliases    map[string]alias
	aliasOrder []string
	fallbacks  map[string][]Target
	prices     *usage.Prices
	consumers  map[string]*Policy
	keys       map[string]*Policy
	templates  map[string]*template.Template

	estCompletion int
	budgetStatus  int
	maxBody       int64

	ledger *usage.Ledger
	health *keyHealth
	client *http.Client
	logger *slog.Logger
	now    func() time.Time
}

// Provider is one configured provider account.
type Provider struct {
	Name       string
	Kind       string
	adapter    provider.Adapter
	baseURL    string
	apiVersion string
	headers    map[string]string
	keys       []providerKey
	keyless    bool
	models     map[string]bool
	modelList  []string
	timeout    time.Duration
	ejectFor   time.Duration
}

type providerKey struct {
	id     string
	secret string
	weight int
}

// Target is one provider model a request can be sent to.
type Target struct {
	Provider *Provider
	Model    string
}

// Name is the target's "provider/model" name.
func (t Target) Name() string { return t.Provider.Name + "/" + t.Model }

type alias struct {
	target    Target
	fallbacks []Target
}

// Policy is a compiled PolicyConfig.
type Policy struct {
	Models      []string
	RPM, TPM    int
	ModelLimits map[string]Limit
	Daily       usage.Micros
	Monthly     usage.Micros
}

func compilePolicy(pc PolicyConfig) *Policy {
	return &Policy{Models: pc.Models, RPM: pc.RPM, TPM: pc.TPM, ModelLimits: pc.ModelLimits,
		Daily: usage.FromUSD(pc.Budget.DailyUSD), Monthly: usage.FromUSD(pc.Budget.MonthlyUSD)}
}

// newGateway compiles cfg. node is the `ai:` section, for error lines.
func newGateway(cfg *Config, node *yaml.Node, deps deps) (*Gateway, error) {
	g := &Gateway{
		providers: map[string]*Provider{}, aliases: map[string]alias{}, fallbacks: map[string][]Target{},
		consumers: map[string]*Policy{}, keys: map[string]*Policy{}, templates: map[string]*template.Template{},
		prices: usage.NewPrices(cfg.Prices), estCompletion: cfg.EstimateCompletionTokens, budgetStatus: cfg.BudgetStatus,
		maxBody: int64(cfg.MaxBody), ledger: deps.ledger, health: deps.health, client: deps.client, logger: deps.logger, now: deps.now,
	}
	if g.estCompletion == 0 {
		g.estCompletion = 512
	}
	if g.budgetStatus == 0 {
		g.budgetStatus = http.StatusTooManyRequests
	}
	if g.maxBody == 0 {
		g.maxBody = 4 << 20
	}
	for _, pc := range cfg.Providers {
		k, _ := provider.Lookup(pc.Kind)
		p := &Provider{Name: pc.Name, Kind: pc.Kind, adapter: k.Adapter, baseURL: pc.BaseURL, apiVersion: pc.APIVersion,
			headers: pc.Headers, timeout: pc.Timeout, ejectFor: pc.EjectFor, keyless: k.KeyOptional}
		if p.baseURL == "" {
			p.baseURL = k.DefaultBaseURL
		}
		if p.timeout == 0 {
			p.timeout = 60 * time.Second
		}
		if p.ejectFor == 0 {
			p.ejectFor = 5 * time.Minute
		}
		if pc.APIKey != "" {
			p.keys = []providerKey{{id: pc.Name, secret: pc.APIKey, weight: 1}}
		}
		for _, kc := range pc.Keys {
			w := kc.Weight
			if w == 0 {
				w = 1
			}
			p.keys = append(p.keys, providerKey{id: kc.ID, secret: kc.Key, weight: w})
		}
		if len(pc.Models) > 0 {
			p.models = map[string]bool{}
			for _, m := range pc.Models {
				p.models[m] = true
			}
			p.modelList = pc.Models
		}
		g.providers[p.Name] = p
		g.provOrder = append(g.provOrder, p.Name)
	}
	var es config.Errors
	add := func(p, f string, a ...any) {
		es = append(es, config.NodeError(find(node, p), "ai."+p, fmt.Sprintf(f, a...)))
	}
	target := func(at, name string) (Target, bool) {
		t, err := g.providerTarget(name)
		if err != "" {
			add(at, "%s", err)
			return Target{}, false
		}
		return t, true
	}
	for _, name := range sortedKeys(cfg.Aliases) {
		ac := cfg.Aliases[name]
		at := "aliases." + name
		if strings.Contains(name, "/") {
			add(at, "an alias may not contain / (that form names a provider model)")
			continue
		}
		t, ok := target(at+".model", ac.Model)
		if !ok {
			continue
		}
		a := alias{target: t}
		for i, f := range ac.Fallbacks {
			if ft, ok := target(fmt.Sprintf("%s.fallbacks[%d]", at, i), f); ok {
				a.fallbacks = append(a.fallbacks, ft)
			}
		}
		g.aliases[name] = a
		g.aliasOrder = append(g.aliasOrder, name)
	}
	for _, name := range sortedKeys(cfg.Fallbacks) {
		if _, ok := target("fallbacks."+name, name); !ok {
			continue
		}
		for i, f := range cfg.Fallbacks[name] {
			if ft, ok := target(fmt.Sprintf("fallbacks.%s[%d]", name, i), f); ok {
				g.fallbacks[name] = append(g.fallbacks[name], ft)
			}
		}
	}
	for name, pc := range cfg.Consumers {
		g.consumers[name] = compilePolicy(pc)
	}
	for name, pc := range cfg.Keys {
		g.keys[name] = compilePolicy(pc)
	}
	for _, name := range sortedKeys(cfg.Templates) {
		t, err := template.Compile(name, cfg.Templates[name])
		if err != nil {
			add("templates."+name, "%v", err)
			continue
		}
		if _, _, msg := g.resolve(t.Spec.Model); msg != "" {
			add("templates."+name+".model", "%s", msg)
			continue
		}
		g.templates[name] = t
	}
	if len(es) > 0 {
		return nil, es
	}
	for _, name := range g.provOrder {
		p := g.providers[name]
		for _, m := range p.modelList {
			if _, ok := g.prices.Lookup(p.Name, p.Kind, m); !ok && p.Kind != "ollama" {
				g.logger.Warn("ai: no price for model; its calls are recorded at zero cost (add it under ai.prices)", "layer", "ai", "model", p.Name+"/"+m)
			}
		}
	}
	return g, nil
}

// providerTarget resolves "provider/model"; msg says why it does not.
func (g *Gateway) providerTarget(name string) (Target, string) {
	pn, model, ok := strings.Cut(name, "/")
	if !ok || pn == "" || model == "" {
		return Target{}, fmt.Sprintf("%q is not a provider model (want provider/model)", name)
	}
	p := g.providers[pn]
	if p == nil {
		return Target{}, fmt.Sprintf("%q names no configured provider %q", name, pn)
	}
	if p.models != nil && !p.models[model] {
		return Target{}, fmt.Sprintf("provider %q does not list model %q", pn, model)
	}
	return Target{Provider: p, Model: model}, ""
}

// resolve turns a requested model name (an alias, "provider/model", or a
// bare model name that exactly one provider lists) into the target and its
// fallback chain. msg is the caller-safe reason when it does not resolve.
func (g *Gateway) resolve(name string) (Target, []Target, string) {
	if a, ok := g.aliases[name]; ok {
		chain := append(append([]Target(nil), a.fallbacks...), g.fallbacks[a.target.Name()]...)
		return a.target, chain, ""
	}
	if strings.Contains(name, "/") {
		t, msg := g.providerTarget(name)
		if msg != "" {
			return Target{}, nil, fmt.Sprintf("model %q is not available on this gateway", name)
		}
		return t, g.fallbacks[t.Name()], ""
	}
	var found []Target
	for _, pn := range g.provOrder {
		if p := g.providers[pn]; p.models[name] {
			found = append(found, Target{Provider: p, Model: name})
		}
	}
	switch len(found) {
	case 1:
		return found[0], g.fallbacks[found[0].Name()], ""
	case 0:
		return Target{}, nil, fmt.Sprintf("model %q is not available on this gateway; name it as provider/model or use an alias", name)
	}
	return Target{}, nil, fmt.Sprintf("model %q is offered by several providers; name it as provider/model", name)
}

// modelNames lists every model name a caller can ask for, aliases first.
func (g *Gateway) modelNames() []string {
	out := append([]string(nil), g.aliasOrder...)
	for _, pn := range g.provOrder {
		for _, m := range g.providers[pn].modelList {
			out = append(out, pn+"/"+m)
		}
	}
	return out
}

// matchModel reports whether a name matches a policy pattern.
func matchModel(pattern, name string) bool {
	if pattern == name || pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
