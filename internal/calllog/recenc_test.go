package calllog

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"pinpoint/internal/ids"
	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// fullRecord sets every field, with bytes JSON would have to escape or
// replace (the block encoding keeps them as they were).
func fullRecord(id string) *trace.Record {
	odd := "quote\" back\\slash <tag> & \n\r\t\x01 \u2028 é \xff"
	return &trace.Record{
		ID: id, Time: time.Date(2024, 5, 1, 12, 34, 56, 789000001, time.FixedZone("", 2*3600)), Method: "POST", Host: "h" + odd, Path: "/p" + odd,
		Query: "a=1&b=" + odd, RouteID: "r", Client: "::1", Status: 403, Micros: 12, BytesIn: 5, BytesOut: -6,
		Consumer: "c", KeyID: "k", Tenant: "t", Upstream: "u", UpStatus: 403, DeniedBy: "gateway", Layer: "waf",
		Code: "waf_blocked", Rule: "942100", Detail: odd, Hint: "h", DryRun: true, ShadowHit: true,
		Steps: []trace.Step{
			{Layer: "waf", Outcome: "shadow_deny", Code: "waf_blocked", Rule: "942100", Detail: "d", Hint: "h", Status: 403, Mode: "shadow", Nanos: 99,
				Evidence: []verdict.Field{{Key: "matched", Value: odd}, {Key: "k2", Value: ""}}},
			{Layer: "route", Outcome: "allow", Nanos: 1},
		},
		Headers: map[string]string{"User-Agent": odd, "Authorization": "Bearer [redacted]"},
		Extra:   map[string]any{"tokens": 12, "model": "m", "nested": map[string]any{"a": []any{1.5, "x", nil, true}}},
	}
}

// TestRecordEncodingRoundTrip: what a block stores reads back equal to
// the record, byte for byte in every string; Extra reads back as JSON
// gives it (numbers as float64), as it always has.
func TestRecordEncodingRoundTrip(t *testing.T) {
	t.Parallel()
	full := fullRecord("x")
	utc := &trace.Record{ID: "y", Time: time.Unix(1700000000, 5).UTC(), Steps: []trace.Step{}}
	bare := &trace.Record{ID: "z", Time: time.Unix(0, 0).UTC()}
	for _, want := range []*trace.Record{full, utc, bare} {
		b, err := appendRecord(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		exp := *want
		if exp.Extra != nil {
			raw, _ := json.Marshal(exp.Extra)
			exp.Extra = nil
			_ = json.Unmarshal(raw, &exp.Extra)
		}
		if !got.Time.Equal(exp.Time) {
			t.Errorf("%s: time %v, want %v", want.ID, got.Time, exp.Time)
		}
		if _, off := got.Time.Zone(); func() int { _, o := exp.Time.Zone(); return o }() != off {
			t.Errorf("%s: zone offset %d lost", want.ID, off)
		}
		got.Time, exp.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, &exp) {
			t.Errorf("%s read back differs:\n got %#v\nwant %#v", want.ID, got, &exp)
		}
		for cut := range len(b) {
			if _, err := decodeRecord(b[:cut]); err == nil {
				t.Fatalf("%s: a record cut to %d of %d bytes decoded", want.ID, cut, len(b))
			}
		}
	}
}

// TestBlockRecordThroughStore: a record with a gateway id goes through a
// block and comes back from Get and Search whole.
func TestBlockRecordThroughStore(t *testing.T) {
	t.Parallel()
	l := New(openSQLite(t))
	ctx := context.Background()
	r := fullRecord(ids.New())
	if err := l.WriteBatch(ctx, []*trace.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Detail != r.Detail || got.Headers["User-Agent"] != r.Headers["User-Agent"] || len(got.Steps) != 2 || got.Steps[0].Evidence[0].Value != r.Steps[0].Evidence[0].Value {
		t.Errorf("record read back differs: %+v", got)
	}
	found, err := l.Search(ctx, Filter{Code: "waf_blocked", Shadow: true})
	if err != nil || len(found) != 1 || found[0].ID != r.ID {
		t.Errorf("search: %d records, %v", len(found), err)
	}
}

// FuzzRecordDecode: any bytes decode to a record or an error, never a
// panic or an allocation beyond what the bytes could describe.
func FuzzRecordDecode(f *testing.F) {
	for _, r := range []*trace.Record{fullRecord("x"), {ID: "y"}} {
		b, err := appendRecord(nil, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{recVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err == nil && r == nil {
			t.Fatal("nil record without an error")
		}
		if err == nil {
			again, err := appendRecord(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeRecord(again); err != nil {
				t.Fatalf("a decoded record does not encode back: %v", err)
			}
		}
	})
}
