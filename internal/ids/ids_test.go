package ids

import (
	"sort"
	"testing"
	"time"
)

func TestIDsAreUniqueAndTimeSorted(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var list []string
	base := time.Now()
	for i := 0; i < 10000; i++ {
		id := At(base.Add(time.Duration(i/100) * time.Millisecond))
		if len(id) != 26 {
			t.Fatalf("id %q has length %d, want 26", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		list = append(list, id)
	}
	earlier, later := At(base), At(base.Add(time.Millisecond))
	if !(earlier < later) {
		t.Fatalf("id of a later millisecond %q does not sort after %q", later, earlier)
	}
	if !sort.StringsAreSorted(list) {
		t.Fatal("ids made in time order are not sorted")
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"abc-123": true, "": false, "a b": false, "x\n": false, string(make([]byte, 129)): false} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = New()
	}
}

func TestTimeOfAndFloor(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1764000000123)
	id := At(at)
	got, ok := TimeOf(id)
	if !ok || !got.Equal(at) {
		t.Fatalf("TimeOf(%q) = %v, %v; want %v", id, got, ok, at)
	}
	if f := Floor(at); !(f <= id) || !(Floor(at.Add(time.Millisecond)) > id) || !(Floor(at.Add(-time.Millisecond)) < f) {
		t.Errorf("Floor does not bound %q: %q", id, f)
	}
	for _, bad := range []string{"", "req-123", "01M88GCP1P7VZ2T8R003WMEQWC", "01m88gcp1p7vz2t8r003wmeqw", "zzzzzzzzzzzzzzzzzzzzzzzzzz", "01m88gcp1p7vz2t8r003wmeqwu"} {
		if _, ok := TimeOf(bad); ok {
			t.Errorf("TimeOf(%q) ok; want not ok", bad)
		}
	}
}
