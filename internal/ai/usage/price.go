package usage

import (
	"math"
	"strings"

	"pinpoint/internal/ai/chat"
)

// Micros is an amount in millionths of a US dollar. Integer arithmetic
// keeps budget sums exact.
type Micros int64

// USD converts to dollars.
func (m Micros) USD() float64 { return float64(m) / 1e6 }

// FromUSD converts dollars to micros.
func FromUSD(usd float64) Micros { return Micros(math.Round(usd * 1e6)) }

// Price is a model's price in USD per million tokens.
type Price struct {
	Input  float64 `yaml:"input" json:"input"`
	Output float64 `yaml:"output" json:"output"`
}

// Cost is what usage costs at this price. Fractions of a micro-dollar are
// rounded up, so that a call that used tokens never costs zero.
func (p Price) Cost(u chat.Usage) Micros {
	c := float64(u.PromptTokens)*p.Input + float64(u.CompletionTokens)*p.Output // micro-USD, since prices are per million
	return Micros(math.Ceil(c - 1e-9))
}

// defaultPrices are list prices (USD per million tokens) of common models,
// keyed by provider kind and model. Config entries override them; dated
// model versions (gpt-4o-2024-08-06) match their base name.
var defaultPrices = map[string]Price{
	"openai/gpt-5":                  {1.25, 10},
	"openai/gpt-5-mini":             {0.25, 2},
	"openai/gpt-5-nano":             {0.05, 0.4},
	"openai/gpt-4.1":                {2, 8},
	"openai/gpt-4.1-mini":           {0.4, 1.6},
	"openai/gpt-4.1-nano":           {0.1, 0.4},
	"openai/gpt-4o":                 {2.5, 10},
	"openai/gpt-4o-mini":            {0.15, 0.6},
	"openai/gpt-4-turbo":            {10, 30},
	"openai/gpt-3.5-turbo":          {0.5, 1.5},
	"openai/o1":                     {15, 60},
	"openai/o3":                     {2, 8},
	"openai/o3-mini":                {1.1, 4.4},
	"openai/o4-mini":                {1.1, 4.4},
	"openai/text-embedding-3-small": {0.02, 0},
	"openai/text-embedding-3-large": {0.13, 0},
	"openai/text-embedding-ada-002": {0.1, 0},
	"anthropic/claude-opus-4":       {15, 75},
	"anthropic/claude-sonnet-4":     {3, 15},
	"anthropic/claude-sonnet-4-5":   {3, 15},
	"anthropic/claude-haiku-4-5":    {1, 5},
	"anthropic/claude-3-7-sonnet":   {3, 15},
	"anthropic/claude-3-5-sonnet":   {3, 15},
	"anthropic/claude-3-5-haiku":    {0.8, 4},
	"anthropic/claude-3-opus":       {15, 75},
	"anthropic/claude-3-haiku":      {0.25, 1.25},
	"gemini/gemini-2.5-pro":         {1.25, 10},
	"gemini/gemini-2.5-flash":       {0.3, 2.5},
	"gemini/gemini-2.5-flash-lite":  {0.1, 0.4},
	"gemini/gemini-2.0-flash":       {0.1, 0.4},
	"gemini/gemini-1.5-pro":         {1.25, 5},
	"gemini/gemini-1.5-flash":       {0.075, 0.3},
	"gemini/text-embedding-004":     {0, 0},
	"mistral/mistral-large-latest":  {2, 6},
	"mistral/mistral-medium-latest": {0.4, 2},
	"mistral/mistral-small-latest":  {0.1, 0.3},
	"mistral/codestral-latest":      {0.3, 0.9},
	"mistral/open-mistral-nemo":     {0.15, 0.15},
	"mistral/mistral-embed":         {0.1, 0},
	"azure/gpt-4o":                  {2.5, 10},
	"azure/gpt-4o-mini":             {0.15, 0.6},
	"azure/gpt-4.1":                 {2, 8},
	"azure/gpt-4.1-mini":            {0.4, 1.6},
	"azure/text-embedding-3-small":  {0.02, 0},
	"openai/chatgpt-4o-latest":      {5, 15},
	"anthropic/claude-opus-4-1":     {15, 75},
	"openai/gpt-4":                  {30, 60},
	"anthropic/claude-2.1":          {8, 24},
	"gemini/gemini-1.5-flash-8b":    {0.0375, 0.15},
}

// Prices looks up a model's price: config entries first, then defaults.
type Prices struct {
	table map[string]Price
}

// NewPrices builds a table from config entries (keyed "provider/model",
// "kind/model" or "model") over the defaults.
func NewPrices(config map[string]Price) *Prices {
	t := make(map[string]Price, len(defaultPrices)+len(config))
	for k, v := range defaultPrices {
		t[k] = v
	}
	for k, v := range config {
		t[k] = v
	}
	return &Prices{table: t}
}

// Lookup finds the price of model served by the provider named name of
// kind kind. It tries name/model, kind/model and model exactly, then the
// longest key that model starts with (so dated versions and deployment
// suffixes find their base model, and gpt-4o-mini never takes gpt-4o's
// price).
func (p *Prices) Lookup(name, kind, model string) (Price, bool) {
	for _, k := range [...]string{name + "/" + model, kind + "/" + model, model} {
		if v, ok := p.table[k]; ok {
			return v, true
		}
	}
	best, bestLen := Price{}, 0
	for k, v := range p.table {
		prov, m, ok := strings.Cut(k, "/")
		if !ok || (prov != name && prov != kind) {
			continue
		}
		if len(m) > bestLen && strings.HasPrefix(model, m) && (len(model) == len(m) || model[len(m)] == '-' || model[len(m)] == '@' || model[len(m)] == ':') {
			best, bestLen = v, len(m)
		}
	}
	return best, bestLen > 0
}
