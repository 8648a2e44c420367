package clientip

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"

	"pinpoint/internal/config"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []string{"10.0.0.0/8", "2001:db8:ffff::/48"}
	cases := []struct {
		name    string
		header  string
		trusted []string
		peer    string
		hdrs    map[string][]string
		want    string
	}{
		{name: "no proxies: peer", peer: "203.0.113.9:5555", want: "203.0.113.9"},
		{name: "no proxies: header ignored", peer: "203.0.113.9:5555",
			hdrs: map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, want: "203.0.113.9"},
		{name: "untrusted peer cannot choose its address", trusted: proxies, peer: "203.0.113.9:5555",
			hdrs: map[string][]string{"X-Forwarded-For": {"10.1.1.1, 1.2.3.4"}}, want: "203.0.113.9"},
		{name: "untrusted peer cannot choose via Forwarded", header: "Forwarded", trusted: proxies, peer: "203.0.113.9:5555",
			hdrs: map[string][]string{"Forwarded": {"for=1.2.3.4"}}, want: "203.0.113.9"},
		{name: "untrusted peer cannot choose via X-Real-IP", header: "X-Real-IP", trusted: proxies, peer: "203.0.113.9:5555",
			hdrs: map[string][]string{"X-Real-Ip": {"1.2.3.4"}}, want: "203.0.113.9"},
		{name: "trusted peer: rightmost untrusted hop", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.2.2.2"}}, want: "198.51.100.7"},
		{name: "client-sent spoof left of the real hop is ignored", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"10.9.9.9", "198.51.100.7"}}, want: "198.51.100.7"},
		{name: "several lines form one list", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"198.51.100.7", "10.3.3.3"}}, want: "198.51.100.7"},
		{name: "all hops trusted: leftmost trusted", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"10.5.5.5, 10.4.4.4"}}, want: "10.5.5.5"},
		{name: "malformed hop stops at last verified", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"1.1.1.1, garbage, 10.7.7.7"}}, want: "10.7.7.7"},
		{name: "trusted peer without header", trusted: proxies, peer: "10.0.0.1:1", want: "10.0.0.1"},
		{name: "IPv6 peer and hops", trusted: proxies, peer: "[2001:db8:ffff::1]:443",
			hdrs: map[string][]string{"X-Forwarded-For": {"2001:db8:1::5, 2001:db8:ffff::2"}}, want: "2001:db8:1::5"},
		{name: "mapped IPv4 hop is unmapped", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, want: "198.51.100.7"},
		{name: "Forwarded quoted with ports", header: "Forwarded", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"Forwarded": {`for=6.6.6.6, for="[2001:db8:1::5]:443";proto=https, for="10.1.1.1:80"`}}, want: "2001:db8:1::5"},
		{name: "Forwarded unknown stops", header: "Forwarded", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"Forwarded": {`for=6.6.6.6, for=unknown, for=10.1.1.1`}}, want: "10.1.1.1"},
		{name: "Forwarded malformed stops at peer", header: "Forwarded", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"Forwarded": {`for="6.6.6.6`}}, want: "10.0.0.1"},
		{name: "Forwarded element without for stops", header: "Forwarded", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"Forwarded": {`for=6.6.6.6, proto=https`}}, want: "10.0.0.1"},
		{name: "X-Real-IP from trusted peer", header: "X-Real-IP", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Real-Ip": {" 198.51.100.7 "}}, want: "198.51.100.7"},
		{name: "X-Real-IP twice is ambiguous", header: "X-Real-IP", trusted: proxies, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Real-Ip": {"198.51.100.7", "6.6.6.6"}}, want: "10.0.0.1"},
		{name: "mapped trusted proxy prefix", trusted: []string{"::ffff:10.0.0.0/104"}, peer: "10.0.0.1:1",
			hdrs: map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, want: "198.51.100.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(config.ClientIP{TrustedProxies: tc.trusted, Header: tc.header})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.peer
			for k, vs := range tc.hdrs {
				req.Header[k] = vs
			}
			if got := r.ClientIP(req); got != netip.MustParseAddr(tc.want) {
				t.Errorf("ClientIP = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(config.ClientIP{TrustedProxies: []string{"10.0.0.0/33"}}); err == nil {
		t.Error("bad CIDR accepted")
	}
	if _, err := New(config.ClientIP{Header: "X-Client"}); err == nil {
		t.Error("unknown header accepted")
	}
}

func TestPeer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:80":         "192.0.2.1",
		"[2001:db8::1]:80":     "2001:db8::1",
		"[::ffff:192.0.2.1]:1": "192.0.2.1",
		"192.0.2.1":            "192.0.2.1",
	} {
		if got := Peer(in); got.String() != want {
			t.Errorf("Peer(%q) = %v, want %v", in, got, want)
		}
	}
	if Peer("@").IsValid() {
		t.Error("Peer of a unix socket name is valid")
	}
}

func TestParseForwarded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "for=192.0.2.60;proto=http;by=203.0.113.43", want: []string{"192.0.2.60"}},
		{in: `For="[2001:db8:cafe::17]:4711"`, want: []string{"[2001:db8:cafe::17]:4711"}},
		{in: "for=192.0.2.43, for=198.51.100.17", want: []string{"192.0.2.43", "198.51.100.17"}},
		{in: `for="a\"b"`, want: []string{`a"b`}},
		{in: "proto=https", want: []string{""}},
		{in: "for=1.1.1.1;for=2.2.2.2", err: true},
		{in: `for="unterminated`, err: true},
		{in: "for", err: true},
		{in: "for=", err: true},
		{in: "for=1.1.1.1 x", err: true},
	}
	for _, tc := range cases {
		got, err := ParseForwarded(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseForwarded(%q) err = %v, want err %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("ParseForwarded(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNodeAddr(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"192.0.2.1": "192.0.2.1", "192.0.2.1:8080": "192.0.2.1", "192.0.2.1:_p": "192.0.2.1",
		"[2001:db8::1]": "2001:db8::1", "[2001:db8::1]:443": "2001:db8::1",
	}
	for in, want := range ok {
		a, good := NodeAddr(in)
		if !good || a.String() != want {
			t.Errorf("NodeAddr(%q) = %v, %v; want %v", in, a, good, want)
		}
	}
	for _, in := range []string{"", "unknown", "_hidden", "2001:db8::1", "[192.0.2.1]", "[2001:db8::1", "192.0.2.1:x", "[fe80::1%eth0]"} {
		if a, good := NodeAddr(in); good {
			t.Errorf("NodeAddr(%q) = %v, want no address", in, a)
		}
	}
}

// FuzzParseForwarded checks that parsing never panics and that parsed
// nodes survive a round trip through the header syntax: what the resolver
// reads back is exactly what a proxy wrote.
func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60;proto=http;by=203.0.113.43",
		`for="[2001:db8:cafe::17]:4711", for=unknown`,
		`for="a\"b";host=x, ,for=_hidden`,
		"for=1.1.1.1;for=2.2.2.2",
		`for="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseForwarded(s)
		if err != nil {
			return
		}
		if len(nodes) == 0 {
			t.Fatalf("ParseForwarded(%q) returned no elements and no error", s)
		}
		var b []byte
		for i, n := range nodes {
			if i > 0 {
				b = append(b, ", "...)
			}
			if n == "" {
				b = append(b, "proto=http"...)
				continue
			}
			b = append(b, `for="`...)
			for j := 0; j < len(n); j++ {
				if n[j] == '"' || n[j] == '\\' {
					b = append(b, '\\')
				}
				b = append(b, n[j])
			}
			b = append(b, '"')
		}
		again, err := ParseForwarded(string(b))
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", b, err)
		}
		if !slices.Equal(nodes, again) {
			t.Fatalf("round trip of %q: %q != %q", s, again, nodes)
		}
		for _, n := range nodes {
			if a, ok := NodeAddr(n); ok && !a.IsValid() {
				t.Fatalf("NodeAddr(%q) ok with invalid address", n)
			}
		}
	})
}

func BenchmarkClientIP(b *testing.B) {
	r, err := New(config.ClientIP{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.1:1234"
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.2.2.2")
	b.ReportAllocs()
	for b.Loop() {
		if r.ClientIP(req) != netip.MustParseAddr("198.51.100.7") {
			b.Fatal("wrong address")
		}
	}
}
