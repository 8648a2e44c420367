package waf

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"pinpoint/internal/pipeline"
)

// The prefilter must be sound: it may only skip a regex that cannot match.
// These tests compare the prefilter against the plain regex on every value
// the WAF evaluates for the attack and benign sets (after Coraza's
// transformations), and on generated strings for every compiled pattern.

func (c *rxCompiled) op() *prefilteredRx {
	return &prefilteredRx{pattern: c.pattern, re: c.re, clauses: c.clauses, sqClauses: c.sqClauses}
}

// checkSound fails when the regex matches value but the prefilter said it
// could not.
func checkSound(t testing.TB, o *prefilteredRx, value string) bool {
	if o.re.MatchString(value) && !o.mayMatch(value) {
		t.Errorf("prefilter skipped a matching value\npattern %.200q\nvalue   %.200q", o.pattern, value)
		return false
	}
	return true
}

// TestRxPrefilterSoundOnTestSets runs the sets through a paranoia-4 WAF
// (every rule) and replays each (pattern, value) pair. It is not parallel:
// it installs the package's evaluation hook.
func TestRxPrefilterSoundOnTestSets(t *testing.T) {
	l := build(t, "paranoia: 4")
	type pair struct {
		o *prefilteredRx
		v string
	}
	seen := map[pair]bool{}
	evalHook = func(o *prefilteredRx, v string) { seen[pair{o, v}] = true }
	defer func() { evalHook = nil }()

	var reqs []*pipeline.Request
	for _, c := range readJSONL[benignCase](t, "testdata/benign.jsonl") {
		reqs = append(reqs, c.request())
	}
	for _, c := range readJSONL[knownFalsePositive](t, "testdata/benign_known_fp.jsonl") {
		reqs = append(reqs, c.request())
	}
	for _, c := range readJSONL[attackCase](t, "testdata/attacks.jsonl") {
		r, _ := c.request()
		reqs = append(reqs, r)
	}
	reqs = append(reqs, req(http.MethodPost, "/v1/notes?draft=true", "application/json", json20Fields))
	for _, r := range reqs {
		eval(l, r)
	}
	evalHook = nil
	matched, skipped := 0, 0
	for p := range seen {
		if p.o.re.MatchString(p.v) {
			matched++
		} else if !p.o.mayMatch(p.v) {
			skipped++
		}
		checkSound(t, p.o, p.v)
	}
	if matched == 0 || skipped == 0 {
		t.Fatalf("the sets exercised too little: %d pairs, %d matches, %d skipped by the prefilter", len(seen), matched, skipped)
	}
	t.Logf("%d (pattern, value) pairs: %d regex matches, %d skipped by the prefilter, none wrongly", len(seen), matched, skipped)
}

// TestRxPrefilterSoundOnGeneratedStrings checks every compiled pattern on
// strings built from its own literals, punctuation, the case-folding
// special runes and invalid UTF-8, so that clauses are often satisfied and
// regexes often match.
func TestRxPrefilterSoundOnGeneratedStrings(t *testing.T) {
	build(t, "paranoia: 4")
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{" ", "'", "\"", "\\", "(", ")", "[", "]", "$", "{", "}", ";", "|", "&", "`", "<", ">", "/", "..", "=", "-", "#", "%", "\n", "\t", "\x0b",
		"\u212a", "\u017f", "\xff", "\xc5", "SELECT", "union", "script", "alert", "etc/passwd", "cat", "e\\va'l", "b'u\"s)y[b\\ox", "0x", "1", "a", "Z"}
	n := 0
	for _, c := range compiled.all() {
		o := c.op()
		var lits []string
		for _, g := range []*registry{reg, regSq} {
			g.mu.Lock()
			for lit := range g.literals {
				if strings.Contains(c.pattern, lit) || len(lits) < 8 && rng.IntN(50) == 0 {
					lits = append(lits, lit)
				}
			}
			g.mu.Unlock()
		}
		for range 60 {
			var b strings.Builder
			for k := rng.IntN(8) + 1; k > 0; k-- {
				if len(lits) > 0 && rng.IntN(2) == 0 {
					l := lits[rng.IntN(len(lits))]
					if rng.IntN(2) == 0 {
						l = strings.ToUpper(l)
					}
					b.WriteString(l)
				} else {
					b.WriteString(pieces[rng.IntN(len(pieces))])
				}
			}
			if !checkSound(t, o, b.String()) {
				break
			}
			n++
		}
	}
	if len(compiled.all()) < 100 {
		t.Fatalf("only %d patterns compiled; CRS was not loaded through the prefiltered operator", len(compiled.all()))
	}
	t.Logf("%d generated values checked over %d patterns", n, len(compiled.all()))
}

// FuzzRxPrefilterSound compares the prefiltered and the plain regex for
// every compiled CRS pattern on fuzzed values.
//
//	go test ./internal/layer/waf -run XXX -fuzz FuzzRxPrefilterSound -fuzztime 60s
func FuzzRxPrefilterSound(f *testing.F) {
	l, err := buildErr("paranoia: 4")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	for _, c := range readJSONL[attackCase](f, "testdata/attacks.jsonl") {
		f.Add(c.Payload)
	}
	f.Add("b'u\"s)y[b\\ox -c id")
	f.Add("\u212aILL \u017fELECT")
	ops := compiled.all()
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range ops {
			checkSound(t, c.op(), v)
		}
	})
}
