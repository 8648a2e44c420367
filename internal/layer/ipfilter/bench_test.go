package ipfilter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// BenchmarkEvaluate checks an address against a 100 000-entry deny list
// and a small allow list, the shape of a blocklist plus office ranges.
func BenchmarkEvaluate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("allow: [0.0.0.0/1, \"2001:db8::/32\"]\ndeny: [")
	for i := range 100_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%d.%d.%d.0/24", rng.IntN(128), rng.IntN(256), rng.IntN(256))
	}
	sb.WriteString("]")
	l := mustBuild(b, sb.String(), nil)
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{byte(rng.IntN(128)), byte(rng.IntN(256)), byte(rng.IntN(256)), 1})
	}
	req := &pipeline.Request{HTTP: httptest.NewRequest("GET", "/", nil)}
	ctx := context.Background()
	var denied int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req.ClientIP = addrs[i&1023]
		i++
		if l.Evaluate(ctx, req).Outcome == verdict.Deny {
			denied++
		}
	}
	if denied == 0 {
		b.Fatal("no address was denied: the benchmark does not exercise the deny path")
	}
}

// BenchmarkEvaluateAllowList is a route open only to 4 000 ranges (2 000
// IPv4, 2 000 IPv6), the shape of a partner or office allow list, asked
// about addresses inside it (hit) and outside it (miss: the denial with
// its detail).
func BenchmarkEvaluateAllowList(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	sb.WriteString("allow: [")
	v4 := make([]netip.Prefix, 2000)
	v6 := make([]netip.Prefix, 2000)
	for i := range v4 {
		// 100.64.0.0/10 holds the ranges, so 203.0.113.0/24 misses.
		v4[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(64 + rng.IntN(64)), byte(rng.IntN(256)), 0}), 24)
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
		a[4], a[5] = byte(rng.IntN(256)), byte(rng.IntN(256))
		v6[i] = netip.PrefixFrom(netip.AddrFrom16(a), 48)
		fmt.Fprintf(&sb, "%s, %q, ", v4[i], v6[i].String())
	}
	sb.WriteString("]")
	l := mustBuild(b, sb.String(), nil)
	pick := func(p netip.Prefix, host byte) netip.Addr {
		a := p.Addr().AsSlice()
		a[len(a)-1] = host
		addr, _ := netip.AddrFromSlice(a)
		return addr
	}
	hit4 := make([]netip.Addr, 1024)
	hit6 := make([]netip.Addr, 1024)
	miss4 := make([]netip.Addr, 1024)
	miss6 := make([]netip.Addr, 1024)
	for i := range hit4 {
		hit4[i] = pick(v4[rng.IntN(len(v4))], byte(1+rng.IntN(254)))
		hit6[i] = pick(v6[rng.IntN(len(v6))], byte(1+rng.IntN(254)))
		miss4[i] = netip.AddrFrom4([4]byte{203, 0, 113, byte(rng.IntN(256))})
		miss6[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb9, 15: byte(rng.IntN(256))})
	}
	for _, bc := range []struct {
		name  string
		addrs []netip.Addr
		want  verdict.Outcome
	}{
		{"hit/IPv4", hit4, verdict.Allow},
		{"hit/IPv6", hit6, verdict.Allow},
		{"miss/IPv4", miss4, verdict.Deny},
		{"miss/IPv6", miss6, verdict.Deny},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := &pipeline.Request{HTTP: httptest.NewRequest("GET", "/", nil)}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req.ClientIP = bc.addrs[i&1023]
				i++
				if v := l.Evaluate(ctx, req); v.Outcome != bc.want {
					b.Fatalf("%s: %v, want %v", req.ClientIP, v.Outcome, bc.want)
				}
			}
		})
	}
}
