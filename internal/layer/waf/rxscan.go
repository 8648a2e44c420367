package waf

import (
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The literal scanner answers, for one input value, which prefilter
// clauses of all registered regexes are satisfied. It is one Aho-Corasick
// automaton over every literal of every clause, so a value is scanned once
// however many rules look at it, and each rule's check is then a few bit
// tests. Results are cached per value: Coraza hands every rule the same
// transformed string for the same argument and transformation chain.

// registry holds every clause and literal seen so far. It only grows:
// regexes are memoized per pattern by Coraza and shared between WAFs.
type registry struct {
	mode       *litMode
	mu         sync.Mutex
	literals   map[string]int32
	litList    []string
	litClauses [][]int32 // literal id -> clause ids containing it
	clauses    map[string]int32
	nClauses   int32
	gen        atomic.Uint32 // bumped on every change
	snap       atomic.Pointer[scanner]
}

// reg holds the plain-mode clauses, regSq the squeezed-mode ones; each has
// its own automaton and value cache.
var (
	reg   = newRegistry(&plainMode)
	regSq = newRegistry(&squeezedMode)
)

func newRegistry(m *litMode) *registry {
	return &registry{mode: m, literals: map[string]int32{}, clauses: map[string]int32{}}
}

// register returns clause ids for a regex's clauses, adding new ones.
func (g *registry) register(cs [][]string) []int32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]int32, 0, len(cs))
	changed := false
	for _, c := range cs {
		key := strings.Join(c, "\x00")
		id, ok := g.clauses[key]
		if !ok {
			id = g.nClauses
			g.nClauses++
			g.clauses[key] = id
			for _, lit := range c {
				lid, ok := g.literals[lit]
				if !ok {
					lid = int32(len(g.litList))
					g.literals[lit] = lid
					g.litList = append(g.litList, lit)
					g.litClauses = append(g.litClauses, nil)
				}
				g.litClauses[lid] = append(g.litClauses[lid], id)
			}
			changed = true
		}
		ids = append(ids, id)
	}
	if changed {
		g.gen.Add(1)
	}
	return ids
}

// scanner returns the automaton for the current registry, rebuilding it
// once after registrations (the first request after a WAF build pays).
func (g *registry) scanner() *scanner {
	gen := g.gen.Load()
	if s := g.snap.Load(); s != nil && s.gen == gen {
		return s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gen = g.gen.Load()
	if s := g.snap.Load(); s != nil && s.gen == gen {
		return s
	}
	s := buildScanner(g.litList, g.litClauses, int(g.nClauses), gen, g.mode)
	g.snap.Store(s)
	return s
}

// scanner is an immutable dense Aho-Corasick DFA over folded bytes.
type scanner struct {
	mode       *litMode
	gen        uint32
	class      [256]uint8
	nClass     int
	trans      []int32   // state*nClass + class -> state
	out        [][]int32 // state -> literal ids ending here (with suffixes)
	litClauses [][]int32
	nLits      int
	words      int // clause bitset length in uint64s
	cache      [cacheSlots]atomic.Pointer[scanResult]
}

// scanResult is the clause bitset of one value. bits is nil when the
// value contains a byte the mode assumes absent: the mode's clauses do not
// apply to it.
type scanResult struct {
	value string
	bits  []uint64
}

// cacheSlots is a direct-mapped cache of recent values. Entries keep
// their value alive, so maxCachedValue bounds what it can hold on to.
const (
	cacheSlots     = 2048
	maxCachedValue = 8 << 10
)

func buildScanner(lits []string, litClauses [][]int32, nClauses int, gen uint32, m *litMode) *scanner {
	s := &scanner{mode: m, gen: gen, litClauses: litClauses, nLits: len(lits), words: (nClauses + 63) / 64}
	// Byte classes: one per byte used by a literal; upper-case ASCII
	// shares its lower-case class; every other byte is class 0, which
	// leads back to the root.
	s.nClass = 1
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			if s.class[l[i]] == 0 {
				s.class[l[i]] = uint8(s.nClass)
				s.nClass++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		s.class[b] = s.class[b+'a'-'A']
	}
	// Trie.
	type node struct {
		next map[uint8]int32
		fail int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, l := range lits {
		cur := int32(0)
		for i := 0; i < len(l); i++ {
			c := s.class[l[i]]
			nx, ok := nodes[cur].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[cur].next[c] = nx
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, int32(id))
	}
	// BFS for failure links and the dense transition table.
	s.trans = make([]int32, len(nodes)*s.nClass)
	s.out = make([][]int32, len(nodes))
	queue := []int32{0}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		s.out[u] = append(nodes[u].out, s.out[nodes[u].fail]...)
		if u == 0 {
			s.out[u] = nodes[u].out
		}
		for c := 0; c < s.nClass; c++ {
			if v, ok := nodes[u].next[uint8(c)]; ok && c != 0 {
				if u == 0 {
					nodes[v].fail = 0
				} else {
					nodes[v].fail = s.trans[int(nodes[u].fail)*s.nClass+c]
				}
				s.trans[int(u)*s.nClass+c] = v
				queue = append(queue, v)
			} else if u != 0 {
				s.trans[int(u)*s.nClass+c] = s.trans[int(nodes[u].fail)*s.nClass+c]
			}
		}
	}
	return s
}

// lookup returns the clause bitset of value, from the cache when the same
// string was scanned recently. The cache key is the string's address; the
// hit is confirmed by comparing the whole value (a pointer-equal compare
// is immediate), so a reused address can never return a stale result.
func (s *scanner) lookup(value string) []uint64 {
	if len(value) > maxCachedValue {
		return s.scan(value)
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(value)))
	h := (uint64(p)*0x9E3779B97F4A7C15 ^ uint64(len(value))*0xC2B2AE3D27D4EB4F) >> 53
	slot := &s.cache[h&(cacheSlots-1)]
	if r := slot.Load(); r != nil && r.value == value {
		return r.bits
	}
	bits := s.scan(value)
	slot.Store(&scanResult{value: value, bits: bits})
	return bits
}

// scan runs the automaton over the folded (and, in the squeezed mode,
// squeezed) value.
func (s *scanner) scan(value string) []uint64 {
	value = foldSpecial(value)
	if s.mode != &plainMode {
		var ok bool
		if value, ok = s.mode.apply(value); !ok {
			return nil
		}
	}
	bits := make([]uint64, s.words)
	if s.nLits == 0 {
		return bits
	}
	// seen marks literals already applied; on the stack for up to 16384
	// literals (CRS needs about 4500), so a scan allocates only its result.
	var seenBuf [256]uint64
	var seen []uint64
	if n := (s.nLits + 63) / 64; n <= len(seenBuf) {
		seen = seenBuf[:n]
	} else {
		seen = make([]uint64, n)
	}
	st := int32(0)
	nc := int32(s.nClass)
	for i := 0; i < len(value); i++ {
		st = s.trans[st*nc+int32(s.class[value[i]])]
		for _, lit := range s.out[st] {
			if seen[lit>>6]&(1<<(lit&63)) != 0 {
				continue
			}
			seen[lit>>6] |= 1 << (lit & 63)
			for _, c := range s.litClauses[lit] {
				bits[c>>6] |= 1 << (c & 63)
			}
		}
	}
	return bits
}

// foldSpecial replaces the two non-ASCII runes that case-fold to ASCII
// letters (U+212A → k, U+017F → s); ASCII case is folded by the byte
// classes.
func foldSpecial(v string) string {
	if strings.IndexByte(v, 0xE2) < 0 && strings.IndexByte(v, 0xC5) < 0 {
		return v
	}
	return specialFolder.Replace(v)
}

var specialFolder = strings.NewReplacer("\u212a", "k", "\u017f", "s")

// apply deletes the mode's squeeze bytes from value, or reports false when
// value holds a byte the mode assumes absent.
func (m *litMode) apply(value string) (string, bool) {
	drop := false
	for i := 0; i < len(value); i++ {
		if m.absent[value[i]] {
			return "", false
		}
		drop = drop || m.squeeze[value[i]]
	}
	if !drop {
		return value, true
	}
	b := make([]byte, 0, len(value))
	for i := 0; i < len(value); i++ {
		if !m.squeeze[value[i]] {
			b = append(b, value[i])
		}
	}
	return string(b), true
}
