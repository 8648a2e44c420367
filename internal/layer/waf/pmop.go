package waf

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"unsafe"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// The phrase operators (@pm, @pmFromFile and its alias @pmf) are replaced
// like @rx: the same matcher as Coraza's (Aho-Corasick, leftmost-longest,
// ASCII case-insensitive, up to ten captures), behind a prefilter. The
// phrases form one clause of the shared literal scan, so a value that
// holds none of them (cut to maxLiteral bytes) is answered by a bit test
// on the scan the @rx rules already made, instead of a run of the matcher.
func init() {
	plugins.RegisterOperator("pm", newPM)
	plugins.RegisterOperator("pmFromFile", newPMFromFile)
	plugins.RegisterOperator("pmf", newPMFromFile)
}

// pmCompiled is one phrase list's matcher and clause, memoized like
// Coraza memoizes its matcher.
type pmCompiled struct {
	phrases []string
	matcher ahocorasick.AhoCorasick
	minLen  int
	// clause is the phrase list's clause id in reg; -1 when a phrase is
	// empty (it matches everywhere).
	clause int32
}

type pmOp struct{ c *pmCompiled }

// newPM splits the argument on spaces, as Coraza does.
func newPM(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := strings.ToLower(options.Arguments)
	return newPMOp(options, "pinpoint-pm:"+data, func() ([]string, error) {
		return strings.Split(data, " "), nil
	})
}

// newPMFromFile reads one phrase a line, skipping blank lines and
// comments, from the file found as Coraza finds it.
func newPMFromFile(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	file := options.Arguments
	return newPMOp(options, "pinpoint-pmf:"+strings.Join(options.Path, ",")+file, func() ([]string, error) {
		data, err := loadPhraseFile(file, options.Path, options.Root)
		if err != nil {
			return nil, err
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || l[0] == '#' {
				continue
			}
			lines = append(lines, strings.ToLower(l))
		}
		return lines, nil
	})
}

func newPMOp(options plugintypes.OperatorOptions, key string, phrases func() ([]string, error)) (plugintypes.Operator, error) {
	build := func() (any, error) {
		ps, err := phrases()
		if err != nil {
			return nil, err
		}
		c := &pmCompiled{phrases: ps, clause: -1, minLen: minPhraseLen(ps)}
		b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
			AsciiCaseInsensitive: true,
			MatchKind:            ahocorasick.LeftMostLongestMatch,
			DFA:                  true,
		})
		c.matcher = b.Build(ps)
		if c.minLen > 0 {
			c.clause = reg.register(dedupeClauses([][]string{ps}), &plainMode)[0]
		}
		compiled.pm.add(c)
		return c, nil
	}
	var v any
	var err error
	if options.Memoizer != nil {
		v, err = options.Memoizer.Do(key, build)
	} else {
		v, err = build()
	}
	if err != nil {
		return nil, err
	}
	return &pmOp{c: v.(*pmCompiled)}, nil
}

// mayMatch is false only when value is shorter than every phrase or holds
// none of them. c is the transaction's scan cache, or nil.
func (o *pmOp) mayMatch(c *txScans, value string) bool {
	if o.screened(value) {
		return true
	}
	return len(value) >= o.c.minLen && o.hasClause(clauseBitsOf(c, value))
}

// screened reports that the length test and the clause test (when the
// prefilter applies) are all there is to the prefilter: true when value
// may match without looking at its clause bits.
func (o *pmOp) screened(value string) bool {
	return len(value) >= o.c.minLen && (prefilterOff || o.c.clause < 0)
}

func (o *pmOp) hasClause(bits []uint64) bool {
	id := o.c.clause
	return bits[id>>6]&(1<<(id&63)) != 0
}

// Evaluate reports whether a phrase occurs in value; when capturing, it
// records up to ten leftmost-longest matches as Coraza does.
func (o *pmOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if len(value) < o.c.minLen {
		return false
	}
	if !o.screened(value) && !o.hasClause(clauseBitsIn(tx, value)) {
		return false
	}
	// The matcher only reads its input.
	iter := o.c.matcher.IterByte(unsafe.Slice(unsafe.StringData(value), len(value)))
	if !tx.Capturing() {
		return iter.Next() != nil
	}
	n := 0
	for m := iter.Next(); m != nil; m = iter.Next() {
		tx.CaptureField(n, value[m.Start():m.End()])
		n++
		if n == 10 {
			return true
		}
	}
	return n > 0
}

// minPhraseLen is the length of the shortest phrase, 0 when one is empty.
func minPhraseLen(ps []string) int {
	m := 0
	for _, p := range ps {
		if p == "" {
			return 0
		}
		if m == 0 || len(p) < m {
			m = len(p)
		}
	}
	return m
}

var errNoDataDirs = errors.New("no directory to look for the data file in")

// loadPhraseFile reads file from root: as is when absolute, otherwise from
// the first of dirs that has it (CRS keeps its .data files next to the
// rules).
func loadPhraseFile(file string, dirs []string, root fs.FS) ([]byte, error) {
	if path.IsAbs(file) {
		return fs.ReadFile(root, file)
	}
	if len(dirs) == 0 {
		return nil, errNoDataDirs
	}
	var err error
	for _, d := range dirs {
		var data []byte
		data, err = fs.ReadFile(root, path.Join(d, file))
		if err == nil {
			return data, nil
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
	}
	return nil, err
}
