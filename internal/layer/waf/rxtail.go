package waf

import (
	"math"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Some CRS patterns must match up to the end of a line: 932340 ends with
// (?:aptitude|df|...|ls|ps|w|who...)$, a command alone on its line. Their
// literal requirement is the command word, and short words (w, ls, su) or
// their prefix characters occur in ordinary text (every browser's
// User-Agent holds "(", ";" and a "w"), so the whole pattern, thousands of
// bytes long, runs. But a match ends at a line end: the value must hold
// one of the words ending there, or at most a known number of bytes
// before it. A value whose line ends are not preceded by such a word
// cannot match; that takes a few comparisons.

// tailLit is a literal every match of a node may end with: the match ends
// with lit (folded) followed by at most trail bytes.
type tailLit struct {
	lit   string
	trail int
}

// lineEndTail is the tail requirement of one pattern.
type lineEndTail struct {
	lits []tailLit
	// textEnd: the pattern ends with \z, not with a multi-line $.
	textEnd bool
	// emptyLine: the pattern is a line start and a line end (^$), which
	// only an empty value or a value with a newline can match.
	emptyLine bool
}

// maxTailLits bounds the tail set: beyond it the check would cost more
// than it saves.
const maxTailLits = 64

// unbounded is the maximum length of a node that can match arbitrarily
// long strings.
const unbounded = math.MaxInt

// newLineEndTail returns the tail requirement of pattern, or nil when the
// pattern does not end with a line or text end, or nothing is known of
// how its matches end.
func newLineEndTail(pattern string) *lineEndTail {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil
	}
	last := re.Sub[len(re.Sub)-1]
	if last.Op != syntax.OpEndLine && last.Op != syntax.OpEndText {
		return nil
	}
	if onlyLineStart(re.Sub[:len(re.Sub)-1]) {
		return &lineEndTail{emptyLine: true, textEnd: last.Op == syntax.OpEndText}
	}
	lits, ok := concatTail(re.Sub[:len(re.Sub)-1])
	if !ok || len(lits) > maxTailLits {
		return nil
	}
	return &lineEndTail{lits: lits, textEnd: last.Op == syntax.OpEndText}
}

// onlyLineStart reports that parts are line or text starts only.
func onlyLineStart(parts []*syntax.Regexp) bool {
	for _, p := range parts {
		if p.Op != syntax.OpBeginLine && p.Op != syntax.OpBeginText {
			return false
		}
	}
	return len(parts) > 0
}

// tailOf returns a tail set of node: every non-empty match of re ends
// with one of the literals, followed by at most its trail. ok is false
// when nothing is known.
func tailOf(re *syntax.Regexp) (lits []tailLit, ok bool) {
	if info := plainMode.analyze(re); info.exactOK && len(info.exact) > 0 {
		// Every match is one of the strings ("" aside: tails are of
		// non-empty matches).
		for _, s := range info.exact {
			if s != "" {
				lits = append(lits, tailLit{lit: s})
			}
		}
		return lits, len(lits) > 0
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		// A non-empty match of x*, x+ or x? ends with a match of x.
		return tailOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max == 0 {
			return nil, false
		}
		return tailOf(re.Sub[0])
	case syntax.OpConcat:
		return concatTail(re.Sub)
	case syntax.OpAlternate:
		for _, b := range re.Sub {
			if b.Op == syntax.OpNoMatch {
				continue
			}
			bl, ok := tailOf(b)
			if !ok {
				if maxMatchLen(b) == 0 {
					// The branch matches only "": no non-empty match.
					continue
				}
				return nil, false
			}
			lits = unionTails(lits, bl)
		}
		return lits, len(lits) > 0
	}
	return nil, false
}

// concatTail is the tail set of the non-empty matches of a sequence. From
// the end: a part with a tail set gives it, shifted by the most the parts
// after it can match; when that part may match "", the parts before it
// may end the match as well. A part without a tail set lengthens the
// shift by the most it can match.
func concatTail(parts []*syntax.Regexp) (lits []tailLit, ok bool) {
	shift := 0
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if pl, ok := tailOf(p); ok {
			for _, t := range pl {
				lits = unionTails(lits, []tailLit{{lit: t.lit, trail: addLen(t.trail, shift)}})
			}
			if minMatchLen(p) > 0 {
				return lits, true
			}
			continue
		}
		shift = addLen(shift, maxMatchLen(p))
		if shift == unbounded {
			return nil, false
		}
	}
	// Every part may match "": a match may end anywhere.
	return nil, false
}

// unionTails adds b to a, keeping for each literal its longest trail.
func unionTails(a, b []tailLit) []tailLit {
	for _, t := range b {
		k := slices.IndexFunc(a, func(x tailLit) bool { return x.lit == t.lit })
		if k < 0 {
			a = append(a, t)
		} else {
			a[k].trail = max(a[k].trail, t.trail)
		}
	}
	return a
}

func addLen(a, b int) int {
	if a == unbounded || b == unbounded || a > unbounded-b {
		return unbounded
	}
	return a + b
}

func mulLen(a, n int) int {
	if n == 0 {
		return 0
	}
	if a == unbounded || a > unbounded/n {
		return unbounded
	}
	return a * n
}

// maxMatchLen is the most bytes a match of re can take. A rune of the input
// takes at most 4 bytes, and an invalid byte (matched as U+FFFD) one.
func maxMatchLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpNoMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += maxRuneLen(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return runeLen(re.Rune[len(re.Rune)-1])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxMatchLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if maxMatchLen(re.Sub[0]) == 0 {
			return 0
		}
		return unbounded
	case syntax.OpRepeat:
		if re.Max < 0 {
			if maxMatchLen(re.Sub[0]) == 0 {
				return 0
			}
			return unbounded
		}
		return mulLen(maxMatchLen(re.Sub[0]), re.Max)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = addLen(n, maxMatchLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range re.Sub {
			n = max(n, maxMatchLen(s))
		}
		return n
	}
	return unbounded
}

// minMatchLen is the fewest bytes a match of re can take.
func minMatchLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) // at least one byte per rune
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minMatchLen(re.Sub[0])
	case syntax.OpRepeat:
		return mulLen(minMatchLen(re.Sub[0]), re.Min)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = addLen(n, minMatchLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := unbounded
		for _, s := range re.Sub {
			n = min(n, minMatchLen(s))
		}
		return n
	}
	// Empty-width assertions, x*, x?, and anything unknown.
	return 0
}

// maxRuneLen is the longest UTF-8 encoding of r, or of any rune it
// matches case-insensitively when fold is set.
func maxRuneLen(r rune, fold bool) int {
	n := runeLen(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			n = max(n, runeLen(f))
		}
	}
	return n
}

func runeLen(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return utf8.UTFMax
}

// mayMatch is false only when no line end of value (the end of value, and
// for a multi-line $ each newline) is preceded by a tail literal within
// its trail.
func (t *lineEndTail) mayMatch(value string) bool {
	// The literals are folded (see rxliterals.go); folding the two
	// special runes only shortens the text, so trails stay upper bounds.
	if t.emptyLine {
		// Without a newline, a start and an end of line (or text)
		// meet only in an empty value.
		return value == "" || strings.IndexByte(value, '\n') >= 0
	}
	v := foldSpecial(value)
	if t.endsWithTail(v, len(v)) {
		return true
	}
	if t.textEnd {
		return false
	}
	for i := 0; i < len(v); i++ {
		j := strings.IndexByte(v[i:], '\n')
		if j < 0 {
			return false
		}
		if t.endsWithTail(v, i+j) {
			return true
		}
		i += j
	}
	return false
}

// endsWithTail reports whether some literal occurs in v ending at most its
// trail bytes before end.
func (t *lineEndTail) endsWithTail(v string, end int) bool {
	for _, tl := range t.lits {
		from := max(0, end-tl.trail-len(tl.lit))
		if containsFolded(v[from:end], tl.lit) {
			return true
		}
	}
	return false
}

// containsFolded reports whether s, with ASCII upper case lowered, holds
// lit (lower case).
func containsFolded(s, lit string) bool {
	for i := 0; i+len(lit) <= len(s); i++ {
		k := 0
		for k < len(lit) && lowerASCII(s[i+k]) == lit[k] {
			k++
		}
		if k == len(lit) {
			return true
		}
	}
	return false
}
