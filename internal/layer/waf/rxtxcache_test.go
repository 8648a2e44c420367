package waf

import (
	"strings"
	"testing"
)

// The per-transaction cache answers exactly as a fresh scan, for equal
// values at different addresses, for values differing only in ASCII case
// (which share a scan), and after the rules (and so the scanner) changed.
func TestTxScansAnswerAsAFreshScan(t *testing.T) {
	build(t, "paranoia: 1")
	s := reg.scanner()
	type txStub struct{ n int }
	tx := &txStub{}
	c := beginScans(tx)
	if c == nil {
		t.Fatal("no cache for a fresh transaction")
	}
	defer endScans(c)
	if scansOf(tx) != c || scansOf(&txStub{}) != nil {
		t.Fatal("scansOf must find exactly the registered transaction")
	}
	fresh := func(v string) []uint64 {
		b := make([]uint64, s.words)
		s.clauseBits(v, b, nil)
		return b
	}
	values := []string{"union select 1", "UNION Select 1", "b'u\"s)y[b\\ox -c id", "B'U\"S)Y[B\\OX -C ID",
		"Ship the first version in June.", "ship the first version in june.", "$(id)", "", "x", "X", "\u212aILL"}
	for round := range 3 {
		for _, v := range values {
			// The same content at a new address.
			same := strings.Clone(v)
			for _, in := range []string{v, same} {
				if got, want := c.lookup(s, in), fresh(v); !slicesEqual(got, want) {
					t.Fatalf("round %d: cached bits of %q differ from a fresh scan", round, v)
				}
			}
		}
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
