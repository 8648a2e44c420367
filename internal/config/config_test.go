package config

import (
	"strings"
	"testing"
)

func TestStrictErrorsNamePathLineAndSuggestion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"dangling upstream", `
upstreams:
  orders: {targets: [{url: "http://127.0.0.1:1"}]}
routes:
  - {id: a, path: /a, upstream: orders}
  - {id: b, path: /b, upstream: orders}
  - {id: c, path: /c, upstream: ordrs}
`, []string{`line 7: routes[2].upstream: unknown upstream "ordrs" (did you mean "orders"?)`}},
		{"unknown field", `
upstreams:
  orders: {targets: [{url: "http://127.0.0.1:1"}], retires: 2}
`, []string{`line 3: upstreams.orders: unknown field "retires" (did you mean "retries"?)`}},
		{"wrong type", `
upstreams:
  orders: {targets: [{url: "http://127.0.0.1:1"}], retries: many}
`, []string{"line 3:", "cannot unmarshal", "many"}},
		{"bad pattern", `
upstreams: {a: {targets: [{url: "http://x"}]}}
routes: [{path: "orders/{id", upstream: a}]
`, []string{"routes[0].path", "must start with /"}},
		{"bad target url", `
upstreams: {a: {targets: [{url: "127.0.0.1:80"}]}}
`, []string{"upstreams.a.targets[0].url", "absolute http"}},
		{"every error reported", `
upstreams: {a: {targets: [{url: "http://x"}], balance: random}}
routes: [{path: /a, upstream: b}, {path: /b}]
`, []string{"balance", `unknown upstream "b"`, "set upstream"}},
		{"missing env", `
admin: {token: "${PINPOINT_TEST_UNSET_VAR}"}
`, []string{"line 2:", "PINPOINT_TEST_UNSET_VAR is not set"}},
		{"duplicate id", `
upstreams: {a: {targets: [{url: "http://x"}]}}
routes: [{id: x, path: /a, upstream: a}, {id: x, path: /b, upstream: a}]
`, []string{`duplicate route id "x"`}},
		{"size retention on postgres", `
store: {driver: postgres, dsn: "postgres://127.0.0.1/pp", retention: {max_size: 1GB}}
`, []string{"line 2:", "store.retention.max_size", "SQLite store only", "retention.days"}},
		{"builtin engine with TLS", `
listeners:
  - {addr: "127.0.0.1:8443", tls: {cert_file: c.pem, key_file: k.pem}, engine: builtin}
`, []string{"line 3:", "listeners[0].engine", "plain HTTP/1.1", "engine: stdlib"}},
		{"unknown engine", `
listeners: [{addr: "127.0.0.1:8080", engine: nginx}]
`, []string{"line 2:", "listeners[0].engine", `unknown engine "nginx"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseWithEnv([]byte(c.yaml), func(string) (string, bool) { return "", false })
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TOKEN": "s3cret", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := ParseWithEnv([]byte(`
admin: {token: "${TOKEN}", addr: "${ADDR:-127.0.0.1:9999}"}
store: {dsn: "$${literal}"}
`), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Token != "s3cret" || c.Admin.Addr != "127.0.0.1:9999" || c.Store.DSN != "${literal}" {
		t.Fatalf("expanded: %+v %+v", c.Admin, c.Store)
	}
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1024": 1024, "1KB": 1024, "10MB": 10 << 20, "2GiB": 2 << 30, "512 KiB": 512 << 10} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1", "1XB", "1.5MB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", bad)
		}
	}
}

// FuzzParse: any input gives a config or an error, never a panic or hang.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`routes: [{path: /a, upstream: x}]`))
	f.Add([]byte("upstreams:\n  a: {targets: [{url: \"http://x\"}]}\nroutes:\n  - {path: \"/a/{id}\", upstream: a, request: {max_body: 1KB}}\n"))
	f.Add([]byte(`admin: {token: "${X:-y}"}`))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("routes: {"))
	f.Add([]byte("global: {waf: {paranoia: 1}}\nconsumers: []"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseWithEnv(data, func(string) (string, bool) { return "v", true })
	})
}

func TestListenerEngine(t *testing.T) {
	t.Parallel()
	tls := &TLS{CertFile: "c", KeyFile: "k"}
	for _, c := range []struct {
		l    Listener
		want bool
	}{
		{Listener{Addr: "a"}, true},
		{Listener{Addr: "a", Engine: EngineStdlib}, false},
		{Listener{Addr: "a", TLS: tls}, false},
		{Listener{Addr: "a", H2C: true}, false},
		{Listener{Addr: "a", Engine: EngineBuiltin}, true},
	} {
		if got := c.l.UsesBuiltin(); got != c.want {
			t.Errorf("%+v: UsesBuiltin %v, want %v", c.l, got, c.want)
		}
	}
}
