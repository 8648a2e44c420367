package ipfilter

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// u128 is an address as a 128-bit unsigned number (IPv4 in the low bits).
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) compare(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) inc() u128 {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
	}
	return u128{hi, lo}
}

func (a u128) dec() u128 {
	lo := a.lo - 1
	hi := a.hi
	if a.lo == 0 {
		hi--
	}
	return u128{hi, lo}
}

func addrU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixBounds returns the first and last address of a masked prefix.
func prefixBounds(p netip.Prefix) (first, last u128) {
	first = addrU128(p.Addr())
	width := 128
	if p.Addr().Is4() {
		width = 32
	}
	host := width - p.Bits() // number of host bits
	var mhi, mlo uint64
	switch {
	case host >= 128:
		mhi, mlo = ^uint64(0), ^uint64(0)
	case host >= 64:
		mhi, mlo = (uint64(1)<<(host-64))-1, ^uint64(0)
	case host > 0:
		mlo = (uint64(1) << host) - 1
	}
	return first, u128{first.hi | mhi, first.lo | mlo}
}

// span is one range of addresses attributed to one list entry.
type span struct {
	first, last u128
	entry       int32
}

// table answers "which entry covers this address" for one address family.
// Its spans are sorted and do not overlap.
type table struct{ spans []span }

// lookup returns the most specific entry containing a, or -1.
func (t *table) lookup(a u128) int32 {
	s := t.spans
	// Find the first span whose last address is >= a.
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].last.less(a) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s) && !a.less(s[lo].first) {
		return s[lo].entry
	}
	return -1
}

// item is a prefix being compiled: its bounds and its entry index.
type item struct {
	first, last u128
	bits        int
	entry       int32
}

// buildTable compiles prefixes of one family into disjoint spans. CIDR
// blocks either nest or are disjoint, so a sweep in address order with a
// stack of open blocks attributes every address to the innermost block;
// among equal blocks the first listed wins.
func buildTable(items []item) table {
	slices.SortStableFunc(items, func(a, b item) int {
		if c := a.first.compare(b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.bits, b.bits) // wider block first
	})
	var out []span
	emit := func(first, last u128, entry int32) {
		if n := len(out); n > 0 && out[n-1].entry == entry && out[n-1].last.inc() == first {
			out[n-1].last = last
			return
		}
		out = append(out, span{first, last, entry})
	}
	var stack []item
	// cursor is the first address of the innermost open block not yet
	// emitted; exhausted marks that the whole address space is emitted.
	var cursor u128
	exhausted := false
	closeTop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !exhausted && !top.last.less(cursor) {
			emit(cursor, top.last, top.entry)
		}
		if top.last == (u128{^uint64(0), ^uint64(0)}) {
			exhausted = true
		} else if !exhausted && cursor.compare(top.last) <= 0 {
			cursor = top.last.inc()
		}
	}
	for _, it := range items {
		for len(stack) > 0 && stack[len(stack)-1].last.less(it.first) {
			closeTop()
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.first == it.first && top.last == it.last {
				continue // duplicate block: the earlier entry keeps it
			}
			if cursor.less(it.first) {
				emit(cursor, it.first.dec(), top.entry)
			}
		}
		stack = append(stack, it)
		cursor = it.first
		exhausted = false
	}
	for len(stack) > 0 {
		closeTop()
	}
	return table{spans: slices.Clip(out)}
}
