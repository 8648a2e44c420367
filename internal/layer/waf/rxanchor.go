package waf

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// Several CRS patterns start with an alternation that allows the match to
// begin at the start of a line: (?:^|;|&&|busybox...)COMMAND. Their
// literal requirement is then only COMMAND's, and short command names
// (sh, ls, comm) occur in ordinary words, so the whole pattern, often
// thousands of bytes long, runs on prose. Split in two:
//
//   - the other branches followed by the rest have their own, sharper
//     literal requirement;
//   - the line-start branch can only match at the start of the value when
//     the value has no newline, which the rest of the pattern anchored
//     with \A decides after a few bytes.
//
// The pattern can match only if one of the two can.

// lineStartSplit is the split of one pattern.
type lineStartSplit struct {
	// anchored is \A followed by the rest of the pattern.
	anchored *regexp.Regexp
	// others are clause ids (in reg) of the pattern without its
	// line-start branch.
	others []int32
}

// splitLineStart returns the anchored rest and the pattern without its
// line-start branch, when pattern is a sequence starting with an
// alternation that has a bare ^ branch.
func splitLineStart(pattern string) (anchored, others string, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return "", "", false
	}
	alt := re.Sub[0]
	for alt.Op == syntax.OpCapture {
		alt = alt.Sub[0]
	}
	if alt.Op != syntax.OpAlternate {
		return "", "", false
	}
	var rest []*syntax.Regexp
	found := false
	for _, b := range alt.Sub {
		if b.Op == syntax.OpBeginLine {
			found = true
		} else {
			rest = append(rest, b)
		}
	}
	if !found || len(rest) == 0 {
		return "", "", false
	}
	tail := &syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[1:]}
	head := rest[0]
	if len(rest) > 1 {
		head = &syntax.Regexp{Op: syntax.OpAlternate, Sub: rest}
	}
	without := &syntax.Regexp{Op: syntax.OpConcat, Sub: append([]*syntax.Regexp{head}, re.Sub[1:]...)}
	return `\A(?:` + tail.String() + `)`, without.String(), true
}

// newLineStartSplit builds the split of pattern, or returns nil when the
// pattern does not have that shape or the split would not help (the
// other branches require no literal).
func newLineStartSplit(pattern string) *lineStartSplit {
	anchored, others, ok := splitLineStart(pattern)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(anchored)
	if err != nil {
		return nil
	}
	sp := &lineStartSplit{anchored: re}
	for _, m := range []*litMode{&plainMode, &squeezedMode} {
		if cs := requiredClauses(others, m); len(cs) > 0 {
			sp.others = append(sp.others, reg.register(cs, m)...)
		}
	}
	if len(sp.others) == 0 {
		return nil
	}
	return sp
}

// mayMatch is false only when neither half can match value; bits are
// value's clause bits.
func (sp *lineStartSplit) mayMatch(value string, bits []uint64) bool {
	if allSet(bits, sp.others) {
		return true
	}
	// ^ matches after a newline too; only the start of the value is
	// cheap to try.
	if strings.IndexByte(value, '\n') >= 0 {
		return true
	}
	return sp.anchored.MatchString(value)
}

func allSet(bits []uint64, ids []int32) bool {
	for _, id := range ids {
		if bits[id>>6]&(1<<(id&63)) == 0 {
			return false
		}
	}
	return true
}
