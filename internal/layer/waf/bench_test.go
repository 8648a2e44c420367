package waf

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"syscall"
	"testing"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// json20Fields is the benchmark body of the speed target: about 1 KB of
// JSON with 20 string fields of ordinary prose.
const json20Fields = `{"title":"Quarterly planning notes for the product team","author":"Maria Gonzalez",` +
	`"summary":"We reviewed the roadmap and agreed on three goals for the quarter.",` +
	`"location":"Conference room B, second floor","status":"in progress","priority":"medium",` +
	`"description":"The team will focus on onboarding, billing fixes and better reports.",` +
	`"owner":"james.miller","category":"planning","comment":"Thanks everyone for the great discussion today.",` +
	`"next_step":"Send the summary to the wider group by Friday afternoon.","risk":"Hiring may take longer than expected.",` +
	`"budget_note":"Travel costs stay within the approved amount for this year.","customer":"Contoso Limited",` +
	`"feedback":"Customers like the new dashboard but want faster exports.","language":"English",` +
	`"timezone":"Europe/Berlin","reviewer":"Aiko Tanaka","decision":"Ship the first version in June.",` +
	`"remarks":"Follow up with finance about the updated forecast next week."}`

var noPrefilter = flag.Bool("waf.noprefilter", false, "benchmark with the @rx prefilter off (every regex runs, as in stock Coraza)")

func benchLayer(b *testing.B, paranoia string) {
	prefilterOff = *noPrefilter
	defer func() { prefilterOff = false }()
	l := build(b, "paranoia: "+paranoia)
	body := []byte(json20Fields)
	ip := netip.MustParseAddr("192.0.2.10")
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	// Collect the garbage of building the rule set now, so that the
	// requests do not pay for it.
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		hr := httptest.NewRequest("POST", "/v1/notes?draft=true", io.NopCloser(bytes.NewReader(body)))
		hr.ContentLength = int64(len(body))
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36")
		hr.Header.Set("Accept", "application/json")
		v := l.Evaluate(ctx, &pipeline.Request{HTTP: hr, ID: "bench", ClientIP: ip})
		if v.Outcome != verdict.Allow {
			b.Fatalf("benign benchmark body was not allowed: %v %s %s", v.Outcome, v.Code, v.Detail)
		}
	}
	// The machine is shared, so wall time per op moves with the load;
	// process CPU time per op (GC included) is the figure the target is
	// stated in.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user plus system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkWAF_JSON20Fields is the speed target: a 1 KB JSON POST with 20
// string fields at paranoia 1 (and 2 for comparison).
func BenchmarkWAF_JSON20Fields(b *testing.B) {
	b.Run("PL1", func(b *testing.B) { benchLayer(b, "1") })
	b.Run("PL2", func(b *testing.B) { benchLayer(b, "2") })
}
