package waf

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// An alternation whose branches' words are spread over a sentence is
// ruled out when no single branch has all it requires.
func TestBranchCheckNeedsOneWholeBranch(t *testing.T) {
	const p = `(?sm)(?i)\b(?:(?:alter|load)[\s\x0b]+(?:char|group_concat)\b[\s\x0b]*\(?|end[\s\x0b]*?\);)|[\s\x0b\(]load_file[\s\x0b]*?\(|^[^A-Z_a-z]+[\s\x0b]*?alter[\s\x0b]*group\b`
	bc := newBranchCheck(p)
	if bc == nil {
		t.Fatal("no branch check for an alternation of three branches")
	}
	for _, v := range []string{"Send the summary to the wider group by Friday afternoon.", "load the file (later)"} {
		if bc.mayMatch(v) {
			t.Errorf("%q: no branch has all its literals, yet it may match", v)
		}
	}
	for _, v := range []string{"x end );", "1 alter group", "y load_file(", "LOAD CHAR("} {
		if !bc.mayMatch(v) {
			t.Errorf("%q: a branch has all its literals, yet it was ruled out", v)
		}
	}
}

func TestBranchCheckShapes(t *testing.T) {
	for _, c := range []struct {
		pattern string
		check   bool
	}{
		{`(?sm)abc|def`, true},
		{`(?sm)(abc|def)`, true},
		{`(?sm)abc|.*`, false}, // a branch that requires nothing
		{`(?sm)abc`, false},    // not an alternation
	} {
		if got := newBranchCheck(c.pattern) != nil; got != c.check {
			t.Errorf("%q: check %v, want %v", c.pattern, got, c.check)
		}
	}
}

// The branch check may only rule out values the regex cannot match.
func TestBranchCheckSound(t *testing.T) {
	patterns := []string{
		`(?sm)(?i)\b(?:(?:alter|load)[\s\x0b]+(?:char|group_concat)\b[\s\x0b]*\(?|end[\s\x0b]*?\);)|[\s\x0b\(]load_file[\s\x0b]*?\(|^[^A-Z_a-z]+[\s\x0b]*?alter[\s\x0b]*group\b`,
		`(?sm)(?i)b["'\)\[\x5c]*u["'\)\[\x5c]*s|s["'\)\[\x5c]*h[\s]*\$|k(?:ill|ey)s?`,
		`(?sm)(?i)select.*from|union[\s]+all|\bor\b.+=`,
	}
	pieces := []string{"alter", "ALTER", "load", "char", "group_concat", "end", ");", " ", "\t", "(", "load_file", "group", "1", "x", "b", "u", "s", "\"", "'", ")", "[", "\\", "$", "h", "k", "\u212a", "\u017f", "ill", "ey", "select", "from", "union", "all", "or", "=", "\n", "\xff"}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range patterns {
		bc := newBranchCheck(p)
		if bc == nil {
			t.Fatalf("%q: no branch check", p)
		}
		re := regexp.MustCompile(p)
		ruledOut := 0
		for range 20000 {
			var b strings.Builder
			for k := rng.IntN(7); k > 0; k-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			v := b.String()
			may := bc.mayMatch(v)
			if re.MatchString(v) && !may {
				t.Fatalf("%q matches %q, but the branch check ruled it out", p, v)
			}
			if !may {
				ruledOut++
			}
		}
		if ruledOut == 0 {
			t.Errorf("%q: the branch check ruled nothing out", p)
		}
	}
}
