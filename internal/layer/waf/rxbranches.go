package waf

import "regexp/syntax"

// Many CRS patterns are alternations of unrelated shapes (942360: five
// kinds of SQL statement). Of an alternation the prefilter requires unions
// of one clause per branch, and ordinary text can satisfy every union
// with words that belong to different branches ("Send" gives "end" to
// one, "group" to another) while no branch has all it needs. So when the
// prefilter passes such a pattern, its branches are checked one by one:
// it can match only if one branch's own clauses all hold. Each such
// pattern has a small scanner of its branches' literals, run only then.

// maxBranches bounds the alternations checked branch by branch.
const maxBranches = 16

// branchCheck is the branch-by-branch check of one pattern.
type branchCheck struct {
	s *scanner
	// branches are clause ids in s, one list per branch.
	branches [][]int32
}

// newBranchCheck returns the check of pattern, or nil when the pattern is
// not an alternation of at most maxBranches branches that all require
// some literal.
func newBranchCheck(pattern string) *branchCheck {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpAlternate || len(re.Sub) < 2 || len(re.Sub) > maxBranches {
		return nil
	}
	g := &registry{literals: map[string]int32{}, clauses: map[string]int32{}}
	bc := &branchCheck{}
	for _, b := range re.Sub {
		var ids []int32
		for _, m := range []*litMode{&plainMode, &squeezedMode} {
			if cs := requiredClausesOf(b, m); len(cs) > 0 {
				ids = append(ids, g.register(cs, m)...)
			}
		}
		if len(ids) == 0 {
			// The branch requires nothing: it may always match.
			return nil
		}
		bc.branches = append(bc.branches, ids)
	}
	bc.s = buildScanner(g.litList, g.litClauses, g.sqClauses, int(g.nClauses), 0)
	return bc
}

// mayMatch is false only when no branch has all its clauses in value.
func (bc *branchCheck) mayMatch(value string) bool {
	var buf [8]uint64
	bits := buf[:0]
	if bc.s.words <= len(buf) {
		bits = buf[:bc.s.words]
	} else {
		bits = make([]uint64, bc.s.words)
	}
	bc.s.clauseBits(value, bits, nil)
	for _, ids := range bc.branches {
		if allSet(bits, ids) {
			return true
		}
	}
	return false
}
