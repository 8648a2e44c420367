package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"pinpoint/internal/store"
)

// Ports the demo's config is rendered with.
type Ports struct {
	Gateway  string // host:port of the gateway listener
	Admin    string // host:port of the admin API
	Upstream string // base URL of the demo upstream
	// Dead is a base URL where nothing listens (for upstream_unreachable).
	Dead  string
	Store string // SQLite file
	// AIMock is the base URL of the mock model provider.
	AIMock string
}

// Example is one ready-to-paste request and what it must produce.
type Example struct {
	Title   string
	Method  string
	Path    string
	Headers [][2]string
	Body    string
	// CurlData, when set, replaces Body in the printed curl (a shell
	// expression that makes a long body).
	CurlData string
	// Status and Code are what the gateway answers ("" code: allowed).
	Status int
	Code   string
	// DeniedBy is "upstream" for a denial the upstream makes itself.
	DeniedBy string
	// Order sorts examples in the printed list.
	Order float64
}

// Curl renders the example as a curl command against the gateway.
func (e Example) Curl(gateway string) string {
	var b strings.Builder
	b.WriteString("curl -si")
	if e.Method != "GET" {
		b.WriteString(" -X " + e.Method)
	}
	b.WriteString(" " + shellQuote("http://"+gateway+e.Path))
	for _, h := range e.Headers {
		b.WriteString(" -H " + shellQuote(h[0]+": "+h[1]))
	}
	switch {
	case e.CurlData != "":
		b.WriteString(" --data-raw " + e.CurlData)
	case e.Body != "":
		b.WriteString(" --data-raw " + shellQuote(e.Body))
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Extension adds config and examples to the demo; feature packages
// (identity, traffic protection, AI) register one each.
type Extension struct {
	Name string
	// Config returns YAML fragments: top-level sections, upstreams and
	// routes, keyed "sections", "upstreams" and "routes" (each a YAML
	// fragment indented as in the base config).
	Config func(p Ports) map[string]string
	// Examples returns the extension's requests.
	Examples func(p Ports) []Example
}

var (
	extMu      sync.Mutex
	extensions []Extension
)

// Register adds an extension.
func Register(e Extension) {
	extMu.Lock()
	defer extMu.Unlock()
	extensions = append(extensions, e)
}

func exts() []Extension {
	extMu.Lock()
	defer extMu.Unlock()
	out := append([]Extension(nil), extensions...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Config renders the demo's config.
func Config(p Ports) string {
	var sections, upstreams, routes strings.Builder
	for _, e := range exts() {
		if e.Config == nil {
			continue
		}
		parts := e.Config(p)
		sections.WriteString(parts["sections"])
		upstreams.WriteString(parts["upstreams"])
		routes.WriteString(parts["routes"])
	}
	return fmt.Sprintf(`# The demo's config: pinpoint demo renders it with free loopback ports.
listeners:
  - addr: %q
admin:
  addr: %q
store:
  dsn: %q
upstreams:
  demo:
    targets: [{url: %q}]
    retries: 1
  slow:
    targets: [{url: %q}]
    timeouts: {response_header: 1s}
  down:
    targets: [{url: %q}]
    timeouts: {connect: 500ms}
  broken:
    # The same demo service, as its own upstream so that its broken answers
    # eject no target that the other routes use.
    targets: [{url: %q}]
  gone:
    # One target, ejected for ten minutes after one failure.
    targets: [{url: %q}]
    timeouts: {connect: 500ms}
    passive_health: {failures: 1, eject: 10m}
%s
routes:
  - id: orders-create
    path: /orders
    methods: [POST]
    upstream: demo
    service: orders
    request:
      max_body: 1KB
      content_types: [application/json]
      json: true
  - id: orders-read
    path: /orders/{id}
    methods: [GET]
    upstream: demo
    service: orders
  - id: events
    path: /events
    methods: [GET]
    upstream: demo
  - id: legacy
    path: /legacy/*
    upstream: demo
  - id: slow
    path: /slow
    upstream: slow
  - id: reports
    path: /reports/*
    upstream: down
  - id: broken
    path: /broken
    methods: [GET]
    upstream: broken
  - id: archive
    path: /archive/*
    methods: [GET]
    upstream: gone
%s%s`, p.Gateway, p.Admin, p.Store, p.Upstream, p.Upstream, p.Dead, p.Upstream, p.Dead, upstreams.String(), routes.String(), sections.String())
}

// Examples lists every demo request, the success first.
func Examples(p Ports) []Example {
	json := [2]string{"Content-Type", "application/json"}
	ex := []Example{
		{Order: 0, Title: "A POST that succeeds", Method: "POST", Path: "/orders", Headers: [][2]string{json}, Body: `{"item":"book","qty":1}`, Status: 200},
		{Order: 1, Title: "A mistyped path (no route; the gateway suggests the right one)", Method: "POST", Path: "/order", Headers: [][2]string{json}, Body: `{"item":"book"}`, Status: 404, Code: "no_route"},
		{Order: 2, Title: "A method the path does not accept", Method: "DELETE", Path: "/orders", Status: 405, Code: "method_not_allowed"},
		{Order: 3, Title: "A body over the route's 1 KB limit", Method: "POST", Path: "/orders", Headers: [][2]string{json}, Body: `{"note":"` + strings.Repeat("0", 1100) + `"}`, CurlData: `"{\"note\":\"$(printf '%01100d' 0)\"}"`, Status: 413, Code: "body_too_large"},
		{Order: 4, Title: "JSON sent as a form", Method: "POST", Path: "/orders", Headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, Body: `{"item":"book"}`, Status: 415, Code: "unsupported_media_type"},
		{Order: 5, Title: "Malformed JSON (the detail names line and column)", Method: "POST", Path: "/orders", Headers: [][2]string{json}, Body: "{\"item\": \"book\",\n \"qty\": 1,}", Status: 400, Code: "malformed_body"},
		{Order: 80, Title: "An upstream that is down (502, never a 403)", Method: "GET", Path: "/reports/daily", Status: 502, Code: "upstream_unreachable"},
		{Order: 81, Title: "An upstream that is too slow (504)", Method: "GET", Path: "/slow", Status: 504, Code: "upstream_timeout"},
		{Order: 82, Title: "The upstream's own 403, passed through and marked", Method: "POST", Path: "/legacy/accounts", Headers: [][2]string{json}, Body: `{}`, Status: 403, DeniedBy: "upstream"},
		{Order: 82.5, Title: "An upstream's only target fails (502; passive health ejects it)", Method: "GET", Path: "/archive/2025", Status: 502, Code: "upstream_unreachable"},
		{Order: 82.6, Title: "The same upstream while its target is ejected (503, no connection tried; the demo's own run already ejected it)", Method: "GET", Path: "/archive/2025", Status: 503, Code: "no_healthy_upstream"},
		{Order: 83, Title: "An upstream answer with two Content-Lengths (502: the gateway does not pass on a framing it cannot trust)", Method: "GET", Path: "/broken", Status: 502, Code: "upstream_bad_response"},
	}
	for _, e := range exts() {
		if e.Examples != nil {
			ex = append(ex, e.Examples(p)...)
		}
	}
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].Order < ex[j].Order })
	return ex
}

// Prepare seeds the demo's store before the gateway starts; extensions
// with data (consumers, keys) add to it through RegisterPrepare.
func Prepare(ctx context.Context, st *store.Store, p Ports) error {
	extMu.Lock()
	ps := append([]func(context.Context, *store.Store, Ports) error(nil), prepares...)
	extMu.Unlock()
	for _, f := range ps {
		if err := f(ctx, st, p); err != nil {
			return err
		}
	}
	return nil
}

var prepares []func(context.Context, *store.Store, Ports) error

// RegisterPrepare adds a seeding step.
func RegisterPrepare(f func(context.Context, *store.Store, Ports) error) {
	extMu.Lock()
	defer extMu.Unlock()
	prepares = append(prepares, f)
}
