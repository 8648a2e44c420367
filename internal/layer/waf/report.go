package waf

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"pinpoint/internal/verdict"
)

// Caps that keep a denial's evidence readable when a payload trips dozens
// of rules on many variables.
const (
	maxDetailRules = 8
	maxEvidence    = 24
	excerptBytes   = 40
)

// matchedRule is a matched attack rule, copied out of the transaction.
type matchedRule struct {
	id       int
	severity string
	msg      string
	vars     []matchedVar
}

// matchedVar is one variable a rule matched and a redacted excerpt.
type matchedVar struct {
	name    string
	excerpt string
}

// report is what a transaction found, independent of Coraza's types so
// that the transaction can be closed before the verdict is built.
type report struct {
	interrupted bool
	ruleID      int
	status      int
	score       string
	threshold   string
	rules       []matchedRule
}

// newReport copies the interruption and the attack rules behind it. In CRS
// anomaly mode the interruption is rule 949110 ("score reached the
// threshold"); the rules that raised the score are in MatchedRules.
func newReport(tx types.Transaction, it *types.Interruption) report {
	var rep report
	if it != nil {
		rep.interrupted = true
		rep.ruleID = it.RuleID
		rep.status = it.Status
	}
	for _, mr := range tx.MatchedRules() {
		meta := mr.Rule()
		id := meta.ID()
		if !isAttackRule(mr, id) {
			continue
		}
		m := matchedRule{id: id, severity: meta.Severity().String(), msg: mr.Message()}
		for _, md := range mr.MatchedDatas() {
			// Chained rules report the chain's inner variables too
			// (ChainLevel > 0): those are conditions, not the payload.
			if md.ChainLevel() > 0 {
				continue
			}
			name := variableName(md)
			m.vars = append(m.vars, matchedVar{name: name, excerpt: excerpt(name, md.Value())})
		}
		rep.rules = append(rep.rules, m)
	}
	if vs, ok := tx.(withVariables); ok && rep.interrupted {
		tv := vs.Variables().TX()
		rep.score = first(tv.Get("blocking_inbound_anomaly_score"))
		rep.threshold = first(tv.Get("inbound_anomaly_score_threshold"))
	}
	return rep
}

// withVariables is implemented by Coraza's transactions; the public
// Transaction interface does not expose the TX collection.
type withVariables interface {
	Variables() plugintypes.TransactionVariables
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// logged is implemented by Coraza's matched rules; nolog rules (CRS's
// initialisation and bookkeeping) are not findings.
type logged interface{ Log() bool }

// isAttackRule is true for the rules worth naming: logged, and not the
// anomaly evaluation rules that only sum up the others.
func isAttackRule(mr types.MatchedRule, id int) bool {
	if l, ok := mr.(logged); ok && !l.Log() {
		return false
	}
	switch {
	case id == ruleCRSBlocking:
		return false
	case id >= 949000 && id < 950000, id >= 959000 && id < 960000, id >= 980000 && id < 981000:
		return false
	case id >= 900000 && id < 902000:
		return false
	}
	return true
}

// variableName renders a match as SecLang names it (ARGS:q), with header
// names in their canonical form (REQUEST_HEADERS:User-Agent) because
// Coraza stores them lower-cased.
func variableName(md types.MatchData) string {
	col := md.Variable().Name()
	key := md.Key()
	if key == "" {
		return col
	}
	if strings.HasPrefix(col, "REQUEST_HEADERS") {
		key = http.CanonicalHeaderKey(key)
	}
	return col + ":" + key
}

// secretNames are variables whose values are credentials: their excerpt is
// never shown, not even in the trace.
var secretNames = []string{
	"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key",
	"apikey", "api_key", "password", "passwd", "secret", "token", "access_token",
}

// excerpt is a short, redacted view of a matched value for the trace:
// credentials are hidden, long digit runs (card or account numbers) are
// masked, control characters are escaped and the text is cut short.
func excerpt(name, value string) string {
	lname := strings.ToLower(name)
	if strings.HasPrefix(lname, "request_cookies:") {
		return "[redacted]"
	}
	for _, s := range secretNames {
		if strings.HasSuffix(lname, ":"+s) || strings.HasSuffix(lname, "."+s) {
			return "[redacted]"
		}
	}
	var b strings.Builder
	digits := 0
	for i := 0; i < len(value); {
		if b.Len() >= excerptBytes {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(value[i:])
		switch {
		case r >= '0' && r <= '9':
			digits++
			if digits > 4 {
				b.WriteByte('#')
			} else {
				b.WriteRune(r)
			}
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			digits = 0
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[value[i]>>4])
			b.WriteByte(hexDigits[value[i]&0xf])
		default:
			digits = 0
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// category names a CRS rule's family from its id range.
func category(id int) string {
	switch id / 1000 {
	case 911:
		return "method enforcement"
	case 913:
		return "scanner detection"
	case 920:
		return "protocol enforcement"
	case 921:
		return "protocol attack"
	case 922:
		return "multipart attack"
	case 930:
		return "path traversal / local file inclusion"
	case 931:
		return "remote file inclusion"
	case 932:
		return "remote command execution"
	case 933:
		return "PHP injection"
	case 934:
		return "generic attack"
	case 941:
		return "XSS"
	case 942:
		return "SQL injection"
	case 943:
		return "session fixation"
	case 944:
		return "Java attack"
	case 200:
		return "request body"
	}
	return "rule"
}

// primaryRule is the first attack rule behind the block (or the
// interrupting rule itself when no attack rule is known).
func (rep report) primaryRule() string {
	if len(rep.rules) > 0 {
		return itoa(rep.rules[0].id)
	}
	return itoa(rep.ruleID)
}

// detail names rule ids and categories, never the payload or the rule's
// pattern: it is shown to the caller.
func (rep report) detail() string {
	var b strings.Builder
	b.WriteString("matched WAF rules ")
	n := 0
	for i, r := range rep.rules {
		if n == maxDetailRules {
			b.WriteString(", and ")
			b.WriteString(strconv.Itoa(len(rep.rules) - i))
			b.WriteString(" more")
			break
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(itoa(r.id))
		b.WriteByte(' ')
		b.WriteString(category(r.id))
		n++
	}
	if n == 0 {
		b.WriteString(itoa(rep.ruleID))
		b.WriteByte(' ')
		b.WriteString(category(rep.ruleID))
	}
	if rep.score != "" && rep.threshold != "" {
		b.WriteString("; anomaly score ")
		b.WriteString(rep.score)
		b.WriteString(" reached the threshold ")
		b.WriteString(rep.threshold)
	}
	return b.String()
}

// hint suggests the targeted exclusion that would admit a legitimate
// request. The variable name is the caller's own field, not a payload.
func (rep report) hint() string {
	if len(rep.rules) == 0 || len(rep.rules[0].vars) == 0 {
		return ""
	}
	r := rep.rules[0]
	return "If this request is legitimate, ask the API's operator for an exclusion of rule " +
		itoa(r.id) + " for " + r.vars[0].name + " on this route, quoting the request id."
}

// evidence lists each matched rule with its variables and excerpts, for
// the trace only.
func (rep report) evidence() []verdict.Field {
	var ev []verdict.Field
	if rep.score != "" {
		ev = append(ev, verdict.Field{Key: "anomaly_score", Value: rep.score + " (threshold " + rep.threshold + ")"})
	}
	for _, r := range rep.rules {
		head := itoa(r.id) + " " + category(r.id)
		if r.msg != "" {
			head += ": " + r.msg
		}
		if r.severity != "" {
			head += " [" + r.severity + "]"
		}
		if len(r.vars) == 0 {
			ev = append(ev, verdict.Field{Key: "rule", Value: head})
		}
		for _, v := range r.vars {
			if len(ev) >= maxEvidence {
				return append(ev, verdict.Field{Key: "truncated", Value: "more matches not shown"})
			}
			ev = append(ev, verdict.Field{Key: "rule", Value: head + " | " + v.name + " = \"" + v.excerpt + "\""})
		}
	}
	return ev
}

func itoa(i int) string { return strconv.Itoa(i) }

// formatSize renders a byte count the way configs write it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
