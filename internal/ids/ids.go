// Package ids makes request ids: 26-character, time-sortable and unique
// across processes (a millisecond timestamp, a random per-process prefix
// and a counter), cheap enough for every request.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford base32, lower case.

var (
	node    uint32
	counter atomic.Uint64
)

func init() {
	var b [8]byte
	_, _ = rand.Read(b[:])
	node = binary.BigEndian.Uint32(b[:4])
	counter.Store(uint64(binary.BigEndian.Uint32(b[4:])))
}

// New returns a fresh id. Ids made later sort after earlier ones (by
// millisecond), and the node prefix keeps ids from different gateway nodes
// apart.
func New() string { return At(time.Now()) }

// At returns an id for time t.
func At(t time.Time) string {
	var buf [26]byte
	ms := uint64(t.UnixMilli())
	// 48 bits of time → 10 chars (50 bits).
	for i := 9; i >= 0; i-- {
		buf[i] = alphabet[ms&31]
		ms >>= 5
	}
	// 32 bits of node and 48 bits of counter = 80 bits → 16 chars.
	c := counter.Add(1)
	v1 := uint64(node)<<8 | (c>>40)&0xff
	v2 := c & (1<<40 - 1)
	for i := 17; i >= 10; i-- {
		buf[i] = alphabet[v1&31]
		v1 >>= 5
	}
	for i := 25; i >= 18; i-- {
		buf[i] = alphabet[v2&31]
		v2 >>= 5
	}
	return string(buf[:])
}

// Valid reports whether s looks like an id (for honouring incoming ids
// from trusted sources: any printable token up to 128 bytes is accepted).
func Valid(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// decode maps an alphabet byte to its value, or 0xff.
var decode = func() (d [256]byte) {
	for i := range d {
		d[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		d[alphabet[i]] = byte(i)
	}
	return d
}()

// TimeOf is the millisecond an id made by New or At carries. ok is false
// for anything else (an id a trusted client sent in X-Request-Id, say),
// which has no time the call log can rely on.
func TimeOf(id string) (t time.Time, ok bool) {
	if len(id) != 26 {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < len(id); i++ {
		v := decode[id[i]]
		if v == 0xff {
			return time.Time{}, false
		}
		if i < 10 {
			ms = ms<<5 | uint64(v)
		}
	}
	if ms >= 1<<48 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)), true
}

// Floor is the smallest id of millisecond t: every id At(t') with t' ≥ t
// sorts at or after it, every id with t' < t before it.
func Floor(t time.Time) string {
	var buf [26]byte
	ms := uint64(max(t.UnixMilli(), 0))
	for i := 9; i >= 0; i-- {
		buf[i] = alphabet[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		buf[i] = '0'
	}
	return string(buf[:])
}
