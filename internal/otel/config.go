package otel

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
)

// Section is the top-level config key this package owns.
const Section = "tracing"

// Config is the tracing: section.
type Config struct {
	// OTLPEndpoint is host:port of an OTLP/HTTP collector (path
	// /v1/traces), or a full http(s) URL including the path.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// Insecure sends plain HTTP to a host:port endpoint; a URL's scheme
	// decides by itself.
	Insecure    bool   `yaml:"insecure"`
	ServiceName string `yaml:"service_name"`
	// SampleRatio is the share of new traces recorded (0..1, default 1);
	// a caller's traceparent decides for its own requests.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// Headers are sent with every export (collector credentials); they
	// are never logged.
	Headers map[string]string `yaml:"headers"`
}

// ParseConfig decodes and validates the tracing: section strictly.
func ParseConfig(node *yaml.Node) (Config, error) {
	var c Config
	if node.Kind != yaml.MappingNode {
		return c, config.NodeError(node, Section, "must be a mapping such as {otlp_endpoint: \"127.0.0.1:4318\"}")
	}
	if err := config.DecodeNode(node, &c, Section); err != nil {
		return c, err
	}
	if c.ServiceName == "" {
		c.ServiceName = "pinpoint"
	}
	if c.SampleRatio == nil {
		one := 1.0
		c.SampleRatio = &one
	}
	if r := *c.SampleRatio; r < 0 || r > 1 {
		return c, fieldError(node, "sample_ratio", fmt.Sprintf("must be between 0 and 1, got %v", r))
	}
	ep := c.OTLPEndpoint
	switch {
	case ep == "":
		return c, fieldError(node, "otlp_endpoint", "is required (host:port of an OTLP/HTTP collector, e.g. \"127.0.0.1:4318\")")
	case strings.Contains(ep, "://"):
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fieldError(node, "otlp_endpoint", fmt.Sprintf("%q is not an http(s) URL", ep))
		}
		if c.Insecure && u.Scheme == "https" {
			return c, fieldError(node, "insecure", "conflicts with an https:// endpoint; use http:// or drop insecure")
		}
	case strings.ContainsAny(ep, "/?#"):
		return c, fieldError(node, "otlp_endpoint", fmt.Sprintf("%q: use host:port, or a full URL with a scheme to set a path", ep))
	}
	for k, v := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return c, fieldError(node, "headers", fmt.Sprintf("%q is not a valid header name", k))
		}
		if strings.ContainsAny(v, "\r\n") {
			// The value itself may be a credential: name only the header.
			return c, fieldError(node, "headers", fmt.Sprintf("the value of %q contains a line break", k))
		}
	}
	return c, nil
}

// fieldError locates an error at the value of key inside the section.
func fieldError(node *yaml.Node, key, msg string) error {
	at := node
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			at = node.Content[i+1]
			break
		}
	}
	return config.NodeError(at, Section+"."+key, msg)
}
