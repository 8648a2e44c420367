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
