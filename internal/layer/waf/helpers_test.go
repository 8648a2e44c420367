package waf

import (
	"context"
	"io"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// build builds a layer through its factory from a YAML section.
func build(tb testing.TB, src string) *Layer {
	tb.Helper()
	l, err := buildErr(src)
	if err != nil {
		tb.Fatalf("build: %v", err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	return l
}

func buildErr(src string) (*Layer, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	node := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(doc.Content) > 0 {
		node = doc.Content[0]
	}
	b := &pipeline.Build{Env: pipeline.NewEnv(nil, nil), Path: "routes[0].waf", Route: &pipeline.RouteInfo{ID: "r"}}
	l, err := factory(b, node)
	if err != nil {
		return nil, err
	}
	return l.(*Layer), nil
}

// req makes a pipeline request; a non-empty body is sent as contentType.
func req(method, target, contentType, body string, headers ...string) *pipeline.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr := httptest.NewRequest(method, target, rd)
	if body != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	hr.Header.Set("User-Agent", "pinpoint-test/1.0")
	hr.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		hr.Header.Set(headers[i], headers[i+1])
	}
	return &pipeline.Request{HTTP: hr, ID: "req-1", ClientIP: netip.MustParseAddr("192.0.2.10")}
}

func eval(l *Layer, r *pipeline.Request) verdict.Verdict {
	return l.Evaluate(context.Background(), r)
}

func evidenceText(v verdict.Verdict) string {
	var b strings.Builder
	for _, f := range v.Evidence {
		b.WriteString(f.Key)
		b.WriteString("=")
		b.WriteString(f.Value)
		b.WriteString("\n")
	}
	return b.String()
}

// detailNamesRule matches "942100 SQL injection"-style rule references.
var detailNamesRule = regexp.MustCompile(`\b9[0-9]{5} (SQL injection|XSS|path traversal / local file inclusion|remote command execution|remote file inclusion|PHP injection|generic attack|protocol attack|protocol enforcement|Java attack|scanner detection|method enforcement|session fixation|multipart attack)\b`)
