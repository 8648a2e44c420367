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
// out to stay in cache and to take few dependent loads per byte. The
// states of depth at most denseDepth (where a scan of text spends most of
// its time) have complete transition rows of uint16; deeper states keep
// only their trie edges and a failure link, packed together. CRS's
// patterns and phrase lists (24 000 states) take about 500 KB this way.
//
// A transition yields a flagged state, id<<1 | 1 when literals end at the
// state (its clause mask is not empty), so the mask is looked up only
// then; masks are collected while scanning and applied once each at the
// end.
type scanner struct {
	gen    uint32
	class  [256]uint8
	nClass uint32
	nDense uint32   // states [0, nDense) have dense rows
	dense  []uint16 // state*nClass + class -> flagged state
	// sparse holds, for each state s >= nDense from sparseOff[s-nDense]
	// on, a header (failure state<<8 | number of edges) and the trie
	// edges (flagged target<<8 | class).
	sparseOff []uint32
	sparse    []uint32
	// stateMask[s] numbers the clause set of the literals ending at state
	// s (with its failure chain); 0 for none. Thousands of states share
	// about two thousand distinct sets.
	stateMask []uint32
	// Mask m is maskWord/maskBits[maskStart[m]:maskStart[m+1]]: the
	// nonzero words of its clause bitset and their indices. Mask 0 is
	// empty.
	maskStart []uint32
	maskWord  []uint16
	maskBits  []uint64
	nMasks    int
	// masks holds the distinct clause bitsets, words each; mask 0 is
	// empty.
	masks []uint64
	// byteMask[b] numbers the clause set of the one-byte literal b (lower
	// case). One-byte literals are found from the set of bytes a value
	// holds, not through the automaton, where they would end in most
	// states.
	byteMask [128]uint32
	// presence maps a byte to the ASCII byte whose presence it shows:
	// its lower case, or for non-ASCII bytes one without a one-byte
	// literal (any choice would be sound, only less sharp).
	presence [256]byte
	lower    [256]byte
	words    int      // clause bitset length in uint64s
	sqMask   []uint64 // clause bits of the squeezed mode
}

// denseDepth is the depth of the deepest states with complete rows; it is
// lowered when their rows would exceed maxDenseBytes, or when the states
// their rows lead to would not fit the uint16 entries.
const (
	denseDepth    = 2
	maxDenseBytes = 256 << 10
)

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
	// Literals are ASCII (see rxliterals.go).
	long := make([]string, len(lits))
	var byteLits [128][]uint32
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
	dead := byte(0)
	for b := 127; b >= 0; b-- {
		if s.byteMask[b] == 0 {
			dead = byte(b)
			break
		}
	}
	for b := range s.presence {
		s.presence[b] = dead
		if b < 0x80 {
			s.presence[b] = s.lower[b]
		}
	}
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
	nodes := []trieNode{{next: map[uint8]uint32{}}}
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
				nodes = append(nodes, trieNode{next: map[uint8]uint32{}, depth: nodes[cur].depth + 1})
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
	}
	// The dense states are those of depth <= d; their rows lead to
	// states of depth <= d+1, whose flagged ids must fit in uint16.
	for d := denseDepth; d >= 0; d-- {
		rows, reach := 0, 0
		for _, old := range order {
			if nodes[old].depth <= d {
				rows++
			}
			if nodes[old].depth <= d+1 {
				reach++
			}
		}
		if d == 0 || rows*int(s.nClass)*2 <= maxDenseBytes && reach < 1<<15 {
			s.nDense = uint32(rows)
			break
		}
	}
	n := uint32(len(nodes))
	fail := make([]uint32, n)
	s.stateMask = make([]uint32, n)
	outs := make([][]uint32, n)
	for _, old := range order {
		u := id[old]
		outs[u] = slices.Clone(nodes[old].out)
		if u != 0 {
			outs[u] = append(outs[u], outs[fail[u]]...)
		}
		for c := uint8(1); uint32(c) < s.nClass; c++ {
			if v, ok := nodes[old].next[c]; ok {
				f := uint32(0)
				if u != 0 {
					f = trieGoTo(nodes, id, order, fail, fail[u], c)
				}
				fail[id[v]] = f
			}
		}
	}
	for u := uint32(0); u < n; u++ {
		m := make([]uint64, s.words)
		for _, lit := range outs[u] {
			litMask(lit, m)
		}
		s.stateMask[u] = in.intern(m)
	}
	flagged := func(st uint32) uint32 {
		if s.stateMask[st] != 0 {
			return st<<1 | 1
		}
		return st << 1
	}
	s.dense = make([]uint16, int(s.nDense)*int(s.nClass))
	for u := uint32(0); u < s.nDense; u++ {
		for c := uint8(1); uint32(c) < s.nClass; c++ {
			t := trieGoTo(nodes, id, order, fail, u, c)
			s.dense[u*s.nClass+uint32(c)] = uint16(flagged(t))
		}
	}
	s.sparseOff = make([]uint32, n-s.nDense)
	for u := s.nDense; u < n; u++ {
		nd := nodes[order[u]]
		s.sparseOff[u-s.nDense] = uint32(len(s.sparse))
		s.sparse = append(s.sparse, fail[u]<<8|uint32(len(nd.next)))
		for c := uint8(1); uint32(c) < s.nClass; c++ {
			if v, ok := nd.next[c]; ok {
				s.sparse = append(s.sparse, flagged(id[v])<<8|uint32(c))
			}
		}
	}
	s.masks = in.masks
	s.nMasks = len(in.masks) / s.words
	s.maskStart = make([]uint32, s.nMasks+1)
	for m := 0; m < s.nMasks; m++ {
		for w, bits := range in.masks[m*s.words : (m+1)*s.words] {
			if bits != 0 {
				s.maskWord = append(s.maskWord, uint16(w))
				s.maskBits = append(s.maskBits, bits)
			}
		}
		s.maskStart[m+1] = uint32(len(s.maskWord))
	}
	return s
}

// trieNode is a state of the trie the scanner is built from.
type trieNode struct {
	next  map[uint8]uint32 // class -> node
	depth int
	out   []uint32 // literals ending here
}

// trieGoTo is the automaton's transition from state st (a breadth-first
// id; order maps ids to nodes, id nodes to ids) on class c, once the
// failure links of st's chain are in fail: the trie edge if there is one,
// else the failure state's transition; the root stays.
func trieGoTo(nodes []trieNode, id, order, fail []uint32, st uint32, c uint8) uint32 {
	for {
		if v, ok := nodes[order[st]].next[c]; ok {
			return id[v]
		}
		if st == 0 {
			return 0
		}
		st = fail[st]
	}
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
	// One-byte literals, from the set of ASCII bytes present (lo: 0-63,
	// hi: 64-127), kept in registers.
	var lo, hi uint64
	// applied remembers recent states whose clauses were applied (1 +
	// the state, by its low bits): prose revisits the same states all
	// the time.
	var applied [128]uint32
	nc := s.nClass
	nDense := s.nDense
	dense := s.dense
	fst := uint32(0) // flagged state
	for i := 0; i < len(value); i++ {
		b := value[i]
		pb := s.presence[b]
		bit := uint64(1) << (pb & 63)
		inHi := -uint64(pb >> 6) // all ones for 64-127
		lo |= bit &^ inHi
		hi |= bit & inHi
		c := uint32(s.class[b])
		st := fst >> 1
		if st < nDense {
			fst = uint32(dense[st*nc+c])
		} else if c == 0 {
			fst = 0
			continue
		} else {
			fst = s.sparseStep(st, c)
		}
		if fst&1 != 0 && applied[(fst>>1)&127] != fst {
			applied[(fst>>1)&127] = fst
			m := int(s.stateMask[fst>>1])
			orInto(clauses, s.masks[m*w:(m+1)*w])
		}
	}
	for k, set := range [2]uint64{lo, hi} {
		for set != 0 {
			b := k*64 + bits.TrailingZeros64(set)
			set &= set - 1
			if m := int(s.byteMask[b]); m != 0 {
				orInto(clauses, s.masks[m*w:(m+1)*w])
			}
		}
	}
}

// sparseStep is the transition from sparse state st on class c (not 0):
// the state's edge if it has one, else its failure state's transition.
func (s *scanner) sparseStep(st, c uint32) uint32 {
	for st >= s.nDense {
		off := s.sparseOff[st-s.nDense]
		hdr := s.sparse[off]
		for _, e := range s.sparse[off+1 : off+1+hdr&0xff] {
			if e&0xff == c {
				return e >> 8
			}
		}
		st = hdr >> 8
	}
	return uint32(s.dense[st*s.nClass+c])
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
