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
