package alerts

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/calllog"
	"pinpoint/internal/config"
	"pinpoint/internal/trace"
)

// Config is the top-level alerts section.
type Config struct {
	Renotify *time.Duration      `yaml:"renotify"`
	Webhooks map[string]*Webhook `yaml:"webhooks"`
	Rules    []*Rule             `yaml:"rules"`
}

// Webhook is one notification target.
type Webhook struct {
	URL string `yaml:"url"`
	// Secret signs each delivery (Pinpoint-Signature); use ${ENV}.
	Secret  string            `yaml:"secret"`
	Timeout time.Duration     `yaml:"timeout"`
	Retries *int              `yaml:"retries"`
	Backoff time.Duration     `yaml:"backoff"`
	Headers map[string]string `yaml:"headers"`
}

// Rule is one alert rule.
type Rule struct {
	ID          string        `yaml:"id"`
	Kind        string        `yaml:"kind"`
	Where       Match         `yaml:"where"`
	Match       Match         `yaml:"match"`
	GroupBy     string        `yaml:"group_by"`
	Threshold   string        `yaml:"threshold"`
	MinRequests int64         `yaml:"min_requests"`
	Window      time.Duration `yaml:"window"`
	PrefixV4    int           `yaml:"prefix_v4"`
	PrefixV6    int           `yaml:"prefix_v6"`
	Remember    time.Duration `yaml:"remember"`
	Webhooks    []string      `yaml:"webhooks"`

	threshold float64
	where     matcher
	match     matcher
}

// Match selects requests; every field set must hold.
type Match struct {
	Route    string `yaml:"route"`
	Consumer string `yaml:"consumer"`
	Layer    string `yaml:"layer"`
	Code     string `yaml:"code"`
	// Status is "403" or a class "4xx".
	Status string `yaml:"status"`
	// Client is an address or CIDR.
	Client string `yaml:"client"`
	// Shadow matches requests a shadowed policy would have denied.
	Shadow bool `yaml:"shadow"`
}

type matcher struct {
	m        Match
	lo, hi   int
	prefix   netip.Prefix
	any      bool
	describe string
}

var groupFields = []string{"route", "consumer", "client", "layer", "code", "status"}

// Parse decodes and validates the alerts section; errors name the path
// and line.
func Parse(node *yaml.Node) (*Config, error) {
	var c Config
	if err := config.DecodeNode(node, &c, "alerts"); err != nil {
		return nil, err
	}
	var es config.Errors
	bad := func(path, format string, a ...any) {
		es = append(es, config.NodeError(node, path, fmt.Sprintf(format, a...)))
	}
	if c.Renotify == nil {
		d := time.Hour
		c.Renotify = &d
	}
	for name, w := range c.Webhooks {
		p := "alerts.webhooks." + name
		if w == nil {
			bad(p, "needs a url")
			continue
		}
		if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			bad(p+".url", "want an http:// or https:// URL, got %q", w.URL)
		}
		if w.Timeout <= 0 {
			w.Timeout = 5 * time.Second
		}
		if w.Retries == nil {
			n := 3
			w.Retries = &n
		} else if *w.Retries < 0 || *w.Retries > 20 {
			bad(p+".retries", "want 0 to 20")
		}
		if w.Backoff <= 0 {
			w.Backoff = time.Second
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		p := fmt.Sprintf("alerts.rules[%d]", i)
		if r == nil {
			bad(p, "empty rule")
			continue
		}
		if r.ID == "" {
			bad(p+".id", "every rule needs an id (it names the alert)")
		} else if seen[r.ID] {
			bad(p+".id", "duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Window <= 0 {
			bad(p+".window", "required: how far back the rule looks, e.g. 5m")
		}
		switch r.Kind {
		case "rate":
			v, err := parseRate(r.Threshold)
			if err != nil {
				bad(p+".threshold", "%v", err)
			}
			r.threshold = v
		case "count":
			v, err := strconv.ParseFloat(strings.TrimSpace(r.Threshold), 64)
			if err != nil || v < 0 {
				bad(p+".threshold", "want a count like 100, got %q", r.Threshold)
			}
			r.threshold = v
		case "new_range":
			if r.PrefixV4 == 0 {
				r.PrefixV4 = 24
			}
			if r.PrefixV6 == 0 {
				r.PrefixV6 = 48
			}
			if r.PrefixV4 < 1 || r.PrefixV4 > 32 {
				bad(p+".prefix_v4", "want 1 to 32")
			}
			if r.PrefixV6 < 1 || r.PrefixV6 > 128 {
				bad(p+".prefix_v6", "want 1 to 128")
			}
			if r.Remember <= 0 {
				r.Remember = 24 * time.Hour
			}
			if r.GroupBy != "" {
				bad(p+".group_by", "new_range groups by address range itself")
			}
		default:
			bad(p+".kind", "want rate, count or new_range, got %q", r.Kind)
		}
		if r.GroupBy != "" && !contains(groupFields, r.GroupBy) {
			bad(p+".group_by", "want one of %s, got %q%s", strings.Join(groupFields, ", "), r.GroupBy, config.Suggest(r.GroupBy, groupFields))
		}
		var err error
		if r.where, err = compile(r.Where); err != nil {
			bad(p+".where", "%v", err)
		}
		if r.match, err = compile(r.Match); err != nil {
			bad(p+".match", "%v", err)
		}
		if r.Kind != "rate" && r.match.any && r.where.any {
			bad(p+".match", "a %s rule needs a match (e.g. code: key_expired), or it counts every request", r.Kind)
		}
		for _, name := range r.Webhooks {
			if c.Webhooks[name] == nil {
				bad(p+".webhooks", "no webhook named %q under alerts.webhooks", name)
			}
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return &c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseRate reads "5%" or "0.05".
func parseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if pct {
		v /= 100
	}
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("want a share like 5%% or 0.05, got %q", s)
	}
	return v, nil
}

func compile(m Match) (matcher, error) {
	c := matcher{m: m}
	var parts []string
	if m.Status != "" {
		lo, hi, err := calllog.ParseStatus(m.Status)
		if err != nil {
			return c, err
		}
		c.lo, c.hi = lo, hi
		parts = append(parts, "status "+m.Status)
	}
	if m.Client != "" {
		if p, err := netip.ParsePrefix(m.Client); err == nil {
			c.prefix = p.Masked()
		} else if a, err := netip.ParseAddr(m.Client); err == nil {
			c.prefix = netip.PrefixFrom(a, a.BitLen())
		} else {
			return c, fmt.Errorf("client %q is not an address or CIDR", m.Client)
		}
		parts = append(parts, "client "+m.Client)
	}
	for _, kv := range [][2]string{{"route", m.Route}, {"consumer", m.Consumer}, {"layer", m.Layer}, {"code", m.Code}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if m.Shadow {
		parts = append(parts, "shadow denials")
	}
	c.any = len(parts) == 0
	c.describe = strings.Join(parts, ", ")
	return c, nil
}

func (c *matcher) matches(r *trace.Record) bool {
	if c.any {
		return true
	}
	m := &c.m
	if (m.Route != "" && m.Route != r.RouteID) || (m.Consumer != "" && m.Consumer != r.Consumer) ||
		(m.Shadow && !r.ShadowHit) || (!m.Shadow && ((m.Layer != "" && m.Layer != r.Layer) || (m.Code != "" && m.Code != r.Code))) {
		return false
	}
	if m.Shadow && (m.Layer != "" || m.Code != "") && !shadowStep(r, m.Layer, m.Code) {
		return false
	}
	if c.lo != 0 && (r.Status < c.lo || r.Status > c.hi) {
		return false
	}
	if c.prefix.IsValid() {
		a, err := netip.ParseAddr(r.Client)
		if err != nil || !c.prefix.Contains(a.Unmap()) {
			return false
		}
	}
	return true
}

// groupOf is the value of the rule's group_by field for r.
func groupOf(field string, r *trace.Record) string {
	switch field {
	case "route":
		return r.RouteID
	case "consumer":
		return r.Consumer
	case "client":
		return r.Client
	case "layer":
		return r.Layer
	case "code":
		return r.Code
	case "status":
		return strconv.Itoa(r.Status)
	}
	return ""
}

// shadowStep reports whether a shadowed policy of layer (any when "")
// would have denied r with code (any when "").
func shadowStep(r *trace.Record, layer, code string) bool {
	for _, s := range r.Steps {
		if s.Outcome == "shadow_deny" && (layer == "" || s.Layer == layer) && (code == "" || s.Code == code) {
			return true
		}
	}
	return false
}
