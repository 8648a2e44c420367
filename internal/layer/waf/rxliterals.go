package waf

import (
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// This file derives, from a regular expression's syntax tree, literals a
// matching input must contain. The result is a conjunction of clauses; each
// clause is a set of literals of which at least one must occur in the
// input. If any clause has none of its literals in the input, the regex
// cannot match and need not run.
//
// Literals are compared against a folded input: ASCII upper case is
// lowered, and the only two non-ASCII runes whose case-fold orbit holds an
// ASCII letter (U+212A KELVIN SIGN and U+017F LATIN SMALL LETTER LONG S,
// checked by TestFoldOrbits) are replaced by that letter. Folding can only
// make more inputs contain a literal, never fewer, so it is sound for
// case-sensitive patterns too. Literals therefore hold only ASCII bytes; a
// non-ASCII rune in a pattern ends a literal instead of being part of it.

// maxExact bounds the sets of strings a sub-expression may match exactly
// (e.g. [sS]elect|union is {"select","union"}); beyond it the analysis
// keeps clauses only.
// maxPrefixes bounds prefix sets (see litInfo); larger sets are cut to
// shorter prefixes until they fit.
const (
	maxExact      = 256
	maxPrefixes   = 1024
	maxClassRunes = 64
	maxClauses    = 8
	maxAltClauses = 3
	maxCrossWidth = 3
)

// litMode changes what the analysis assumes about the input. In the plain
// mode nothing is assumed. In the squeezed mode literals are looked up in
// the input with the squeeze bytes deleted, and the absent bytes are known
// not to occur in it; that mode sees through CRS's evasion-tolerant
// patterns such as b["'\)\[\x5c]*u["'\)\[\x5c]*s... (busybox with quotes
// between letters), where the plain mode finds only single letters.
type litMode struct {
	squeeze [256]bool
	absent  [256]bool
}

var plainMode litMode

// squeezedMode deletes the quote, bracket and backslash characters CRS's
// RCE patterns tolerate between letters, and applies only to inputs
// without '$' (the start of the shell-variable evasion those patterns
// also allow, e.g. b$@usybox).
var squeezedMode = func() litMode {
	var m litMode
	for _, b := range []byte("\"')[\\") {
		m.squeeze[b] = true
	}
	m.absent['$'] = true
	return m
}()

// never is the info of a node that cannot match under the mode's
// assumptions: an empty exact set.
func never() litInfo { return litInfo{exact: []string{}, exactOK: true} }

// isNever reports that the node cannot match: an empty exact set or an
// empty (unsatisfiable) clause.
func (i litInfo) isNever() bool {
	if i.exactOK && len(i.exact) == 0 {
		return true
	}
	for _, c := range i.clauses {
		if len(c) == 0 {
			return true
		}
	}
	return false
}

// onlyEmpty reports that the node matches only the empty string.
func (i litInfo) onlyEmpty() bool {
	return i.exactOK && len(i.exact) == 1 && i.exact[0] == "" && len(i.clauses) == 0
}

// litInfo is what one sub-expression tells about the strings it matches.
type litInfo struct {
	// exact, when exactOK, is every string the node can match (folded).
	exact   []string
	exactOK bool
	// prefixes, when not exact, holds a prefix of every string the node
	// matches: a large alternation of words keeps its words this way
	// (git|gcc|grep... stays {git, gcc, grep, ...} rather than "g"). nil
	// means nothing is known.
	prefixes []string
	// clauses must all be satisfied by any input the node matches.
	clauses [][]string
}

// prefixSet is a set of strings one of which starts every match: the
// exact set, or the prefixes. ok is false when nothing is known.
func (i litInfo) prefixSet() (ps []string, ok bool) {
	if i.exactOK {
		return i.exact, true
	}
	return i.prefixes, i.prefixes != nil
}

func anyInfo() litInfo                { return litInfo{} }
func exactInfo(ss ...string) litInfo  { return litInfo{exact: ss, exactOK: true} }
func emptyWidth() litInfo             { return exactInfo("") }
func clauseInfo(c [][]string) litInfo { return litInfo{clauses: c} }

// requiredClauses parses a pattern exactly as the rx operator compiles it
// and returns the clauses an input must satisfy, most selective first. nil
// means no literal is required (the regex must always run).
func requiredClauses(pattern string, m *litMode) [][]string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return requiredClausesOf(re.Simplify(), m)
}

// requiredClausesOf is requiredClauses of a parsed and simplified
// expression.
func requiredClausesOf(re *syntax.Regexp, m *litMode) [][]string {
	info := m.analyze(re)
	cs := dedupeClauses(clausesOf(info))
	sort.SliceStable(cs, func(i, j int) bool { return clauseScore(cs[i]) > clauseScore(cs[j]) })
	if len(cs) > maxClauses {
		cs = cs[:maxClauses]
	}
	return cs
}

// clauseScore prefers clauses whose shortest literal is long (rarer in
// ordinary text) and that have few alternatives.
func clauseScore(c []string) int {
	m := 1 << 20
	for _, s := range c {
		m = min(m, len(s))
	}
	return m*1000 - len(c)
}

// clausesOf turns a node's exact set into a clause and adds its clauses.
// A set holding "" (the node can match the empty string) requires nothing;
// an empty set (the node cannot match) becomes an empty clause, which no
// input satisfies.
func clausesOf(i litInfo) [][]string {
	out := slices.Clone(i.clauses)
	if ps, ok := i.prefixSet(); ok && !slices.Contains(ps, "") {
		out = append(out, ps)
	}
	return out
}

func (m *litMode) analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return emptyWidth()
	case syntax.OpLiteral:
		parts := make([]litInfo, len(re.Rune))
		for k, r := range re.Rune {
			parts[k] = m.runeInfo(r, re.Flags&syntax.FoldCase != 0)
		}
		return concatInfo(parts)
	case syntax.OpCharClass:
		return m.classInfo(re.Rune)
	case syntax.OpCapture:
		return m.analyze(re.Sub[0])
	case syntax.OpStar:
		// x* matches only "" when x matches nothing or only "" (a class
		// of squeezed bytes).
		if sub := m.analyze(re.Sub[0]); sub.isNever() || sub.onlyEmpty() {
			return emptyWidth()
		}
		return anyInfo()
	case syntax.OpQuest:
		sub := m.analyze(re.Sub[0])
		if sub.isNever() {
			return emptyWidth()
		}
		if sub.exactOK && len(sub.exact) < maxExact {
			return exactInfo(union(sub.exact, []string{""})...)
		}
		return anyInfo()
	case syntax.OpPlus:
		sub := m.analyze(re.Sub[0])
		if sub.onlyEmpty() {
			return emptyWidth()
		}
		return repeatedInfo(sub)
	case syntax.OpRepeat:
		sub := m.analyze(re.Sub[0])
		if sub.onlyEmpty() {
			return emptyWidth()
		}
		if re.Min >= 1 {
			return repeatedInfo(sub)
		}
		if sub.isNever() {
			return emptyWidth()
		}
		return anyInfo()
	case syntax.OpConcat:
		parts := make([]litInfo, len(re.Sub))
		for k, s := range re.Sub {
			parts[k] = m.analyze(s)
		}
		return concatInfo(parts)
	case syntax.OpAlternate:
		return m.alternateInfo(re.Sub)
	}
	// OpAnyChar, OpAnyCharNotNL, OpNoMatch and anything unknown:
	// no requirement.
	return anyInfo()
}

// repeatedInfo is x+ or x{n,m} with n >= 1: x's requirements, and every
// match starts with a match of x.
func repeatedInfo(sub litInfo) litInfo {
	i := clauseInfo(clausesOf(sub))
	if ps, ok := sub.prefixSet(); ok && !slices.Contains(ps, "") {
		i.prefixes = ps
	}
	return i
}

// runeInfo is one literal rune: a one-byte exact set when it has an ASCII
// folded form, otherwise no requirement.
func (m *litMode) runeInfo(r rune, fold bool) litInfo {
	var b byte
	switch {
	case r < 0x80:
		b = lowerASCII(byte(r))
	case fold:
		f, ok := asciiFoldOf(r)
		if !ok {
			return anyInfo()
		}
		b = f
	default:
		return anyInfo()
	}
	return m.byteInfo(b)
}

// byteInfo is one folded byte under the mode.
func (m *litMode) byteInfo(b byte) litInfo {
	switch {
	case m.absent[b]:
		return never()
	case m.squeeze[b]:
		return emptyWidth()
	}
	return exactInfo(string(rune(b)))
}

// classInfo is a character class: a small set of one-byte strings when
// every member has an ASCII folded form.
func (m *litMode) classInfo(ranges []rune) litInfo {
	n := 0
	for k := 0; k+1 < len(ranges); k += 2 {
		n += int(ranges[k+1]-ranges[k]) + 1
		if n > maxClassRunes {
			return anyInfo()
		}
	}
	var set []string
	for k := 0; k+1 < len(ranges); k += 2 {
		for r := ranges[k]; r <= ranges[k+1]; r++ {
			var b byte
			if r < 0x80 {
				b = lowerASCII(byte(r))
			} else if f, ok := asciiFoldOf(r); ok {
				b = f
			} else {
				return anyInfo()
			}
			switch {
			case m.absent[b]:
				continue
			case m.squeeze[b]:
				set = union(set, []string{""})
			default:
				set = union(set, []string{string(rune(b))})
			}
		}
	}
	if len(set) > maxExact {
		return anyInfo()
	}
	return exactInfo(set...)
}

// concatInfo joins a sequence: adjacent exact sets are multiplied out into
// longer literals while small; when a set would grow too large, or a part
// is not exact, the run so far becomes a clause.
func concatInfo(parts []litInfo) litInfo {
	for _, p := range parts {
		if p.isNever() {
			return never()
		}
	}
	var clauses [][]string
	run, runOK, whole := []string{""}, true, true
	for _, p := range parts {
		clauses = append(clauses, p.clauses...)
		// Multiplying by a wide set (a whitespace class) only multiplies
		// literals that are barely more selective than the run alone.
		if runOK && p.exactOK && len(run)*len(p.exact) <= maxExact &&
			(len(p.exact) <= maxCrossWidth || len(run) == 1 && (run[0] == "" || !allSingleBytes(p.exact))) {
			run = cross(run, p.exact)
			continue
		}
		whole = false
		if runOK {
			clauses = append(clauses, clausesOf(exactInfo(extend(run, p)...))...)
		}
		if p.exactOK {
			run, runOK = slices.Clone(p.exact), true
		} else {
			run, runOK = nil, false
		}
	}
	if whole && runOK {
		return litInfo{exact: run, exactOK: true, clauses: clauses}
	}
	if runOK {
		clauses = append(clauses, clausesOf(exactInfo(run...))...)
	}
	i := clauseInfo(clauses)
	i.prefixes = concatPrefixes(parts)
	return i
}

// extend lengthens the literals of an exact run by the prefixes of the
// part that follows it (p in (?:cat|ls)p), when that part is not exact
// and the product stays small.
func extend(run []string, p litInfo) []string {
	if p.exactOK {
		return run
	}
	if ps, ok := p.prefixSet(); ok && len(run)*len(ps) <= maxPrefixes {
		return cross(run, ps)
	}
	return run
}

// concatPrefixes is the prefix set of a sequence: the exact parts from
// the start multiplied out, then the prefixes of the first part that is
// not exact. nil when the sequence may start with anything.
func concatPrefixes(parts []litInfo) []string {
	pre := []string{""}
	for _, p := range parts {
		ps, ok := p.prefixSet()
		if !ok || len(pre)*len(ps) > maxPrefixes ||
			p.exactOK && len(ps) > maxCrossWidth && !(len(pre) == 1 && pre[0] == "") && allSingleBytes(ps) {
			break
		}
		pre = cross(pre, ps)
		if !p.exactOK {
			break
		}
	}
	if slices.Contains(pre, "") {
		return nil
	}
	return pre
}

// alternateInfo: a small union of exact sets stays exact; otherwise each
// branch contributes its best clause and one of them must hold. A branch
// with no clause makes the whole alternation require nothing.
func (m *litMode) alternateInfo(subs []*syntax.Regexp) litInfo {
	var infos []litInfo
	allExact, total := true, 0
	for _, s := range subs {
		// A branch that cannot match adds nothing to the alternation.
		if i := m.analyze(s); !i.isNever() {
			infos = append(infos, i)
			allExact = allExact && i.exactOK
			total += len(i.exact)
		}
	}
	if len(infos) == 0 {
		return never()
	}
	if allExact && total <= maxExact {
		var set []string
		for _, i := range infos {
			set = union(set, i.exact)
		}
		return exactInfo(set...)
	}
	prefixes := alternatePrefixes(infos)
	// Each branch implies any one of its clauses, so the alternation
	// implies the union of one clause per branch. Several such unions
	// are kept: the branches' best clauses, their second best, and so
	// on (a branch short of clauses repeats its best). The later unions
	// are often of punctuation ([!+=], quotes) that prose lacks.
	ranked := make([][][]string, len(infos))
	depth := 0
	for k, i := range infos {
		cs := clausesOf(i)
		if len(cs) == 0 {
			return litInfo{prefixes: prefixes}
		}
		sort.SliceStable(cs, func(a, b int) bool { return clauseScore(cs[a]) > clauseScore(cs[b]) })
		ranked[k] = cs
		depth = max(depth, len(cs))
	}
	var clauses [][]string
	for d := 0; d < min(depth, maxAltClauses); d++ {
		var clause []string
		for _, cs := range ranked {
			c := cs[0]
			if d < len(cs) {
				c = cs[d]
			}
			clause = union(clause, c)
		}
		clauses = append(clauses, clause)
	}
	return litInfo{clauses: clauses, prefixes: prefixes}
}

// alternatePrefixes is the union of the branches' prefix sets, cut to
// shorter prefixes until it fits in maxPrefixes; nil when a branch may
// start with anything.
func alternatePrefixes(infos []litInfo) []string {
	var all []string
	for _, i := range infos {
		ps, ok := i.prefixSet()
		if !ok || slices.Contains(ps, "") {
			return nil
		}
		all = append(all, ps...)
	}
	for n := maxLen(all); n > 0; n-- {
		cut := truncateAll(all, n)
		if len(cut) <= maxPrefixes {
			return cut
		}
	}
	return nil
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// truncateAll cuts every string to at most n bytes and removes repeats.
// A prefix of a prefix is still a prefix, so the result stays sound.
func truncateAll(ss []string, n int) []string {
	seen := make(map[string]bool, len(ss))
	var out []string
	for _, s := range ss {
		if len(s) > n {
			s = s[:n]
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func allSingleBytes(ss []string) bool {
	for _, s := range ss {
		if len(s) > 1 {
			return false
		}
	}
	return true
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	seen := make(map[string]bool, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if s := x + y; !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	seen := make(map[string]bool, len(a)+len(b))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// dedupeClauses sorts each clause, drops literals made redundant by a
// shorter literal of the same clause they contain, and drops repeated
// clauses.
func dedupeClauses(cs [][]string) [][]string {
	seen := map[string]bool{}
	var out [][]string
	for _, c := range cs {
		c = slices.Clone(c)
		sort.Slice(c, func(i, j int) bool { return len(c[i]) < len(c[j]) || len(c[i]) == len(c[j]) && c[i] < c[j] })
		var kept []string
		for _, s := range c {
			redundant := false
			for _, k := range kept {
				if strings.Contains(s, k) {
					redundant = true
					break
				}
			}
			if !redundant {
				kept = append(kept, s)
			}
		}
		sort.Strings(kept)
		key := strings.Join(kept, "\x00")
		if !seen[key] {
			seen[key] = true
			out = append(out, kept)
		}
	}
	return out
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// asciiFoldOf returns the lower-case ASCII letter in r's case-fold orbit,
// if there is one (only for U+212A and U+017F).
func asciiFoldOf(r rune) (byte, bool) {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < 0x80 {
			return lowerASCII(byte(f)), true
		}
	}
	return 0, false
}
