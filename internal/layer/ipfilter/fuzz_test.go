package ipfilter

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// naiveMatch is the obviously correct lookup: the longest prefix that
// contains a, the first listed among equals.
func naiveMatch(entries []entry, a netip.Addr) int {
	best := -1
	for i, e := range entries {
		if e.prefix.Contains(a) && (best < 0 || e.prefix.Bits() > entries[best].prefix.Bits()) {
			best = i
		}
	}
	return best
}

// fuzzPrefixes turns bytes into prefixes that overlap often: addresses
// vary in their top bytes only, so nesting and duplicates are common.
func fuzzPrefixes(data []byte) []entry {
	var out []entry
	for len(data) >= 4 {
		chunk := data[:4]
		data = data[4:]
		var p netip.Prefix
		if chunk[0]&1 == 0 {
			a := netip.AddrFrom4([4]byte{chunk[1], chunk[2] & 0xf0, 0, chunk[3] & 3})
			p = netip.PrefixFrom(a, int(chunk[0]>>1)%33).Masked()
		} else {
			var b [16]byte
			b[0], b[1], b[15] = chunk[1], chunk[2]&0xf0, chunk[3]&3
			p = netip.PrefixFrom(netip.AddrFrom16(b), int(chunk[0]>>1)%129).Masked()
		}
		out = append(out, entry{prefix: p})
	}
	return out
}

func probes(entries []entry, extra []byte) []netip.Addr {
	var out []netip.Addr
	for _, e := range entries {
		first, last := prefixBounds(e.prefix)
		for _, u := range []u128{first, last, first.dec(), last.inc()} {
			if e.prefix.Addr().Is4() {
				if u.hi == 0 && u.lo <= 0xffffffff {
					var b [4]byte
					binary.BigEndian.PutUint32(b[:], uint32(u.lo))
					out = append(out, netip.AddrFrom4(b))
				}
				continue
			}
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], u.hi)
			binary.BigEndian.PutUint64(b[8:], u.lo)
			out = append(out, netip.AddrFrom16(b))
		}
	}
	for len(extra) >= 4 {
		out = append(out, netip.AddrFrom4([4]byte(extra[:4])))
		var b [16]byte
		copy(b[:], extra[:4])
		out = append(out, netip.AddrFrom16(b))
		extra = extra[4:]
	}
	return out
}

// FuzzListMatch checks the compiled range table against a naive loop over
// the entries: same entry (hence same membership) for every probe.
func FuzzListMatch(f *testing.F) {
	f.Add([]byte{16, 10, 0, 0, 32, 10, 16, 0, 64, 10, 16, 1}, []byte{10, 16, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 64, 192, 0, 2, 64, 192, 0, 2}, []byte{192, 0, 0, 2})
	f.Add([]byte{1, 0, 0, 0, 65, 32, 1, 0, 255, 255, 240, 3, 128, 32, 0, 0}, []byte{32, 1, 0, 0})
	f.Add([]byte{64, 255, 255, 3, 62, 255, 240, 0}, []byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data, extra []byte) {
		entries := fuzzPrefixes(data)
		l := compile(entries)
		for _, a := range probes(entries, extra) {
			want := naiveMatch(entries, a)
			got := l.match(a)
			switch {
			case want < 0 && got != nil:
				t.Fatalf("%v matched %v, naive loop matched nothing", a, got.prefix)
			case want >= 0 && got == nil:
				t.Fatalf("%v matched nothing, naive loop matched %v", a, entries[want].prefix)
			case want >= 0 && got != &l.entries[want]:
				t.Fatalf("%v matched %v, naive loop matched entry %d %v", a, got.prefix, want, entries[want].prefix)
			}
		}
		for i := 1; i < len(l.v4.spans); i++ {
			if !l.v4.spans[i-1].last.less(l.v4.spans[i].first) {
				t.Fatalf("v4 spans overlap or are unsorted: %v", l.v4.spans)
			}
		}
		for i := 1; i < len(l.v6.spans); i++ {
			if !l.v6.spans[i-1].last.less(l.v6.spans[i].first) {
				t.Fatalf("v6 spans overlap or are unsorted: %v", l.v6.spans)
			}
		}
	})
}
