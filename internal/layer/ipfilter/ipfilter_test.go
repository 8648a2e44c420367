package ipfilter

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func yamlNode(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

func build(t testing.TB, src string, global *config.Config) (pipeline.Layer, error) {
	t.Helper()
	b := &pipeline.Build{Env: pipeline.NewEnv(nil, nil), Path: "routes[0].ip", Global: global}
	return New(b, yamlNode(t, src))
}

func mustBuild(t testing.TB, src string, global *config.Config) pipeline.Layer {
	t.Helper()
	l, err := build(t, src, global)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func eval(l pipeline.Layer, addr string) verdict.Verdict {
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "@" // no peer address: the resolved one is all there is
	r := &pipeline.Request{HTTP: req}
	if addr != "" {
		r.ClientIP = netip.MustParseAddr(addr)
	}
	return l.Evaluate(context.Background(), r)
}

func evidence(v verdict.Verdict, key string) string {
	for _, f := range v.Evidence {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	const cfg = `
allow: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7, "::ffff:198.51.100.0/120"]
deny: [10.66.0.0/16, "2001:db8:bad::/48"]
`
	l := mustBuild(t, cfg, nil)
	cases := []struct {
		addr, code, rule, detail, matched, allowedBy string
		outcome                                      verdict.Outcome
	}{
		{addr: "10.1.2.3", outcome: verdict.Allow, allowedBy: "allow[0]"},
		{addr: "192.0.2.7", outcome: verdict.Allow, allowedBy: "allow[2]"},
		{addr: "198.51.100.9", outcome: verdict.Allow, allowedBy: "allow[3]"},
		{addr: "::ffff:10.1.2.3", outcome: verdict.Allow, allowedBy: "allow[0]"},
		{addr: "2001:db8:1::1", outcome: verdict.Allow, allowedBy: "allow[1]"},
		{addr: "10.66.1.1", outcome: verdict.Deny, code: "ip_denied", rule: "deny",
			detail: "The gateway saw your address as 10.66.1.1, which is on a deny list of this route.", matched: "deny[0] 10.66.0.0/16"},
		{addr: "2001:db8:bad::5", outcome: verdict.Deny, code: "ip_denied", rule: "deny",
			detail: "The gateway saw your address as 2001:db8:bad::5, which is on a deny list of this route.", matched: "deny[1] 2001:db8:bad::/48"},
		{addr: "203.0.113.5", outcome: verdict.Deny, code: "ip_not_allowed", rule: "allow",
			detail: "The gateway saw your address as 203.0.113.5, which is not on this route's allow list."},
		{addr: "192.0.2.8", outcome: verdict.Deny, code: "ip_not_allowed", rule: "allow",
			detail: "The gateway saw your address as 192.0.2.8, which is not on this route's allow list."},
		{addr: "2001:db9::1", outcome: verdict.Deny, code: "ip_not_allowed", rule: "allow",
			detail: "The gateway saw your address as 2001:db9::1, which is not on this route's allow list."},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			v := eval(l, tc.addr)
			if v.Outcome != tc.outcome {
				t.Fatalf("outcome %v, want %v (%+v)", v.Outcome, tc.outcome, v)
			}
			if tc.outcome == verdict.Allow {
				if got := evidence(v, "allowed_by"); got != tc.allowedBy {
					t.Errorf("allowed_by %q, want %q", got, tc.allowedBy)
				}
				return
			}
			res := v.Resolved()
			if res.Code != tc.code || res.Status != 403 || res.Layer != "ip" || res.Rule != tc.rule {
				t.Errorf("got code %q status %d layer %q rule %q", res.Code, res.Status, res.Layer, res.Rule)
			}
			if res.Detail != tc.detail {
				t.Errorf("detail %q\nwant   %q", res.Detail, tc.detail)
			}
			if evidence(v, "client_ip") != netip.MustParseAddr(tc.addr).Unmap().String() {
				t.Errorf("client_ip evidence %q", evidence(v, "client_ip"))
			}
			if got := evidence(v, "matched"); got != tc.matched {
				t.Errorf("matched evidence %q, want %q", got, tc.matched)
			}
			if strings.Contains(res.Detail, "/") {
				t.Errorf("detail reveals a list entry: %q", res.Detail)
			}
		})
	}
}

func TestPrivateAddressHint(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, "allow: [203.0.113.0/24]", nil)
	v := eval(l, "172.16.0.9").Resolved()
	if v.Code != "ip_not_allowed" || !strings.Contains(v.Hint, "client_ip.trusted_proxies") || !strings.Contains(v.Hint, "172.16.0.9") {
		t.Errorf("private address hint missing: %+v", v)
	}
	v = eval(l, "198.51.100.1").Resolved()
	if v.Hint != mustEntry(t, "ip_not_allowed").Fix {
		t.Errorf("public address should get the catalog hint, got %q", v.Hint)
	}
}

func mustEntry(t *testing.T, code string) verdict.Entry {
	e, ok := verdict.Lookup(code)
	if !ok {
		t.Fatalf("code %s missing from catalog", code)
	}
	return e
}

func TestDenyOnlyAndUnknownAddress(t *testing.T) {
	t.Parallel()
	deny := mustBuild(t, "deny: [203.0.113.0/24]", nil)
	if v := eval(deny, "198.51.100.1"); v.Outcome != verdict.Allow {
		t.Errorf("deny-only list refused an unlisted address: %+v", v)
	}
	if v := eval(deny, ""); v.Outcome != verdict.Skip {
		t.Errorf("unknown address with deny-only list: %v, want skip", v.Outcome)
	}
	// The peer address is used when the request has no resolved address.
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "203.0.113.4:999"
	if v := deny.Evaluate(context.Background(), &pipeline.Request{HTTP: req}); v.Code != "ip_denied" {
		t.Errorf("peer fallback not used: %+v", v)
	}
	allow := mustBuild(t, "allow: [203.0.113.0/24]", nil)
	req = httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "@"
	v := allow.Evaluate(context.Background(), &pipeline.Request{HTTP: req}).Resolved()
	if v.Code != "ip_not_allowed" || !strings.Contains(v.Detail, "could not determine your address") {
		t.Errorf("unknown address with allow list: %+v", v)
	}
}

func TestMostSpecificEntryIsNamed(t *testing.T) {
	t.Parallel()
	l := mustBuild(t, `deny: [10.0.0.0/8, 10.1.0.0/16, 10.1.2.0/24, 10.1.2.0/24]`, nil)
	for addr, want := range map[string]string{
		"10.1.2.3":   "deny[2] 10.1.2.0/24", // duplicate: the first listed wins
		"10.1.3.3":   "deny[1] 10.1.0.0/16",
		"10.2.0.1":   "deny[0] 10.0.0.0/8",
		"10.255.0.0": "deny[0] 10.0.0.0/8",
	} {
		if got := evidence(eval(l, addr), "matched"); got != want {
			t.Errorf("%s matched %q, want %q", addr, got, want)
		}
	}
}

func TestFilesAndNamedLists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("office.txt", "# office egress\n\n198.51.100.0/24  # Berlin\n2001:db8:10::/48\n")
	write("blocked.txt", "203.0.113.0/24\n")
	write("empty.txt", "# nothing yet\n")
	write("bad.txt", "192.0.2.0/24\n192.0.2.300\n")

	global := &config.Config{File: filepath.Join(dir, "pinpoint.yaml"), Sections: map[string]yaml.Node{
		SectionName: *yamlNode(t, "tor: {file: blocked.txt}\npartners: {cidrs: [192.0.2.0/25]}"),
	}}
	l := mustBuild(t, "allow_file: office.txt\nallow_lists: [partners]\ndeny_lists: [tor]", global)

	if v := eval(l, "198.51.100.20"); v.Outcome != verdict.Allow || evidence(v, "allowed_by") != "allow_file "+filepath.Join(dir, "office.txt")+":3" {
		t.Errorf("file entry: %+v", v)
	}
	if v := eval(l, "192.0.2.1"); v.Outcome != verdict.Allow || evidence(v, "allowed_by") != "ip_lists.partners[0]" {
		t.Errorf("named list entry: %+v", v)
	}
	v := eval(l, "203.0.113.9")
	if v.Code != "ip_denied" || v.Rule != "deny:tor" || !strings.HasSuffix(evidence(v, "matched"), "blocked.txt:1 203.0.113.0/24") {
		t.Errorf("named deny list: %+v", v)
	}

	for _, tc := range []struct{ src, want string }{
		{"allow_file: bad.txt", "bad.txt line 2: invalid address \"192.0.2.300\""},
		{"allow_file: empty.txt", "empty.txt has no CIDRs"},
		{"allow_file: missing.txt", "no such file"},
		{"deny_lists: [nope]", `routes[0].ip.deny_lists[0]: unknown list "nope"`},
		{"allow: [10.0.0.0/33]", `routes[0].ip.allow[0]: invalid CIDR "10.0.0.0/33"`},
		{"allow: [\"fe80::1%eth0\"]", "zones are not allowed"},
		{"{}", "set at least one of allow"},
		{"alow: [10.0.0.0/8]", `unknown field "alow" (did you mean "allow"?)`},
	} {
		_, err := build(t, tc.src, global)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.src, err, tc.want)
		}
	}
}

func TestPrefixBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p           string
		first, last u128
	}{
		{"0.0.0.0/0", u128{0, 0}, u128{0, 0xffffffff}},
		{"10.0.0.0/8", u128{0, 0x0a000000}, u128{0, 0x0affffff}},
		{"1.2.3.4/32", u128{0, 0x01020304}, u128{0, 0x01020304}},
		{"::/0", u128{0, 0}, u128{^uint64(0), ^uint64(0)}},
		{"2001:db8::/32", u128{0x20010db800000000, 0}, u128{0x20010db8ffffffff, ^uint64(0)}},
		{"::/64", u128{0, 0}, u128{0, ^uint64(0)}},
		{"::/63", u128{0, 0}, u128{1, ^uint64(0)}},
	} {
		f, l := prefixBounds(netip.MustParsePrefix(tc.p))
		if f != tc.first || l != tc.last {
			t.Errorf("%s: %x..%x, want %x..%x", tc.p, f, l, tc.first, tc.last)
		}
	}
}

func TestWholeSpaceWithHoles(t *testing.T) {
	t.Parallel()
	l := compile([]entry{
		{prefix: netip.MustParsePrefix("::/0"), source: "all"},
		{prefix: netip.MustParsePrefix("ffff::/16"), source: "top"},
		{prefix: netip.MustParsePrefix("::/128"), source: "zero"},
	})
	for addr, want := range map[string]string{
		"::": "zero", "::1": "all", "ffff::1": "top",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "top", "fffe::": "all",
	} {
		e := l.match(netip.MustParseAddr(addr))
		if e == nil || e.source != want {
			t.Errorf("%s matched %v, want %s", addr, e, want)
		}
	}
	if e := l.match(netip.MustParseAddr("1.2.3.4")); e != nil {
		t.Errorf("IPv4 address matched an IPv6 list: %v", e)
	}
}
