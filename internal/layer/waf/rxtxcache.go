package waf

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Rules with different transformation chains often hand the operator
// equal values at different addresses, and one rule after another hands
// it the same string. A transaction's scan results are kept by address
// (the fast path) and by content up to ASCII case, so each distinct value
// is scanned once per request. Nothing is kept across requests: a cache keyed by content
// across requests would make repeated requests look cheaper than real
// traffic is.

// txScans is one transaction's scan results; pooled, so a request
// allocates nothing for it in the steady state.
type txScans struct {
	key     uintptr // the transaction's address
	s       *scanner
	slots   [2048]scanSlot
	used    []uint16 // indices of filled slots, to reset only those
	byValue map[string]int32
	bits    []uint64 // clause bitsets, s.words each
	scratch []byte
	// keys holds the lower-case content keys of byValue that are not
	// values themselves; reset reuses it once byValue no longer does.
	keys []byte
}

// scanSlot holds a value and 1 + the offset of its bitset (0: empty).
type scanSlot struct {
	value string
	off   int32
}

// lookup returns the clause bitset of value under scanner s.
func (c *txScans) lookup(s *scanner, value string) []uint64 {
	if c.s != s {
		// The rules grew during the request (another WAF was built):
		// bitsets of the old scanner lack the new clauses.
		c.reset()
		c.s = s
	}
	h := slotOf(value)
	slot := &c.slots[h]
	// The slot holds its value, so no other string can have its address
	// meanwhile: the same address and length is the same string.
	if slot.off > 0 && unsafe.StringData(slot.value) == unsafe.StringData(value) && len(slot.value) == len(value) {
		return c.bits[slot.off-1 : int(slot.off)-1+s.words]
	}
	return c.lookupSlow(s, value, h)
}

// slotOf is the address slot of value.
func slotOf(value string) uint64 {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(value))))
	return (p*0x9E3779B97F4A7C15 ^ uint64(len(value))*0xC2B2AE3D27D4EB4F) >> (64 - 11)
}

// lookupSlow finds value by content, scanning it if it is new, and
// points its address slot at the result.
func (c *txScans) lookupSlow(s *scanner, value string, h uint64) []uint64 {
	// The scanner folds ASCII case, so values differing only in it
	// (a value and its t:lowercase) share one scan: the content key is
	// the value in lower case.
	key, keyStart := value, -1
	if hasUpperASCII(value) {
		// The lower-case key goes to the end of the keys arena, and
		// stays there if it is new.
		if cap(c.keys)-len(c.keys) < len(value) {
			// The full arena stays alive through the keys in it.
			c.keys = make([]byte, 0, max(4096, 2*cap(c.keys), len(value)))
		}
		keyStart = len(c.keys)
		c.keys = appendLowerASCII(c.keys, value)
		key = unsafe.String(&c.keys[keyStart], len(value))
	}
	off, ok := c.byValue[key]
	if ok && keyStart >= 0 {
		c.keys = c.keys[:keyStart]
	}
	if !ok {
		off = int32(len(c.bits))
		c.bits = append(c.bits, make([]uint64, s.words)...)
		c.scratch = s.clauseBits(value, c.bits[off:], c.scratch)
		c.byValue[key] = off
	}
	slot := &c.slots[h]
	if slot.off == 0 {
		c.used = append(c.used, uint16(h))
	}
	*slot = scanSlot{value: value, off: off + 1}
	return c.bits[off : int(off)+s.words]
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerASCII(s[i]))
	}
	return dst
}

// reset forgets every result and every reference to the request's values.
func (c *txScans) reset() {
	c.s = nil
	for _, i := range c.used {
		c.slots[i] = scanSlot{}
	}
	c.used = c.used[:0]
	clear(c.byValue)
	c.keys = c.keys[:0]
	c.bits = c.bits[:0]
}

// activeScans maps a running transaction's address to its cache. A
// collision leaves the transaction without a cache: it then scans on
// every evaluation, which is slower but gives the same answers.
var (
	activeScans [256]atomic.Pointer[txScans]
	scansPool   = sync.Pool{New: func() any { return &txScans{byValue: map[string]int32{}} }}
)

// txKey is the address of the transaction behind an interface value.
func txKey(tx any) uintptr {
	return (*[2]uintptr)(unsafe.Pointer(&tx))[1]
}

func scanSlotOf(k uintptr) *atomic.Pointer[txScans] {
	return &activeScans[(uint64(k)*0x9E3779B97F4A7C15)>>(64-8)]
}

// beginScans gives tx a scan cache until endScans. The transaction must
// stay open until then, so that its address is not reused meanwhile.
func beginScans(tx any) *txScans {
	c := scansPool.Get().(*txScans)
	c.key = txKey(tx)
	if !scanSlotOf(c.key).CompareAndSwap(nil, c) {
		c.key = 0
		scansPool.Put(c)
		return nil
	}
	return c
}

func endScans(c *txScans) {
	if c == nil {
		return
	}
	scanSlotOf(c.key).Store(nil)
	c.key = 0
	c.reset()
	scansPool.Put(c)
}

// scansOf returns tx's cache, or nil when it has none.
func scansOf(tx any) *txScans {
	k := txKey(tx)
	if c := scanSlotOf(k).Load(); c != nil && c.key == k {
		return c
	}
	return nil
}
