package waf

import (
	"unicode"

	binsyntax "rsc.io/binaryregexp/syntax"
)

// Patterns with non-UTF-8 byte escapes run on binaryregexp and escape the
// literal analysis, which works on UTF-8. Their prefilter is simpler: the
// set of bytes a match can start with. A value holding none of them
// cannot match (unless the pattern matches the empty string, in which
// case there is no prefilter).

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(b int)       { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) union(o byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|o[0], s[1]|o[1], s[2]|o[2], s[3]|o[3]
}
func (s *byteSet) addRange(lo, hi rune) {
	for r := max(lo, 0); r <= min(hi, 255); r++ {
		s.add(int(r))
	}
}

// firstBytes returns the bytes every non-empty-width match of re starts
// with, and whether re can match the empty string.
func firstBytes(re *binsyntax.Regexp) (set byteSet, nullable bool) {
	switch re.Op {
	case binsyntax.OpNoMatch:
		return set, false
	case binsyntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true
		}
		r := re.Rune[0]
		set.addRange(r, r)
		if re.Flags&binsyntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				set.addRange(f, f)
			}
		}
		return set, false
	case binsyntax.OpCharClass:
		for k := 0; k+1 < len(re.Rune); k += 2 {
			set.addRange(re.Rune[k], re.Rune[k+1])
		}
		return set, false
	case binsyntax.OpAnyChar:
		set.addRange(0, 255)
		return set, false
	case binsyntax.OpAnyCharNotNL:
		set.addRange(0, '\n'-1)
		set.addRange('\n'+1, 255)
		return set, false
	case binsyntax.OpCapture, binsyntax.OpPlus:
		return firstBytes(re.Sub[0])
	case binsyntax.OpStar, binsyntax.OpQuest:
		set, _ = firstBytes(re.Sub[0])
		return set, true
	case binsyntax.OpRepeat:
		set, nullable = firstBytes(re.Sub[0])
		return set, nullable || re.Min == 0
	case binsyntax.OpConcat:
		for _, sub := range re.Sub {
			s, n := firstBytes(sub)
			set.union(s)
			if !n {
				return set, false
			}
		}
		return set, true
	case binsyntax.OpAlternate:
		for _, sub := range re.Sub {
			s, n := firstBytes(sub)
			set.union(s)
			nullable = nullable || n
		}
		return set, nullable
	}
	// Empty-width assertions and anything unknown match without
	// consuming a byte.
	return set, true
}

// binaryPrefilter returns the first-byte set of a binary pattern; ok is
// false when the pattern can match the empty string.
func binaryPrefilter(expr string) (set byteSet, ok bool) {
	re, err := binsyntax.Parse(expr, binsyntax.Perl)
	if err != nil {
		return set, false
	}
	set, nullable := firstBytes(re.Simplify())
	return set, !nullable
}

// containsAny reports whether value holds a byte of s.
func (s *byteSet) containsAny(value string) bool {
	for i := 0; i < len(value); i++ {
		if s.has(value[i]) {
			return true
		}
	}
	return false
}
