package waf

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// hasClause reports whether cs holds a clause equal to want (any order).
func hasClause(cs [][]string, want ...string) bool {
	slices.Sort(want)
	for _, c := range cs {
		c = slices.Clone(c)
		slices.Sort(c)
		if slices.Equal(c, want) {
			return true
		}
	}
	return false
}

// A large alternation of command words factored into a prefix tree must
// still require one whole word, not the short fragments left after
// factoring (which ordinary prose contains).
func TestRequiredClausesKeepWholeWordsOfFactoredAlternations(t *testing.T) {
	// Factored the way CRS's generator does, with a branch that is not
	// an exact set (python plus a version), a separator class after the
	// words and an optional path before them.
	pattern := `(?i)(?:^|;)[\s]*(?:[a-z/]+/)?(?:g(?:it|cc|rep)|p(?:erl|ython[^\s]{1,10}\b|dksh)|s(?:ed|cp))[\s;|&]`
	// pdksh holds sh, but sh is not a word here: nothing shorter may
	// stand in for it.
	words := []string{"git", "gcc", "grep", "perl", "python", "pdksh", "sed", "scp"}
	cs := requiredClauses(pattern, &plainMode)
	if !hasClause(cs, words...) {
		t.Fatalf("clauses %q: want one clause holding the whole words %q", cs, words)
	}
}

// Prefix sets too large for maxPrefixes are cut to shorter prefixes, not
// dropped, and every word keeps a prefix in the cut set.
func TestAlternatePrefixesCutLargeSets(t *testing.T) {
	var infos []litInfo
	var words []string
	for i := range 3000 {
		w := fmt.Sprintf("w%04dx", i)
		words = append(words, w)
		infos = append(infos, litInfo{prefixes: []string{w}})
	}
	ps := alternatePrefixes(infos)
	if len(ps) == 0 || len(ps) > maxPrefixes {
		t.Fatalf("%d prefixes, want 1..%d", len(ps), maxPrefixes)
	}
	for _, w := range words {
		if !slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(w, p) }) {
			t.Fatalf("%q has no prefix in the cut set", w)
		}
	}
	if len(ps[0]) < 4 {
		t.Fatalf("cut to %q: shorter than needed to fit", ps[0])
	}
	// A branch that may start with anything leaves no prefix set.
	if alternatePrefixes(append(infos, anyInfo())) != nil {
		t.Fatal("a branch without prefixes must clear the set")
	}
}

// In the squeezed mode, CRS's evasion-tolerant words (quotes and
// backslashes between letters) become whole words, and brackets that the
// evasion class does not cover stay literal.
func TestSqueezedModeSeesThroughEvasions(t *testing.T) {
	gap := `["'\)\[\x5c]*(?:\$[a-z]*)?\x5c?`
	word := func(w string) string { return strings.Join(strings.Split(w, ""), gap) }
	pattern := `(?i)(?:` + word("busybox") + `|` + word("nohup") + `|[;|` + "`" + `]|\([\s]*\))[\s]*cat`
	cs := requiredClauses(pattern, &squeezedMode)
	if !hasClause(cs, "busybox", "nohup", ";", "|", "`", "(") {
		t.Fatalf("squeezed clauses %q: want {busybox nohup ; | ` (}", cs)
	}
	if plain := requiredClauses(pattern, &plainMode); hasClause(plain, "busybox", "nohup", ";", "|", "`", "(") {
		t.Fatalf("plain clauses %q cannot see through the evasion gaps", plain)
	}
}

// A pattern that may match from the start of a line only runs on values
// that hold one of its other prefixes, or that start like a match.
func TestLineStartSplitSkipsProse(t *testing.T) {
	op, err := newPrefilteredRx(plugintypes.OperatorOptions{Arguments: `(?i)(?:^|;|\|\||busybox)[\s]*(?:sh|ls|cat)[\s;|&]`})
	if err != nil {
		t.Fatal(err)
	}
	o := op.(*prefilteredRx)
	if o.lineStart == nil {
		t.Fatal("no line-start split for a (?:^|...) pattern")
	}
	for _, v := range []string{"Ship the first version", "English", "the goals list", "shell scripts and cats"} {
		if o.re.MatchString(v) {
			t.Fatalf("bad case: the regex matches %q", v)
		}
		if o.mayMatch(nil, v) {
			t.Errorf("%q: the prefilter should skip prose that neither starts with a command nor holds a separator", v)
		}
	}
	for _, v := range []string{"sh -c id", "  ls /", "a;cat x", "x || ls -la", "first line\nls -la", "busybox sh -c id"} {
		if !o.re.MatchString(v) {
			t.Fatalf("bad case: the regex does not match %q", v)
		}
		if !o.mayMatch(nil, v) {
			t.Errorf("%q: the prefilter skipped a matching value", v)
		}
	}
}
