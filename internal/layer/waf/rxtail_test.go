package waf

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A command alone at the end of a line (932340's shape) gives the command
// words as tails; a bounded run after a word widens that word's window.
func TestLineEndTailOfCommandList(t *testing.T) {
	tl := newLineEndTail(`(?sm)(?i)(?:;|\|\|?)[\s\x0b]*(?:[\w./-]+/)?["'\\]*(?:ls|w(?:ho(?:ami)?)?|mysql(?:[^\s\x0b]{1,10}\b)?)$`)
	if tl == nil {
		t.Fatal("no tail for a pattern ending with a word list and $")
	}
	want := map[string]int{"ls": 0, "w": 0, "who": 0, "whoami": 0, "mysql": 40}
	got := map[string]int{}
	for _, l := range tl.lits {
		got[l.lit] = l.trail
	}
	if len(got) != len(want) {
		t.Fatalf("tails %v, want %v", got, want)
	}
	for lit, trail := range want {
		if g, ok := got[lit]; !ok || g != trail {
			t.Fatalf("tails %v, want %v", got, want)
		}
	}
	for _, v := range []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "a;ls -la", "mysql is more than forty bytes away from the end of this line"} {
		if tl.mayMatch(v) {
			t.Errorf("%q: no line end follows a command word, yet it may match", v)
		}
	}
	for _, v := range []string{"a;ls", "a;LS\nmore", "x|who", "a; mysql-5.7", "a;l\u017f"} {
		if !tl.mayMatch(v) {
			t.Errorf("%q: a line end follows a command word, yet it was ruled out", v)
		}
	}
}

func TestLineEndTailShapes(t *testing.T) {
	for _, c := range []struct {
		pattern string
		tail    bool
	}{
		{`(?sm)(?:GET|HEAD)$`, true},
		{`(?sm)^$`, true},
		{`(?sm)^\z`, true},
		{`(?sm)a.*$`, false},    // anything may end the match
		{`(?sm)(?:a|)$`, false}, // may match "" at any line end
		{`(?sm)(?:ab)+\s*$`, true},
		{`(?sm)ab`, false}, // no line end
	} {
		if got := newLineEndTail(c.pattern) != nil; got != c.tail {
			t.Errorf("%q: tail %v, want %v", c.pattern, got, c.tail)
		}
	}
}

// The tail check may only rule out values the regex cannot match.
func TestLineEndTailSound(t *testing.T) {
	patterns := []string{
		`(?sm)(?i)(?:;|\|\|?)[\s\x0b]*(?:[\w./-]+/)?["'\\]*(?:ls|w(?:ho(?:ami)?)?|mysql(?:[^\s\x0b]{1,10}\b)?)$`,
		`(?sm)(?i)(?:ab|k|s)\s*$`,
		`(?sm)(?i)(?:ab|k|s)\s*\z`,
		`(?sm)(?:x|y)?(?:ab)+.?$`,
		`(?sm)^$`,
		`(?sm)^\z`,
		`(?sm)\A\z`,
		`(?sm)(?i)c(?:[^\s]{0,3})?\b$`,
	}
	pieces := []string{"ab", "AB", "s", "\u017f", "k", "K", "\u212a", "ls", "LS", "w", "who", "mysql", "c", ";", "|", " ", "\n", "\t", "x", "y", "-", "/", "\xff", "é", ""}
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for _, p := range patterns {
		tl := newLineEndTail(p)
		if tl == nil {
			t.Fatalf("%q: no tail", p)
		}
		re := regexp.MustCompile(p)
		ruledOut := 0
		for range 20000 {
			var b strings.Builder
			for k := rng.IntN(7); k > 0; k-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			v := b.String()
			may := tl.mayMatch(v)
			if re.MatchString(v) && !may {
				t.Fatalf("%q matches %q, but the tail check ruled it out", p, v)
			}
			if !may {
				ruledOut++
			}
			checked++
		}
		if ruledOut == 0 {
			t.Errorf("%q: the tail check ruled nothing out", p)
		}
	}
	if !slices.Contains(patterns, `(?sm)^$`) || checked == 0 {
		t.Fatal("nothing checked")
	}
}
