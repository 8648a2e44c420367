package waf

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"rsc.io/binaryregexp"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// The @rx operator is replaced process-wide by one with the same semantics
// as Coraza's (RE2 syntax, "(?sm)" prepended, up to nine captures,
// binaryregexp for patterns that match non-UTF-8 bytes) plus a sound
// literal prefilter: the regex runs only when the value contains, for each
// of the pattern's required clauses, at least one of its literals.
//
// Most CRS @rx evaluations on ordinary text fail, and Go's regexp pays for
// a failed search over the whole value; the prefilter turns most of those
// into a few bit tests on a per-value scan shared by all rules.
func init() {
	plugins.RegisterOperator("rx", newPrefilteredRx)
}

// rxCompiled is everything derived from one pattern, memoized by Coraza
// per WAF so that a pattern used by several rules is analysed once.
type rxCompiled struct {
	pattern string
	re      *regexp.Regexp
	// clauses are clause ids in reg, of both literal modes.
	clauses []int32
	// lineStart, when set, sharpens the prefilter of patterns that may
	// match from the start of a line.
	lineStart *lineStartSplit
	// tail, when set, sharpens the prefilter of patterns that must match
	// up to the end of a line.
	tail *lineEndTail
	// branches, when set, sharpens the prefilter of alternations.
	branches *branchCheck
}

type prefilteredRx struct {
	pattern   string
	re        *regexp.Regexp
	clauses   []int32
	lineStart *lineStartSplit
	tail      *lineEndTail
	branches  *branchCheck
}

// newPrefilteredRx compiles a pattern like Coraza's rx and registers its
// prefilter clauses.
func newPrefilteredRx(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := "(?sm)" + options.Arguments
	if matchesArbitraryBytes(data) {
		return newBinaryRx(options)
	}
	build := func() (any, error) {
		re, err := regexp.Compile(data)
		if err != nil {
			return nil, err
		}
		c := &rxCompiled{pattern: data, re: re}
		for _, m := range []*litMode{&plainMode, &squeezedMode} {
			if cs := requiredClauses(data, m); len(cs) > 0 {
				c.clauses = append(c.clauses, reg.register(cs, m)...)
			}
		}
		c.lineStart = newLineStartSplit(data)
		c.tail = newLineEndTail(data)
		c.branches = newBranchCheck(data)
		compiled.rx.add(c)
		return c, nil
	}
	var v any
	var err error
	if options.Memoizer != nil {
		v, err = options.Memoizer.Do("pinpoint-rx:"+data, build)
	} else {
		v, err = build()
	}
	if err != nil {
		return nil, err
	}
	c := v.(*rxCompiled)
	return c.op(), nil
}

func (c *rxCompiled) op() *prefilteredRx {
	return &prefilteredRx{pattern: c.pattern, re: c.re, clauses: c.clauses, lineStart: c.lineStart, tail: c.tail, branches: c.branches}
}

// mayMatch is the prefilter: false only when some required clause has
// none of its literals in value, so the regex cannot match. c is the
// transaction's scan cache, or nil to scan value afresh.
func (o *prefilteredRx) mayMatch(c *txScans, value string) bool {
	return !o.prefiltered() || o.passes(value, clauseBitsOf(c, value))
}

// prefiltered reports whether the prefilter applies to this pattern.
func (o *prefilteredRx) prefiltered() bool {
	return !prefilterOff && (len(o.clauses) > 0 || o.lineStart != nil || o.tail != nil || o.branches != nil)
}

// passes is the prefilter's answer given value's clause bits.
func (o *prefilteredRx) passes(value string, bits []uint64) bool {
	return allSet(bits, o.clauses) &&
		(o.lineStart == nil || o.lineStart.mayMatch(value, bits)) &&
		(o.tail == nil || o.tail.mayMatch(value)) &&
		(o.branches == nil || o.branches.mayMatch(value))
}

// clauseBitsOf returns the clause bits of value, from the transaction's
// cache c when there is one.
func clauseBitsOf(c *txScans, value string) []uint64 {
	s := reg.scanner()
	if c != nil {
		return c.lookup(s, value)
	}
	bits := make([]uint64, s.words)
	s.clauseBits(value, bits, nil)
	return bits
}

// clauseBitsIn returns the clause bits of value in transaction tx, as
// clauseBitsOf(scansOf(tx), value), with the common case (a value seen
// before at the same address) in line: operators ask this for every
// value of every rule.
func clauseBitsIn(tx any, value string) []uint64 {
	c := scansOf(tx)
	if c == nil {
		return clauseBitsOf(nil, value)
	}
	if s := c.s; s != nil && s.gen == reg.gen.Load() {
		slot := &c.slots[slotOf(value)]
		if slot.off > 0 && unsafe.StringData(slot.value) == unsafe.StringData(value) && len(slot.value) == len(value) {
			return c.bits[slot.off-1 : int(slot.off)-1+s.words]
		}
	}
	return c.lookup(reg.scanner(), value)
}

// compiledList lists what the process compiled of one kind, so that the
// soundness tests can check the prefilter of each. It grows like the
// clause registries: by distinct pattern, not by WAF.
type compiledList[T any] struct {
	mu   sync.Mutex
	list []T
}

func (r *compiledList[T]) add(c T) {
	r.mu.Lock()
	r.list = append(r.list, c)
	r.mu.Unlock()
}

func (r *compiledList[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

// compiledSet holds the registries of regexes, byte-wise patterns and
// phrase lists.
type compiledSet struct {
	rx     compiledList[*rxCompiled]
	binary compiledList[*binaryCompiled]
	pm     compiledList[*pmCompiled]
}

var compiled compiledSet

// prefilterOff makes every regex run, which is Coraza's own behaviour; the
// benchmarks set it (-waf.noprefilter) to measure the prefilter's effect
// under the same machine load.
var prefilterOff bool

// evalHook, when set by a test, sees every value the operator is asked to
// match, before the prefilter.
var evalHook func(c *prefilteredRx, value string)

// Evaluate matches value; with capturing on it records up to nine groups
// exactly as Coraza's rx does.
func (o *prefilteredRx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if evalHook != nil {
		evalHook(o, value)
	}
	if o.prefiltered() && !o.passes(value, clauseBitsIn(tx, value)) {
		return false
	}
	if !tx.Capturing() {
		return o.re.MatchString(value)
	}
	match := o.re.FindStringSubmatchIndex(value)
	if match == nil {
		return false
	}
	for i := 0; i < len(match)/2; i++ {
		if i == 9 {
			return true
		}
		if match[2*i] >= 0 {
			tx.CaptureField(i, value[match[2*i]:match[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// binaryRx matches patterns with non-UTF-8 byte escapes byte-wise, as
// Coraza does; the UTF-8 literal analysis does not apply to them, but a
// value without any byte a match can start with is skipped.
type binaryRx struct{ c *binaryCompiled }

type binaryCompiled struct {
	re       *binaryregexp.Regexp
	first    byteSet
	filtered bool
	// clauses are the pattern's literal requirements, as for text
	// patterns: its ASCII literals match the same bytes byte-wise, and
	// the analysis requires nothing of non-ASCII runes.
	clauses []int32
}

func newBinaryRx(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := options.Arguments
	build := func() (any, error) {
		re, err := binaryregexp.Compile(data)
		if err != nil {
			return nil, err
		}
		c := &binaryCompiled{re: re}
		c.first, c.filtered = binaryPrefilter(data)
		for _, m := range []*litMode{&plainMode, &squeezedMode} {
			if cs := requiredClauses(data, m); len(cs) > 0 {
				c.clauses = append(c.clauses, reg.register(cs, m)...)
			}
		}
		compiled.binary.add(c)
		return c, nil
	}
	var v any
	var err error
	if options.Memoizer != nil {
		v, err = options.Memoizer.Do("pinpoint-binrx:"+data, build)
	} else {
		v, err = build()
	}
	if err != nil {
		return nil, err
	}
	return &binaryRx{c: v.(*binaryCompiled)}, nil
}

// mayMatch is false only when value holds no byte a match can start
// with, or lacks a required literal. c is the transaction's scan cache,
// or nil.
func (o *binaryRx) mayMatch(c *txScans, value string) bool {
	return o.mayMatchBits(value, func() []uint64 { return clauseBitsOf(c, value) })
}

// mayMatchBits is mayMatch, given value's clause bits.
func (o *binaryRx) mayMatchBits(value string, bits func() []uint64) bool {
	if prefilterOff {
		return true
	}
	if o.c.filtered && !o.c.first.containsAny(value) {
		return false
	}
	return len(o.c.clauses) == 0 || allSet(bits(), o.c.clauses)
}

func (o *binaryRx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !o.mayMatchBits(value, func() []uint64 { return clauseBitsIn(tx, value) }) {
		return false
	}
	if !tx.Capturing() {
		return o.c.re.MatchString(value)
	}
	match := o.c.re.FindStringSubmatch(value)
	if len(match) == 0 {
		return false
	}
	for i, c := range match {
		if i == 9 {
			return true
		}
		tx.CaptureField(i, c)
	}
	return true
}

// matchesArbitraryBytes reports whether the pattern's \xNN escapes decode
// to invalid UTF-8, the condition under which Coraza switches to
// binaryregexp (same logic as coraza/internal/operators/rx.go).
func matchesArbitraryBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c != '\\' {
			decoded = append(decoded, c)
			continue
		}
		if i+3 >= len(expr) {
			decoded = append(decoded, expr[i:]...)
			break
		}
		if expr[i+1] != 'x' {
			decoded = append(decoded, expr[i])
			continue
		}
		sub := expr[i:]
		advance := 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub = `\x` + sub[3:end]
				advance = end
			}
		}
		v, mb, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || mb {
			decoded = append(decoded, expr[i])
			continue
		}
		decoded = append(decoded, byte(v))
		i += advance
	}
	return !utf8.Valid(decoded)
}
