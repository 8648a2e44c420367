package waf

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
)

// Defaults applied when a field is left out.
const (
	DefaultParanoia         = 1
	DefaultInboundThreshold = 5
	DefaultBodyLimit        = 1 << 20
	// maxBodyLimit keeps Coraza's in-memory body buffer bounded: the WAF
	// never spills bodies to temporary files.
	maxBodyLimit = 64 << 20
)

// Config is one route's `waf:` section.
type Config struct {
	// Paranoia is the CRS blocking paranoia level, 1 (fewest false
	// positives) to 4 (most rules).
	Paranoia int `yaml:"paranoia"`
	// InboundThreshold is the inbound anomaly score at which CRS blocks
	// (a critical match scores 5).
	InboundThreshold int `yaml:"inbound_threshold"`
	// DetectionOnly records what would have been blocked (a shadow
	// denial) and lets the request through.
	DetectionOnly bool `yaml:"detection_only"`
	// Exclude switches single rules off, for the whole route or for one
	// target (e.g. rule 942100 for ARGS:comment).
	Exclude []Exclusion `yaml:"exclude"`
	// BodyLimit is the largest body the WAF inspects; larger bodies are
	// refused (fail closed) rather than passed uninspected.
	BodyLimit config.ByteSize `yaml:"body_limit"`
	// AllowedMethods overrides CRS's tx.allowed_methods (rule 911100).
	// The default admits the methods REST APIs use; the route's own
	// method list is the real restriction.
	AllowedMethods []string `yaml:"allowed_methods"`
}

// Exclusion removes one rule, optionally only for one target.
type Exclusion struct {
	Rule int `yaml:"rule"`
	// Target is a variable such as ARGS:comment, REQUEST_HEADERS:User-Agent
	// or REQUEST_COOKIES:/^session/; empty removes the rule entirely.
	Target string `yaml:"target"`
}

// defaultAllowedMethods admits what API routes serve. CRS's own default
// (GET HEAD POST OPTIONS) would make every PUT, PATCH and DELETE a
// false positive of rule 911100.
var defaultAllowedMethods = []string{"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"}

// targetCollections are the variables an exclusion may name. The list is
// closed so that a target can never smuggle SecLang syntax into the
// generated directives.
var targetCollections = map[string]bool{
	"ARGS": true, "ARGS_GET": true, "ARGS_POST": true, "ARGS_NAMES": true,
	"ARGS_GET_NAMES": true, "ARGS_POST_NAMES": true,
	"REQUEST_HEADERS": true, "REQUEST_HEADERS_NAMES": true,
	"REQUEST_COOKIES": true, "REQUEST_COOKIES_NAMES": true,
	"REQUEST_URI": true, "REQUEST_FILENAME": true, "REQUEST_BASENAME": true,
	"REQUEST_LINE": true, "QUERY_STRING": true, "REQUEST_BODY": true,
	"XML": true, "FILES": true, "FILES_NAMES": true,
}

// targetKey is a literal key (json.items.0.note, User-Agent) or a
// /regex/ key; quotes, spaces, commas and pipes are refused because they
// delimit SecLang variables and arguments.
var (
	targetKey    = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]$@*]+$`)
	targetRegex  = regexp.MustCompile(`^/[^"'\s,|\\]+/$`)
	methodSyntax = regexp.MustCompile(`^[A-Z]+$`)
)

// parseConfig decodes, defaults and validates a section.
func parseConfig(b *pipeline.Build, node *yaml.Node) (Config, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return c, err
	}
	if c.Paranoia == 0 {
		c.Paranoia = DefaultParanoia
	}
	if c.Paranoia < 1 || c.Paranoia > 4 {
		return c, b.Errorf(field(node, "paranoia"), "paranoia", "paranoia must be 1, 2, 3 or 4, got %d", c.Paranoia)
	}
	if c.InboundThreshold == 0 {
		c.InboundThreshold = DefaultInboundThreshold
	}
	if c.InboundThreshold < 1 {
		return c, b.Errorf(field(node, "inbound_threshold"), "inbound_threshold", "inbound_threshold must be at least 1, got %d", c.InboundThreshold)
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.BodyLimit < 0 || c.BodyLimit > maxBodyLimit {
		return c, b.Errorf(field(node, "body_limit"), "body_limit", "body_limit must be between 1 byte and 64MB, got %d bytes", int64(c.BodyLimit))
	}
	if len(c.AllowedMethods) == 0 {
		c.AllowedMethods = defaultAllowedMethods
	}
	for i, m := range c.AllowedMethods {
		if !methodSyntax.MatchString(m) {
			return c, b.Errorf(field(node, "allowed_methods"), fmt.Sprintf("allowed_methods[%d]", i), "%q is not an HTTP method (use upper case, e.g. PUT)", m)
		}
	}
	exNode := field(node, "exclude")
	for i, ex := range c.Exclude {
		path := fmt.Sprintf("exclude[%d]", i)
		at := exNode
		if exNode != nil && exNode.Kind == yaml.SequenceNode && i < len(exNode.Content) {
			at = exNode.Content[i]
		}
		if ex.Rule < 1 || ex.Rule > 9999999 {
			return c, b.Errorf(at, path+".rule", "rule must be a CRS rule id such as 942100, got %d", ex.Rule)
		}
		if ex.Target != "" {
			if err := validTarget(ex.Target); err != "" {
				return c, b.Errorf(field(at, "target"), path+".target", "%s", err)
			}
		}
	}
	return c, nil
}

// validTarget returns why target is not an exclusion target, or "".
func validTarget(target string) string {
	col, key, hasKey := strings.Cut(target, ":")
	if !targetCollections[col] {
		return fmt.Sprintf("target %q must start with a variable such as ARGS, REQUEST_HEADERS or REQUEST_COOKIES", target)
	}
	if !hasKey {
		return ""
	}
	if key == "" || (!targetKey.MatchString(key) && !targetRegex.MatchString(key)) {
		return fmt.Sprintf("target %q has an invalid key: use a name such as ARGS:comment or a /regex/ without quotes, spaces, commas or pipes", target)
	}
	return ""
}

// engineKey identifies the WAF a config needs. Detection-only and the body
// limit are enforced by the layer, not by Coraza, so routes that differ
// only in those share one WAF.
func (c Config) engineKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pl=%d;th=%d;m=%s", c.Paranoia, c.InboundThreshold, strings.Join(c.AllowedMethods, " "))
	ex := make([]string, len(c.Exclude))
	for i, e := range c.Exclude {
		ex[i] = strconv.Itoa(e.Rule) + "|" + e.Target
	}
	sort.Strings(ex)
	b.WriteString(";ex=")
	b.WriteString(strings.Join(ex, ","))
	return b.String()
}

// field returns the value node of key in a mapping node, or the mapping
// itself so that errors still carry a line.
func field(node *yaml.Node, key string) *yaml.Node {
	if node != nil && node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == key {
				return node.Content[i+1]
			}
		}
	}
	return node
}
