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

// checkSound fails when the regex matches value but the prefilter said it
// could not.
func checkSound(t testing.TB, o *prefilteredRx, value string) bool {
	if o.re.MatchString(value) && !o.mayMatch(nil, value) {
		t.Errorf("prefilter skipped a matching value\npattern %.200q\nvalue   %.200q", o.pattern, value)
		return false
	}
	return true
}

// checkPMSound is checkSound for the phrase lists.
func checkPMSound(t testing.TB, c *pmCompiled, value string) bool {
	o := &pmOp{c: c}
	if len(value) >= c.minLen && c.matcher.Iter(value).Next() != nil && !o.mayMatch(nil, value) {
		t.Errorf("phrase prefilter skipped a matching value\nphrases %.200q\nvalue   %.200q", c.phrases, value)
		return false
	}
	return true
}

// checkBinarySound is checkSound for the byte-wise patterns.
func checkBinarySound(t testing.TB, c *binaryCompiled, value string) bool {
	if c.re.MatchString(value) && !(&binaryRx{c: c}).mayMatch(nil, value) {
		t.Errorf("binary prefilter skipped a matching value\npattern %.200q\nvalue   %.200q", c.re.String(), value)
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
	values := map[string]bool{}
	for p := range seen {
		values[p.v] = true
		if p.o.re.MatchString(p.v) {
			matched++
		} else if !p.o.mayMatch(nil, p.v) {
			skipped++
		}
		checkSound(t, p.o, p.v)
	}
	if matched == 0 || skipped == 0 {
		t.Fatalf("the sets exercised too little: %d pairs, %d matches, %d skipped by the prefilter", len(seen), matched, skipped)
	}
	t.Logf("%d (pattern, value) pairs: %d regex matches, %d skipped by the prefilter, none wrongly", len(seen), matched, skipped)

	// The byte-wise patterns, on every value the text patterns saw and
	// on the raw payloads (they look at undecoded bytes too).
	for _, c := range readJSONL[attackCase](t, "testdata/attacks.jsonl") {
		values[c.Payload] = true
	}
	values["\xbcscript\xbealert(1)\xbc/script\xbe"] = true
	bins := compiled.binary.all()
	bmatched, bskipped := 0, 0
	for v := range values {
		for _, c := range bins {
			if c.re.MatchString(v) {
				bmatched++
			} else if !(&binaryRx{c: c}).mayMatch(nil, v) {
				bskipped++
			}
			checkBinarySound(t, c, v)
		}
	}
	pms := compiled.pm.all()
	pmatched, pskipped := 0, 0
	for v := range values {
		for _, c := range pms {
			if len(v) >= c.minLen && c.matcher.Iter(v).Next() != nil {
				pmatched++
			} else if !(&pmOp{c: c}).mayMatch(nil, v) {
				pskipped++
			}
			checkPMSound(t, c, v)
		}
	}
	if len(pms) == 0 || pmatched == 0 || pskipped == 0 {
		t.Fatalf("the phrase lists were exercised too little: %d lists, %d matches, %d skipped", len(pms), pmatched, pskipped)
	}
	t.Logf("%d phrase lists × %d values: %d matches, %d skipped by the prefilter, none wrongly", len(pms), len(values), pmatched, pskipped)
	if len(bins) == 0 || bmatched == 0 || bskipped == 0 {
		t.Fatalf("the byte-wise patterns were exercised too little: %d patterns, %d matches, %d skipped", len(bins), bmatched, bskipped)
	}
	t.Logf("%d byte-wise patterns × %d values: %d matches, %d skipped by the prefilter, none wrongly", len(bins), len(values), bmatched, bskipped)
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
	for _, c := range compiled.rx.all() {
		o := c.op()
		var lits []string
		reg.mu.Lock()
		for lit := range reg.literals {
			if strings.Contains(c.pattern, lit) || len(lits) < 8 && rng.IntN(50) == 0 {
				lits = append(lits, lit)
			}
		}
		reg.mu.Unlock()
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
	for _, c := range compiled.pm.all() {
		for range 200 {
			var b strings.Builder
			for k := rng.IntN(6) + 1; k > 0; k-- {
				switch rng.IntN(3) {
				case 0:
					p := c.phrases[rng.IntN(len(c.phrases))]
					if rng.IntN(2) == 0 {
						p = strings.ToUpper(p)
					}
					b.WriteString(p)
				case 1:
					b.WriteString(pieces[rng.IntN(len(pieces))])
				default:
					b.WriteByte(byte(rng.IntN(256)))
				}
			}
			if !checkPMSound(t, c, b.String()) {
				break
			}
			n++
		}
	}
	for _, c := range compiled.binary.all() {
		for range 200 {
			var b strings.Builder
			for k := rng.IntN(8) + 1; k > 0; k-- {
				if rng.IntN(3) == 0 {
					b.WriteByte(byte(rng.IntN(256)))
				} else {
					b.WriteString(pieces[rng.IntN(len(pieces))])
				}
			}
			if !checkBinarySound(t, c, b.String()) {
				break
			}
			n++
		}
	}
	if len(compiled.rx.all()) < 100 {
		t.Fatalf("only %d patterns compiled; CRS was not loaded through the prefiltered operator", len(compiled.rx.all()))
	}
	t.Logf("%d generated values checked over %d patterns", n, len(compiled.rx.all()))
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
	ops := compiled.rx.all()
	bins := compiled.binary.all()
	pms := compiled.pm.all()
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range ops {
			checkSound(t, c.op(), v)
		}
		for _, c := range bins {
			checkBinarySound(t, c, v)
		}
		for _, c := range pms {
			checkPMSound(t, c, v)
		}
	})
}
