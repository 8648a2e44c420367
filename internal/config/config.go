package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole gateway configuration.
type Config struct {
	Listeners []Listener           `yaml:"listeners"`
	Admin     Admin                `yaml:"admin"`
	Store     Store                `yaml:"store"`
	Server    Server               `yaml:"server"`
	RequestID RequestID            `yaml:"request_id"`
	ClientIP  ClientIP             `yaml:"client_ip"`
	Redact    Redact               `yaml:"redact"`
	Upstreams map[string]*Upstream `yaml:"upstreams"`
	// Global holds layer sections applied to every route; a route's own
	// section for the same layer replaces the global one.
	Global map[string]yaml.Node `yaml:"global"`
	Routes []*Route             `yaml:"routes"`
	// Sections holds top-level sections owned by feature packages
	// (consumers, ai providers, alerts, …), decoded by them.
	Sections map[string]yaml.Node `yaml:",inline"`

	// File is where the config was read from ("" for embedded configs).
	File string `yaml:"-"`
}

// Listener is one address the gateway serves on.
type Listener struct {
	Addr string `yaml:"addr"`
	TLS  *TLS   `yaml:"tls"`
	// H2C enables cleartext HTTP/2 (prior knowledge and Upgrade).
	H2C bool `yaml:"h2c"`
	// Engine is the HTTP server behind the listener: "builtin" (the
	// default for plain HTTP/1.1: pinpoint's own, leaner server) or
	// "stdlib" (Go's net/http: always used for TLS and h2c).
	Engine string `yaml:"engine"`
}

// Listener engines.
const (
	EngineBuiltin = "builtin"
	EngineStdlib  = "stdlib"
)

// UsesBuiltin reports whether the listener runs on the builtin server.
func (l Listener) UsesBuiltin() bool {
	return l.Engine == EngineBuiltin || (l.Engine == "" && l.TLS == nil && !l.H2C)
}

// TLS names certificate and key files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Admin is the admin API listener.
type Admin struct {
	// Addr defaults to 127.0.0.1:9901; "off" disables the admin API.
	Addr string `yaml:"addr"`
	// Token is the admin bearer token (use ${ENV}); TokenHash is its
	// "sha256:<hex>" form for configs that must not hold the token.
	Token     string `yaml:"token"`
	TokenHash string `yaml:"token_hash"`
}

// Store selects the embedded or cluster store.
type Store struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a connection string for postgres.
	DSN string `yaml:"dsn"`
	// Queue is the trace queue capacity; overflow is counted, never blocks.
	Queue int `yaml:"queue"`
	// Retention bounds the call log.
	Retention Retention `yaml:"retention"`
}

// Retention bounds how much call log is kept.
type Retention struct {
	Days    int      `yaml:"days"`
	MaxSize ByteSize `yaml:"max_size"`
}

// Server holds listener-wide limits and timeouts.
type Server struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    ByteSize      `yaml:"max_header_bytes"`
	ShutdownGrace     time.Duration `yaml:"shutdown_grace"`
}

// RequestID says whose incoming request ids are honoured.
type RequestID struct {
	// Header is the incoming header to honour (default X-Request-Id).
	Header string `yaml:"header"`
	// TrustedSources are CIDRs whose incoming ids are kept; from anyone
	// else the gateway makes its own id.
	TrustedSources []string `yaml:"trusted_sources"`
}

// ClientIP configures how the client address is found.
type ClientIP struct {
	// TrustedProxies are CIDRs of proxies in front of the gateway. Only
	// when the peer is one of them is a forwarding header read, from the
	// right, skipping further trusted proxies.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Header is "X-Forwarded-For" (default) or "Forwarded".
	Header string `yaml:"header"`
}

// Redact names what never reaches the store, on top of the defaults
// (Authorization, Cookie, Set-Cookie, API-key headers and parameters).
type Redact struct {
	Headers []string `yaml:"headers"`
	Query   []string `yaml:"query"`
}

// Upstream is a named group of targets.
type Upstream struct {
	Targets []Target `yaml:"targets"`
	// Balance is round_robin (default), weighted or least_outstanding.
	Balance  string   `yaml:"balance"`
	Timeouts Timeouts `yaml:"timeouts"`
	// Retries is how many other targets an idempotent request (or one
	// with an Idempotency-Key) may try after a connection failure.
	Retries       int           `yaml:"retries"`
	PassiveHealth PassiveHealth `yaml:"passive_health"`
	HealthCheck   *HealthCheck  `yaml:"health_check"`
}

// Target is one upstream address.
type Target struct {
	URL    string `yaml:"url"`
	Weight int    `yaml:"weight"`
}

// Timeouts bound each phase of an upstream call.
type Timeouts struct {
	Connect        time.Duration `yaml:"connect"`
	ResponseHeader time.Duration `yaml:"response_header"`
	Total          time.Duration `yaml:"total"`
}

// PassiveHealth ejects a target after consecutive failures.
type PassiveHealth struct {
	Failures int           `yaml:"failures"`
	Eject    time.Duration `yaml:"eject"`
}

// HealthCheck is an active probe of every target.
type HealthCheck struct {
	Path      string        `yaml:"path"`
	Interval  time.Duration `yaml:"interval"`
	Timeout   time.Duration `yaml:"timeout"`
	Healthy   int           `yaml:"healthy"`
	Unhealthy int           `yaml:"unhealthy"`
}

// Route matches requests and says where they go and which layers apply.
type Route struct {
	ID      string   `yaml:"id"`
	Host    string   `yaml:"host"`
	Path    string   `yaml:"path"`
	Methods []string `yaml:"methods"`
	// Upstream names an entry of upstreams; Handler instead names a
	// built-in handler kind with its config (e.g. {ai: {...}}).
	Upstream string               `yaml:"upstream"`
	Handler  map[string]yaml.Node `yaml:"handler"`
	// StripPrefix removes the literal prefix of Path before proxying.
	StripPrefix bool   `yaml:"strip_prefix"`
	Tenant      string `yaml:"tenant"`
	Service     string `yaml:"service"`
	// LogBodies keeps up to this many bytes of the request and response
	// bodies in the call log (redacted); 0 keeps none.
	LogBodies ByteSize `yaml:"log_bodies"`
	// Layers holds the route's layer sections (request, ip, waf, authn,
	// …), keyed by layer name; each layer decodes its own.
	Layers map[string]yaml.Node `yaml:",inline"`

	// Line is where the route starts in the file.
	Line int `yaml:"-"`
}

// ByteSize is a size in bytes written as 1048576, "512KB", "1MB" or "1GiB".
type ByteSize int64

// UnmarshalYAML parses sizes with units.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return &Error{Line: n.Line, Msg: err.Error()}
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "10MB", "512KiB", "1024".
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToUpper(strings.TrimSpace(s[i:]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 1048576, 512KB or 10MB)", s)
	}
	mult := map[string]int64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size unit %q in %q (use B, KB, MB or GB)", unit, s)
	}
	return n * mult, nil
}

// Load reads, expands and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, err
	}
	cfg.File = path
	return cfg, nil
}

// Parse decodes and validates config bytes with the process environment.
func Parse(data []byte) (*Config, error) { return ParseWithEnv(data, osLookup) }

// ParseWithEnv decodes and validates config bytes with an env lookup.
func ParseWithEnv(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "config is empty"}
		}
		return nil, &Error{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var es Errors
	expandEnv(&doc, lookup, &es)
	if len(es) > 0 {
		return nil, es
	}
	cfg := &Config{}
	if err := DecodeNode(&doc, cfg, ""); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if rn := mappingValue(root, "routes"); rn != nil && rn.Kind == yaml.SequenceNode {
		for i, n := range rn.Content {
			if i < len(cfg.Routes) && cfg.Routes[i] != nil {
				cfg.Routes[i].Line = n.Line
			}
		}
	}
	if err := cfg.validate(root); err != nil {
		return nil, err
	}
	return cfg, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
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

func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// validate checks what the types cannot: references, required fields and
// value ranges. Every problem is reported, not just the first.
func (c *Config) validate(root *yaml.Node) error {
	var es Errors
	add := func(n *yaml.Node, path, f string, a ...any) {
		es = append(es, NodeError(n, path, fmt.Sprintf(f, a...)))
	}

	if len(c.Listeners) == 0 {
		c.Listeners = []Listener{{Addr: "127.0.0.1:8080"}}
	}
	lnNode := mappingValue(root, "listeners")
	for i, l := range c.Listeners {
		var n *yaml.Node
		if lnNode != nil && i < len(lnNode.Content) {
			n = lnNode.Content[i]
		}
		if l.Addr == "" {
			add(n, fmt.Sprintf("listeners[%d].addr", i), "required")
		}
		if l.TLS != nil && (l.TLS.CertFile == "" || l.TLS.KeyFile == "") {
			add(n, fmt.Sprintf("listeners[%d].tls", i), "cert_file and key_file are both required")
		}
		switch l.Engine {
		case "", EngineStdlib:
		case EngineBuiltin:
			if l.TLS != nil || l.H2C {
				add(n, fmt.Sprintf("listeners[%d].engine", i), "builtin serves plain HTTP/1.1; TLS and h2c listeners need engine: stdlib (or no engine)")
			}
		default:
			add(n, fmt.Sprintf("listeners[%d].engine", i), "unknown engine %q (want builtin or stdlib)", l.Engine)
		}
	}
	for _, p := range c.RequestID.TrustedSources {
		if _, err := ParsePrefix(p); err != nil {
			add(mappingValue(root, "request_id"), "request_id.trusted_sources", "%v", err)
		}
	}
	for _, p := range c.ClientIP.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			add(mappingValue(root, "client_ip"), "client_ip.trusted_proxies", "%v", err)
		}
	}
	switch strings.ToLower(c.ClientIP.Header) {
	case "", "x-forwarded-for", "forwarded", "x-real-ip":
	default:
		add(mappingValue(root, "client_ip"), "client_ip.header", "must be X-Forwarded-For, Forwarded or X-Real-IP, got %q", c.ClientIP.Header)
	}
	switch c.Store.Driver {
	case "", "sqlite", "postgres":
	default:
		add(mappingValue(root, "store"), "store.driver", "must be sqlite or postgres, got %q", c.Store.Driver)
	}
	if c.Store.Driver == "postgres" && c.Store.Retention.MaxSize > 0 {
		// PostgreSQL keeps deleted rows' space until VACUUM, so the file
		// size cannot steer pruning; bound the log by age there.
		add(mappingValue(root, "store"), "store.retention.max_size",
			"applies to the SQLite store only; on PostgreSQL bound the call log with retention.days")
	}

	upNode := mappingValue(root, "upstreams")
	names := make([]string, 0, len(c.Upstreams))
	for name, u := range c.Upstreams {
		names = append(names, name)
		path := "upstreams." + name
		n := mappingValue(upNode, name)
		if u == nil || len(u.Targets) == 0 {
			add(n, path+".targets", "at least one target is required")
			continue
		}
		for i, t := range u.Targets {
			tu, err := url.Parse(t.URL)
			if err != nil || (tu.Scheme != "http" && tu.Scheme != "https") || tu.Host == "" {
				add(n, fmt.Sprintf("%s.targets[%d].url", path, i), "want an absolute http:// or https:// URL, got %q", t.URL)
			}
			if t.Weight < 0 {
				add(n, fmt.Sprintf("%s.targets[%d].weight", path, i), "must not be negative")
			}
		}
		switch u.Balance {
		case "", "round_robin", "weighted", "least_outstanding":
		default:
			add(n, path+".balance", "must be round_robin, weighted or least_outstanding, got %q", u.Balance)
		}
		if u.Retries < 0 {
			add(n, path+".retries", "must not be negative")
		}
	}
	sort.Strings(names)

	rNode := mappingValue(root, "routes")
	ids := map[string]int{}
	for i, r := range c.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		var n *yaml.Node
		if rNode != nil && i < len(rNode.Content) {
			n = rNode.Content[i]
		}
		if r == nil {
			add(n, path, "empty route")
			continue
		}
		if r.ID == "" {
			r.ID = fmt.Sprintf("route-%d", i)
		}
		if j, dup := ids[r.ID]; dup {
			add(keyNode(n, "id"), path+".id", "duplicate route id %q (also routes[%d])", r.ID, j)
		}
		ids[r.ID] = i
		if r.Path == "" {
			add(n, path+".path", "required")
		} else if err := ValidatePattern(r.Path); err != nil {
			add(mappingValue(n, "path"), path+".path", "%v", err)
		}
		for _, m := range r.Methods {
			if !validMethod(m) {
				add(mappingValue(n, "methods"), path+".methods", "unknown method %q", m)
			}
		}
		switch {
		case r.Upstream != "" && len(r.Handler) > 0:
			add(n, path, "set either upstream or handler, not both")
		case r.Upstream == "" && len(r.Handler) == 0:
			add(n, path, "set upstream (a name from upstreams) or handler")
		case r.Upstream != "":
			if _, ok := c.Upstreams[r.Upstream]; !ok {
				msg := fmt.Sprintf("unknown upstream %q", r.Upstream)
				if s := Suggest(r.Upstream, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				es = append(es, NodeError(mappingValue(n, "upstream"), path+".upstream", msg))
			}
		case len(r.Handler) != 1:
			add(mappingValue(n, "handler"), path+".handler", "name exactly one handler kind")
		}
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

var methods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true}

func validMethod(m string) bool { return methods[m] }

// ParsePrefix parses a CIDR or a single address (as a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// ValidatePattern checks a route path pattern: it starts with "/", {param}
// segments are whole segments with a name, and "*" may only end it.
func ValidatePattern(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "*" || s == "**":
			if i != len(segs)-1 {
				return fmt.Errorf("path %q: %s may only be the last segment", p, s)
			}
		case strings.ContainsAny(s, "{}"):
			if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") || len(s) < 3 || strings.ContainsAny(s[1:len(s)-1], "{}/") {
				return fmt.Errorf("path %q: a parameter must be a whole segment like {id}", p)
			}
		case strings.Contains(s, "*"):
			return fmt.Errorf("path %q: * may only be a whole last segment", p)
		}
	}
	return nil
}
