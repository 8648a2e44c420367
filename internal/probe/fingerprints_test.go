package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fixture struct {
	name   string
	expect string
	source string
	resp   *Response
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	files, err := filepath.Glob("testdata/fixtures/*.http")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		resp, meta, err := ParseRawResponse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, fixture{name: filepath.Base(f), expect: meta["expect"], source: meta["source"], resp: resp})
	}
	return out
}

// Every fixture is identified as the fingerprint its "# expect:" line
// names, and that fingerprint ranks first.
func TestFingerprintFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			if fx.expect == "" || fx.source == "" {
				t.Fatalf("fixture lacks # expect: or # source: lines")
			}
			ms := MatchFingerprints(fx.resp)
			if len(ms) == 0 {
				t.Fatalf("no fingerprint matched; want %s", fx.expect)
			}
			if got := ms[0].Fingerprint.ID; got != fx.expect {
				var ids []string
				for _, m := range ms {
					ids = append(ids, m.Fingerprint.ID)
				}
				t.Fatalf("top fingerprint %s, want %s (all: %v)", got, fx.expect, ids)
			}
			if len(ms[0].Evidence) == 0 {
				t.Errorf("match has no evidence")
			}
		})
	}
}

// Each catalog entry is covered by at least one fixture, and every
// fixture not captured here says it comes from public documentation.
func TestCatalogEntriesHaveFixtures(t *testing.T) {
	covered := map[string]bool{}
	for _, fx := range loadFixtures(t) {
		covered[fx.expect] = true
		if !strings.HasPrefix(fx.source, "captured from") && !strings.HasPrefix(fx.source, "public documentation") {
			t.Errorf("%s: source %q must say captured from … or public documentation (…)", fx.name, fx.source)
		}
	}
	seen := map[string]bool{}
	for _, f := range Catalog() {
		if seen[f.ID] {
			t.Errorf("duplicate fingerprint id %s", f.ID)
		}
		seen[f.ID] = true
		if !covered[f.ID] {
			t.Errorf("fingerprint %s has no fixture in testdata/fixtures", f.ID)
		}
		if f.Cause == "" || f.Fix == "" || f.Confidence <= 0 || f.Confidence > 100 {
			t.Errorf("fingerprint %s: cause, fix and a confidence in 1..100 are required", f.ID)
		}
	}
}

// A plain success and an unrelated 404 match nothing: fingerprints must
// not fire on every response.
func TestFingerprintsDoNotFireOnOrdinaryResponses(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: nginx\r\n\r\n{\"ok\":true}",
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found",
		"HTTP/1.1 200 OK\r\nX-RateLimit-Remaining: 42\r\nX-RateLimit-Limit: 100\r\n\r\n{}",
	} {
		r, _, err := ParseRawResponse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if ms := MatchFingerprints(r); len(ms) != 0 {
			t.Errorf("%q matched %s", raw[:20], ms[0].Fingerprint.ID)
		}
	}
}

func TestFingerprintExtractsEvidence(t *testing.T) {
	cases := map[string]string{
		"cloudflare_1020.http":         "Cloudflare Ray ID: 8d1f2c3b4a5e6f70-FRA",
		"f5_asm.http":                  "support ID: 2234567890123456789",
		"s3_skew.http":                 "server time: 2026-11-25T02:00:00Z",
		"django_csrf_cookie.http":      "reason: requires a CSRF cookie",
		"github_403.http":              "accepted permissions: issues=write",
		"imperva_incident.http":        "incident ID: 123000450123456789-987654321098765432",
		"aws_apigw_missing_token.http": "x-amzn-RequestId: 2f6f2a6e",
		"akamai_denied.http":           "Akamai reference: 18.6f3c1002.1732500000.2b3c4d5e",
	}
	fxs := map[string]fixture{}
	for _, fx := range loadFixtures(t) {
		fxs[fx.name] = fx
	}
	for name, want := range cases {
		fx, ok := fxs[name]
		if !ok {
			t.Fatalf("missing fixture %s", name)
		}
		ms := MatchFingerprints(fx.resp)
		if len(ms) == 0 {
			t.Fatalf("%s: no match", name)
		}
		if !strings.Contains(strings.Join(ms[0].Evidence, "\n"), want) {
			t.Errorf("%s: evidence %q lacks %q", name, ms[0].Evidence, want)
		}
	}
}

func TestPinpointProblemFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/fixtures/pinpoint_key_expired.http")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := ParseRawResponse(data)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ParsePinpointProblem(r)
	if !ok {
		t.Fatal("pinpoint problem not recognised")
	}
	if p.Code != "key_expired" || p.Layer != "authn" || p.RequestID != "01JCAPTUREKEYEXPIRED0000000" || p.DeniedBy != "gateway" {
		t.Fatalf("problem = %+v", p)
	}
	c := &collector{}
	analyseResponse(c, &Request{Method: "POST", URL: "http://127.0.0.1/v1/orders", Header: map[string][]string{}}, r, nil)
	f := ranked(c.findings)[0]
	if f.ID != "pinpoint.key_expired" || f.Explain != "pinpoint explain 01JCAPTUREKEYEXPIRED0000000" {
		t.Fatalf("finding = %+v", f)
	}
	if f.Fix == "" {
		t.Error("no fix from the hint or the catalog")
	}
}
