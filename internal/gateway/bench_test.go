package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/calllog"
	"pinpoint/internal/config"
	"pinpoint/internal/ids"
	_ "pinpoint/internal/layer/request" // the 415 route's layer.
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// These benchmarks measure the gateway's hot path the way bench/run.sh
// does end to end, but inside `go test` so they can be profiled:
//
//	go test ./internal/gateway -run '^$' -bench . -benchmem -cpuprofile /tmp/gw.prof
//
// The proxied and denied benchmarks run real HTTP over loopback (client,
// gateway and backend in one process, so ns/op counts all three); the
// ServeHTTP benchmarks call the handler directly and count only the
// gateway; the WriteBatch benchmark counts the call log's store write.

// benchBody is a 1 KB, 20-field JSON document like bench/body.json.
var benchBody = func() []byte {
	var b bytes.Buffer
	b.WriteString("{")
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", fmt.Sprintf("field_%02d", i), strings.Repeat("v", 38))
	}
	b.WriteString("}")
	return b.Bytes()
}()

func serveLoopback(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// benchGateway builds a gateway with the call log on a SQLite store in a
// temporary directory, proxying to a loopback backend.
func benchGateway(tb testing.TB) (*Gateway, *calllog.Log, *trace.Writer) {
	tb.Helper()
	backend := serveLoopback(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	}))
	cfg, err := config.Parse([]byte(`
listeners: [{addr: "127.0.0.1:0"}]
upstreams:
  backend: {targets: [{url: "` + backend + `"}]}
routes:
  - {id: post, path: /echo, methods: [POST], upstream: backend}
  - {id: denied, path: /denied, methods: [POST], upstream: backend, request: {content_types: [text/plain]}}
`))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(tb.TempDir(), "bench.db"))
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	log := calllog.New(st)
	w := trace.NewWriter(log, 1<<16, logger)
	g, err := New(cfg, Options{Env: pipeline.NewEnv(logger, st), Writer: w})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		g.Close()
		w.Close()
		_ = st.Close()
	})
	return g, log, w
}

func benchHTTP(b *testing.B, path string, want int) {
	g, _, w := benchGateway(b)
	base := serveLoopback(b, g)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	b.SetParallelism(16) // 32 concurrent clients on 2 cores, like wrk -c32
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(base+path, "application/json", bytes.NewReader(benchBody))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
		}
	})
	b.StopTimer()
	w.Flush()
	if w.Dropped() > 0 {
		b.Logf("%d trace records dropped", w.Dropped())
	}
}

// BenchmarkProxyPOST: client → gateway → backend, trace to SQLite.
func BenchmarkProxyPOST(b *testing.B) { benchHTTP(b, "/echo", http.StatusOK) }

// BenchmarkDeniedPOST: the request layer denies the JSON body with 415.
func BenchmarkDeniedPOST(b *testing.B) { benchHTTP(b, "/denied", http.StatusUnsupportedMediaType) }

// discardWriter is a ResponseWriter that keeps nothing, so the ServeHTTP
// benchmarks count the gateway alone.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

func benchServe(b *testing.B, path string, want int) {
	g, _, w := benchGateway(b)
	b.ReportAllocs()
	b.ResetTimer()
	u := &url.URL{Path: path}
	for i := 0; i < b.N; i++ {
		// Built by hand as a server would hand it over: httptest's
		// parser would otherwise be most of what is measured.
		r := &http.Request{Method: http.MethodPost, URL: u, RequestURI: path, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/json"}, "User-Agent": {"wrk"}}, Host: "example.com",
			Body: io.NopCloser(bytes.NewReader(benchBody)), ContentLength: int64(len(benchBody)), RemoteAddr: "192.0.2.1:1234"}
		r = r.WithContext(context.Background())
		dw := &discardWriter{h: http.Header{}}
		g.ServeHTTP(dw, r)
		if dw.status != want {
			b.Fatalf("status %d, want %d", dw.status, want)
		}
	}
	b.StopTimer()
	w.Flush()
}

// BenchmarkServeHTTPProxied is the handler's own cost for a proxied POST
// (the upstream round trip included, the client's side not).
func BenchmarkServeHTTPProxied(b *testing.B) { benchServe(b, "/echo", http.StatusOK) }

// BenchmarkServeHTTPDenied is the handler's own cost for a 415 denial.
func BenchmarkServeHTTPDenied(b *testing.B) {
	benchServe(b, "/denied", http.StatusUnsupportedMediaType)
}

// BenchmarkServeHTTPNoRoute is the handler's own cost for a 404 no_route
// denial, nearest routes and hint included.
func BenchmarkServeHTTPNoRoute(b *testing.B) { benchServe(b, "/nowhere", http.StatusNotFound) }

// benchRecord is a trace record shaped like a proxied POST's.
func benchRecord(i int) *trace.Record {
	return &trace.Record{
		ID: ids.New(), Time: time.Now(), Method: "POST", Host: "127.0.0.1:18080", Path: "/echo",
		RouteID: "post", Client: "127.0.0.1", Status: 200, Micros: 412, BytesIn: 1024, BytesOut: 12,
		Upstream: "http://127.0.0.1:18000", UpStatus: 200,
		Steps: []trace.Step{
			trace.StepFrom("route", verdict.Verdict{Rule: "post"}.With("pattern", "/echo"), 900*time.Nanosecond, ""),
			trace.StepFrom("upstream", verdict.Verdict{Rule: "http://127.0.0.1:18000"}.With("status", "200"), 150*time.Microsecond, ""),
		},
		Headers: map[string]string{"Content-Type": "application/json", "Content-Length": "1024", "User-Agent": "wrk"},
	}
}

// BenchmarkCallLogWriteBatch is the store's cost per trace record, in
// batches the size the trace writer uses.
func BenchmarkCallLogWriteBatch(b *testing.B) {
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	log := calllog.New(st)
	batch := benchBatch
	recs := make([]*trace.Record, batch)
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for j := range recs {
			recs[j] = benchRecord(n)
			n++
		}
		if err := log.WriteBatch(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

// TestCallLogDocRoundTrip guards the hand-written doc encoding the trace
// writer's store uses: a record read back from the call log equals the
// record as encoding/json round-trips it, for every field and the
// characters JSON must escape.
func TestCallLogDocRoundTrip(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "rt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	odd := "quote\" back\\slash <tag> & \n\r\t\x01 \u2028 é \xff"
	full := &trace.Record{
		ID: "rt-full", Time: time.Date(2024, 5, 1, 12, 34, 56, 789000000, time.UTC), Method: "POST", Host: "h" + odd, Path: "/p" + odd,
		Query: "a=1&b=" + odd, RouteID: "r", Client: "::1", Status: 403, Micros: 12, BytesIn: 5, BytesOut: 6,
		Consumer: "c", KeyID: "k", Tenant: "t", Upstream: "u", UpStatus: 403, DeniedBy: "gateway", Layer: "waf",
		Code: "waf_blocked", Rule: "942100", Detail: odd, Hint: "h", DryRun: true, ShadowHit: true,
		Steps: []trace.Step{
			{Layer: "waf", Outcome: "shadow_deny", Code: "waf_blocked", Rule: "942100", Detail: "d", Hint: "h", Status: 403, Mode: "shadow", Nanos: 99,
				Evidence: []verdict.Field{{Key: "matched", Value: odd}, {Key: "k2", Value: ""}}},
			{Layer: "route", Outcome: "allow", Nanos: 1},
		},
		Headers: map[string]string{"User-Agent": odd, "Authorization": "Bearer " + Redacted},
		Extra:   map[string]any{"tokens": 12, "model": "m", "nested": map[string]any{"a": []any{1.5, "x", nil, true}}},
	}
	empty := &trace.Record{ID: "rt-empty", Time: time.Unix(0, 0).UTC()}
	log := calllog.New(st)
	if err := log.WriteBatch(context.Background(), []*trace.Record{full, empty}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*trace.Record{full, empty} {
		got, err := log.Get(context.Background(), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var exp trace.Record
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &exp) {
			gb, _ := json.Marshal(got)
			t.Errorf("record %s read back differs:\n got %s\nwant %s", want.ID, gb, b)
		}
	}
}

// TestCallLogManyRecords writes more records than one INSERT carries, with
// a duplicate id, and finds each of them.
func TestCallLogManyRecords(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "many.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := calllog.New(st)
	var recs []*trace.Record
	for i := 0; i < 150; i++ {
		recs = append(recs, benchRecord(i))
	}
	again := *recs[7]
	recs = append(recs, &again) // a retried write must not fail the batch, nor be stored twice
	if err := log.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB.QueryRow(`SELECT (SELECT COUNT(*) FROM requests) + (SELECT COALESCE(SUM(n), 0) FROM request_blocks)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 150 {
		t.Fatalf("%d rows stored, want 150", n)
	}
	got, err := log.Get(context.Background(), recs[149].ID)
	if err != nil || got.Path != "/echo" || len(got.Steps) != 2 {
		t.Fatalf("record 149: %+v, %v", got, err)
	}
}

// benchBatch is the batch size BenchmarkCallLogWriteBatch writes.
var benchBatch = 512
