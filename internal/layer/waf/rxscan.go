package waf

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The literal scanner answers, for one input value, which prefilter
// clauses of all registered patterns and phrase lists are satisfied. It
// is one Aho-Corasick automaton over every literal of every clause of both
// literal modes, so a value is scanned once however many rules look at it
// (twice when squeezing changes it), and each rule's check is then a few
// bit tests.

// maxLiteral caps the length of a literal: a piece of a required literal
// is required too, and shorter literals keep the automaton small.
const maxLiteral = 8

// registry holds every clause and literal seen so far. It only grows:
// regexes are memoized per pattern by Coraza and shared between WAFs.
type registry struct {
	mu         sync.Mutex
	literals   map[string]int32
	litList    []string
	litClauses [][]int32 // literal id -> clause ids containing it
	clauses    map[string]int32
	sqClauses  []int32 // ids of the squeezed mode's clauses
	nClauses   int32
	gen        atomic.Uint32 // bumped on every change
	snap       atomic.Pointer[scanner]
}

var reg = &registry{literals: map[string]int32{}, clauses: map[string]int32{}}

// register returns clause ids for a regex's clauses in mode m (plainMode
// or squeezedMode), adding new ones.
func (g *registry) register(cs [][]string, m *litMode) []int32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]int32, 0, len(cs))
	changed := false
	for _, c := range cs {
		c = capLiterals(c)
		key := strings.Join(c, "\x00")
		if m != &plainMode {
			key = "sq\x01" + key
		}
		id, ok := g.clauses[key]
		if !ok {
			id = g.nClauses
			g.nClauses++
			g.clauses[key] = id
			if m != &plainMode {
				g.sqClauses = append(g.sqClauses, id)
			}
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

// capLiterals cuts a clause's literals to maxLiteral bytes and drops the
// repeats this makes.
func capLiterals(c []string) []string {
	out := make([]string, 0, len(c))
	for _, s := range c {
		if len(s) > maxLiteral {
			s = s[:maxLiteral]
		}
		out = appendUnique(out, s)
	}
	return out
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
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
	s := buildScanner(g.litList, g.litClauses, g.sqClauses, int(g.nClauses), gen)
	g.snap.Store(s)
	return s
}

// scanner is an immutable Aho-Corasick automaton over folded bytes, laid
// out to stay in cache: the root and its children (where a scan spends
// most of its time) have complete transition rows; deeper states keep
// only their trie edges and a failure link. CRS's patterns and phrase
// lists (24 000 states) take about 630 KB this way, against tens of
// megabytes as a full table, which missed the cache on every byte.
type scanner struct {
	gen    uint32
	class  [256]uint8
	nClass uint32
	nDense uint32   // states [0, nDense) have dense rows
	dense  []uint32 // state*nClass + class -> state
	// Trie edges of state s: edgeClass/edgeNext[edgeStart[s]:edgeStart[s+1]].
	edgeStart []uint32
	edgeClass []uint8
	edgeNext  []uint32
	fail      []uint32
	// stateMask[s] is the clause bitset of the literals ending at state
	// s (with its failure chain), as an index into masks; 0 for none.
	// Thousands of states share about a thousand distinct sets.
	stateMask []uint32
	// masks holds the distinct clause bitsets, words each; mask 0 is
	// empty.
	masks []uint64
	// byteMask[b] is the clause bitset of the one-byte literal b (lower
	// case). One-byte literals are found from the set of bytes a value
	// holds, not through the automaton, where they would end in most
	// states.
	byteMask [256]uint32
	lower    [256]byte
	words    int      // clause bitset length in uint64s
	sqMask   []uint64 // clause bits of the squeezed mode
}

func buildScanner(lits []string, litClauses [][]int32, sqClauses []int32, nClauses int, gen uint32) *scanner {
	s := &scanner{gen: gen, words: (nClauses + 63) / 64}
	s.sqMask = make([]uint64, s.words)
	for _, c := range sqClauses {
		s.sqMask[c>>6] |= 1 << (c & 63)
	}
	in := newMaskInterner(s.words)
	litMask := func(lit uint32, dst []uint64) {
		for _, c := range litClauses[lit] {
			dst[c>>6] |= 1 << (c & 63)
		}
	}
	for b := range s.lower {
		s.lower[b] = lowerASCII(byte(b))
	}
	// The automaton holds the longer literals; an empty string stands in
	// for each one-byte literal, so that literal ids stay the same.
	long := make([]string, len(lits))
	var byteLits [256][]uint32
	for id, l := range lits {
		if len(l) == 1 {
			byteLits[l[0]] = append(byteLits[l[0]], uint32(id))
		} else {
			long[id] = l
		}
	}
	for b, ls := range byteLits {
		m := make([]uint64, s.words)
		for _, lit := range ls {
			litMask(lit, m)
		}
		s.byteMask[b] = in.intern(m)
	}
	lits = long
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
	// Trie, numbered in insertion order.
	type node struct {
		next  map[uint8]uint32
		depth int
		out   []uint32
	}
	nodes := []node{{next: map[uint8]uint32{}}}
	for id, l := range lits {
		if l == "" {
			continue
		}
		cur := uint32(0)
		for i := 0; i < len(l); i++ {
			c := s.class[l[i]]
			nx, ok := nodes[cur].next[c]
			if !ok {
				nx = uint32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]uint32{}, depth: nodes[cur].depth + 1})
				nodes[cur].next[c] = nx
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, uint32(id))
	}
	// Renumber breadth-first so that the shallow, dense states come first.
	order := []uint32{0}
	for i := 0; i < len(order); i++ {
		u := order[i]
		for c := uint8(1); uint32(c) < s.nClass; c++ {
			if v, ok := nodes[u].next[c]; ok {
				order = append(order, v)
			}
		}
	}
	id := make([]uint32, len(nodes))
	for newID, old := range order {
		id[old] = uint32(newID)
		if nodes[old].depth <= 1 {
			s.nDense = uint32(newID) + 1
		}
	}
	n := uint32(len(nodes))
	s.fail = make([]uint32, n)
	s.edgeStart = make([]uint32, n+1)
	s.dense = make([]uint32, int(s.nDense)*int(s.nClass))
	s.stateMask = make([]uint32, n)
	// goTo is the automaton's transition for states already processed
	// (every state shallower than the one being built).
	goTo := func(st uint32, c uint8) uint32 {
		for {
			if st < s.nDense {
				return s.dense[st*s.nClass+uint32(c)]
			}
			for e := s.edgeStart[st]; e < s.edgeStart[st+1]; e++ {
				if s.edgeClass[e] == c {
					return s.edgeNext[e]
				}
			}
			st = s.fail[st]
		}
	}
	outs := make([][]uint32, n)
	for _, old := range order {
		u := id[old]
		nd := nodes[old]
		outs[u] = slices.Clone(nd.out)
		if u != 0 {
			outs[u] = append(outs[u], outs[s.fail[u]]...)
		}
		s.edgeStart[u] = uint32(len(s.edgeNext))
		for c := uint8(1); uint32(c) < s.nClass; c++ {
			v, ok := nd.next[c]
			if ok {
				f := uint32(0)
				if u != 0 {
					f = goTo(s.fail[u], c)
				}
				s.fail[id[v]] = f
			}
			if u < s.nDense {
				switch {
				case ok:
					s.dense[u*s.nClass+uint32(c)] = id[v]
				case u != 0:
					s.dense[u*s.nClass+uint32(c)] = goTo(s.fail[u], c)
				}
			} else if ok {
				s.edgeClass = append(s.edgeClass, c)
				s.edgeNext = append(s.edgeNext, id[v])
			}
		}
		s.edgeStart[u+1] = uint32(len(s.edgeNext))
	}
	for u := uint32(0); u < n; u++ {
		m := make([]uint64, s.words)
		for _, lit := range outs[u] {
			litMask(lit, m)
		}
		s.stateMask[u] = in.intern(m)
	}
	s.masks = in.masks
	return s
}

// maskInterner numbers distinct clause bitsets; the empty one is 0.
type maskInterner struct {
	words int
	ids   map[string]uint32
	masks []uint64
}

func newMaskInterner(words int) *maskInterner {
	in := &maskInterner{words: words, ids: map[string]uint32{}}
	in.intern(make([]uint64, words))
	return in
}

// intern returns the number of bitset m.
func (in *maskInterner) intern(m []uint64) uint32 {
	key := unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(m))), len(m)*8)
	if id, ok := in.ids[key]; ok {
		return id
	}
	id := uint32(len(in.ids))
	in.ids[strings.Clone(key)] = id
	in.masks = append(in.masks, m...)
	return id
}

// clauseBits sets in dst (s.words long, zeroed) the clauses value
// satisfies: plain-mode clauses on the folded value, squeezed-mode
// clauses on the folded value with the squeeze bytes deleted, or all
// squeezed-mode clauses when the value holds a byte that mode assumes
// absent (its clauses do not apply). scratch is reused for the squeezed
// copy and returned.
func (s *scanner) clauseBits(value string, dst []uint64, scratch []byte) []byte {
	value = foldSpecial(value)
	sq, applies, dropped := squeezedMode.squeezed(value, scratch[:0])
	s.scan(value, dst)
	switch {
	case !applies:
		for i, m := range s.sqMask {
			dst[i] |= m
		}
	case dropped:
		var buf [16]uint64
		tmp := buf[:0]
		if s.words <= len(buf) {
			tmp = buf[:s.words]
		} else {
			tmp = make([]uint64, s.words)
		}
		s.scan(unsafe.String(unsafe.SliceData(sq), len(sq)), tmp)
		for i, m := range s.sqMask {
			dst[i] = dst[i]&^m | tmp[i]&m
		}
		return sq
	}
	return scratch
}

// scan runs the automaton over value and sets the bits of every clause
// holding a literal found in it.
func (s *scanner) scan(value string, clauses []uint64) {
	w := s.words
	// One-byte literals, from the set of bytes present.
	var present [4]uint64
	for i := 0; i < len(value); i++ {
		b := s.lower[value[i]]
		present[b>>6] |= 1 << (b & 63)
	}
	for k, set := range present {
		for set != 0 {
			b := k*64 + bits.TrailingZeros64(set)
			set &= set - 1
			if m := int(s.byteMask[b]); m != 0 {
				orInto(clauses, s.masks[m*w:(m+1)*w])
			}
		}
	}
	// applied remembers recent states whose clauses were applied (1 +
	// the state, by its low bits): prose revisits the same states all
	// the time.
	var applied [128]uint32
	st := uint32(0)
	nc := s.nClass
	for i := 0; i < len(value); i++ {
		c := s.class[value[i]]
		if c == 0 {
			st = 0
			continue
		}
	step:
		for {
			if st < s.nDense {
				st = s.dense[st*nc+uint32(c)]
				break
			}
			for e := s.edgeStart[st]; e < s.edgeStart[st+1]; e++ {
				if s.edgeClass[e] == c {
					st = s.edgeNext[e]
					break step
				}
			}
			st = s.fail[st]
		}
		if m := int(s.stateMask[st]); m != 0 && applied[st&127] != st+1 {
			applied[st&127] = st + 1
			orInto(clauses, s.masks[m*w:(m+1)*w])
		}
	}
}

func orInto(dst, src []uint64) {
	for k, v := range src {
		dst[k] |= v
	}
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

// squeezed appends value without the mode's squeeze bytes to buf. applies
// is false when value holds a byte the mode assumes absent; dropped
// reports that some byte was deleted (otherwise buf is not filled).
func (m *litMode) squeezed(value string, buf []byte) (out []byte, applies, dropped bool) {
	first := -1
	for i := 0; i < len(value); i++ {
		if m.absent[value[i]] {
			return buf, false, false
		}
		if first < 0 && m.squeeze[value[i]] {
			first = i
		}
	}
	if first < 0 {
		return buf, true, false
	}
	buf = append(buf, value[:first]...)
	for i := first; i < len(value); i++ {
		if !m.squeeze[value[i]] {
			buf = append(buf, value[i])
		}
	}
	return buf, true, true
}
