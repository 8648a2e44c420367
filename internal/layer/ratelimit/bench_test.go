package ratelimit

import (
	"context"
	"net/netip"
	"testing"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func benchLayer(b *testing.B, l *Layer) {
	reqs := make([]*pipeline.Request, 256)
	for i := range reqs {
		reqs[i] = request(consumer("c" + string(rune('a'+i%26)) + string(rune('a'+i/26))))
		reqs[i].ClientIP = netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if v := l.Evaluate(ctx, reqs[i&255]); v.Outcome != verdict.Allow {
			b.Fatalf("%+v", v)
		}
		i++
	}
}

// BenchmarkEvaluateMemory is one rate policy in memory, with the headers
// an allowed response carries.
func BenchmarkEvaluateMemory(b *testing.B) {
	l := mustBuild(b, pipeline.NewEnv(nil, nil), `policies: [{name: per-consumer, key: [consumer], limit: 1000000, window: 1s}]`)
	benchLayer(b, l)
}

// BenchmarkEvaluateRedis is the same policy in Redis: one EVALSHA.
func BenchmarkEvaluateRedis(b *testing.B) {
	needRedis(b)
	l := mustBuild(b, pipeline.NewEnv(nil, nil), `
backend: redis
redis: {url: "`+redisURL+`", prefix: "pinpoint-bench:"}
policies: [{name: per-consumer, key: [consumer], limit: 1000000, window: 1s}]`)
	benchLayer(b, l)
}
