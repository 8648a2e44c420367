package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// LogHit is one log line that concerns the request.
type LogHit struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Kind string `json:"kind"`
	Text string `json:"text"`
	Rule string `json:"rule,omitempty"`
	Msg  string `json:"msg,omitempty"`
	// Weight orders hits: the line that decided (a WAF's "Access denied")
	// outranks the ones that only record (an access log line).
	Weight int `json:"-"`
}

type logPattern struct {
	kind   string
	weight int
	re     *regexp.Regexp
}

// logPatterns recognise the deciding lines of the servers we fingerprint.
var logPatterns = []logPattern{
	// Error logs prefix "ModSecurity:"/"Coraza:"; audit logs' H section
	// has "Message:" lines instead.
	{"modsecurity", 100, regexp.MustCompile(`(?:ModSecurity: |Coraza: |^Message: )Access denied with (?:code|connection close)`)},
	{"modsecurity_warning", 40, regexp.MustCompile(`(?:ModSecurity: |Coraza: |^Message: )Warning\.`)},
	{"nginx_deny", 95, regexp.MustCompile(`access forbidden by rule`)},
	{"nginx_limit_req", 95, regexp.MustCompile(`limiting requests, excess: [\d.]+ by zone "([^"]+)"`)},
	{"nginx_autoindex", 95, regexp.MustCompile(`directory index of "[^"]*" is forbidden`)},
	{"nginx_body_too_large", 90, regexp.MustCompile(`client intended to send too large body`)},
	{"apache_require", 95, regexp.MustCompile(`AH01630: client denied by server configuration|AH01797: client denied by server configuration`)},
	{"apache_htaccess", 90, regexp.MustCompile(`\.htaccess`)},
	{"apache_directory", 90, regexp.MustCompile(`AH01276: Cannot serve directory`)},
	{"apache_auth", 90, regexp.MustCompile(`AH0161[78]: user .*(not found|authentication failure)`)},
	{"django_csrf", 95, regexp.MustCompile(`Forbidden \((CSRF[^)]*|Origin checking failed[^)]*|Referer checking failed[^)]*)\): (\S+)`)},
	{"access", 10, regexp.MustCompile(`"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) `)},
}

var (
	reRuleID = regexp.MustCompile(`\[id "(\d+)"\]`)
	reMsg    = regexp.MustCompile(`\[msg "([^"]*)"\]`)
	reAudit  = regexp.MustCompile(`^--([0-9a-zA-Z]+)-([A-Z])--$`)
)

// maxLogLine bounds one line; audit logs can hold whole bodies.
const maxLogLine = 1 << 20

// MatchLog scans one log for lines about the request: those naming its
// path (URL path; Apache names the file path, which ends with it), and
// ModSecurity audit-log transactions whose request line names it.
func MatchLog(file string, data []byte, method, path string) []LogHit {
	var hits []LogHit
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	n := 0
	// Audit-log state: the current transaction's request line and
	// messages.
	var section string
	var reqLine string
	var auditMsgs []LogHit
	flushAudit := func() {
		if reqLine != "" && strings.Contains(reqLine, " "+path) {
			hits = append(hits, auditMsgs...)
		}
		reqLine, auditMsgs = "", nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if m := reAudit.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			if m[2] == "A" {
				flushAudit()
			}
			section = m[2]
			continue
		}
		if section == "B" && reqLine == "" && strings.TrimSpace(line) != "" {
			reqLine = line
			continue
		}
		if section == "H" && strings.HasPrefix(line, "Message: ") {
			if h, ok := classify(file, n, line); ok {
				h.Kind += "_audit"
				auditMsgs = append(auditMsgs, h)
			}
			continue
		}
		if section != "" && section != "Z" {
			continue
		}
		if path != "" && !strings.Contains(line, path) {
			continue
		}
		if h, ok := classify(file, n, line); ok {
			if h.Kind == "access" && method != "" && !strings.Contains(line, `"`+method+" ") {
				continue
			}
			hits = append(hits, h)
		}
	}
	flushAudit()
	return hits
}

func classify(file string, n int, line string) (LogHit, bool) {
	for _, p := range logPatterns {
		if p.re.MatchString(line) {
			h := LogHit{File: file, Line: n, Kind: p.kind, Text: truncate(strings.TrimSpace(line), 400), Weight: p.weight}
			if m := reRuleID.FindStringSubmatch(line); m != nil {
				h.Rule = m[1]
			}
			if m := reMsg.FindStringSubmatch(line); m != nil {
				h.Msg = m[1]
			}
			if p.kind == "django_csrf" {
				h.Msg = p.re.FindStringSubmatch(line)[1]
			}
			return h, true
		}
	}
	return LogHit{}, false
}

// analyseLogs turns the deciding log line into a finding that quotes it.
func analyseLogs(c *collector, hits []LogHit, files []string, path string) {
	if len(files) == 0 {
		c.step(PhaseLogs, "server logs", Skip, "none given (--log FILE)")
		return
	}
	if len(hits) == 0 {
		c.step(PhaseLogs, "server logs", Warn, "no line mentions "+path+": the request may not have reached this server (a CDN, WAF or proxy in front answered), or the log is another server's")
		return
	}
	// The deciding hit: highest weight, latest line among equals (the
	// user's attempt is usually the newest).
	best := hits[0]
	for _, h := range hits[1:] {
		if h.Weight > best.Weight || (h.Weight == best.Weight && (h.File != best.File || h.Line > best.Line)) {
			best = h
		}
	}
	var rules []string
	firstMatch := LogHit{}
	for _, h := range hits {
		if strings.HasPrefix(h.Kind, "modsecurity") && h.Rule != "" && !contains(rules, h.Rule) {
			rules = append(rules, h.Rule)
			if !crsTotals[h.Rule] && !strings.HasPrefix(h.Rule, "920") && firstMatch.Rule == "" {
				firstMatch = h
			}
		}
	}
	quote := fmt.Sprintf("%s:%d: %s", best.File, best.Line, best.Text)
	c.step(PhaseLogs, "server logs", Pass, fmt.Sprintf("%d related line(s); deciding: %s", len(hits), quote))
	switch strings.TrimSuffix(best.Kind, "_audit") {
	case "modsecurity":
		title := "ModSecurity/CRS denied the request"
		if crsTotals[best.Rule] && firstMatch.Rule != "" {
			// The deciding line of CRS is the anomaly total; the rule
			// that matched the input is what the user can act on.
			title += " (anomaly score exceeded; first attack rule " + firstMatch.Rule + ": " + firstMatch.Msg + ")"
		} else if best.Rule != "" {
			title += " (rule " + best.Rule
			if best.Msg != "" {
				title += ": " + best.Msg
			}
			title += ")"
		}
		ev := []string{quote}
		if len(rules) > 1 {
			ev = append(ev, "rules involved: "+strings.Join(rules, ", ")+" (949110/980130 are CRS's anomaly-score totals; the others are what matched)")
		}
		c.find(Finding{ID: "log.modsecurity", Title: title, Confidence: 97, Phase: PhaseLogs, Evidence: ev,
			Fix: "Add a targeted exclusion for the matching rule and field (SecRuleUpdateTargetById <id> \"!ARGS:<field>\" or a CRS exclusion plugin), or change the input that looks like an attack."})
		c.boost("modsecurity.", 97, "confirmed by the server log")
		c.boost("waf.", 97, "confirmed by the server log")
	case "nginx_deny":
		c.find(Finding{ID: "log.nginx_deny", Title: "An nginx allow/deny rule refused your address", Confidence: 97, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: "Add your client address to the location's allow list (or remove the deny); behind a proxy set real_ip_header/set_real_ip_from so nginx sees the client's address."})
	case "nginx_limit_req":
		c.find(Finding{ID: "log.nginx_limit_req", Title: "nginx limit_req rejected the request (rate limit)", Confidence: 97, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: "Slow down; the owner can raise rate or burst (and nodelay) of the zone, and set limit_req_status 429 so clients recognise it."})
	case "nginx_autoindex":
		c.find(Finding{ID: "log.nginx_autoindex", Title: "nginx refused a directory without an index file (autoindex off)", Confidence: 95, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: "Request a file, not the directory, or add an index file; a POST to a directory URL usually means the URL is wrong."})
	case "apache_require", "apache_htaccess", "apache_directory":
		c.find(Finding{ID: "log.apache_require", Title: "An Apache access rule (Require / .htaccess) refused the request", Confidence: 96, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: "Find the <Location>/<Directory> or .htaccess with Require for this path and allow the client (Require ip …) or authenticate as required."})
	case "apache_auth":
		c.find(Finding{ID: "log.apache_auth", Title: "Apache authentication failed for the user", Confidence: 95, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: "Check the user name and password (curl -u user:password)."})
	case "django_csrf":
		c.find(Finding{ID: "log.django_csrf", Title: "Django refused the request: " + best.Msg, Confidence: 97, Phase: PhaseLogs, Evidence: []string{quote},
			Fix: djangoReasonFix(best.Msg)})
		c.boost("django.csrf", 97, "confirmed by the server log")
	case "access":
		c.step(PhaseLogs, "access log", Info, "the server logged the request: "+quote)
	}
}

// crsTotals are CRS's scoring rules: they decide, but name no pattern.
var crsTotals = map[string]bool{"949110": true, "959100": true, "980130": true, "980140": true}

func djangoReasonFix(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "cookie not set"):
		return "Get the csrftoken cookie first (GET the page or a view with ensure_csrf_cookie) and send it with the POST."
	case strings.Contains(r, "token missing"), strings.Contains(r, "incorrect"):
		return "Send the csrftoken cookie's value in the X-CSRFToken header or the csrfmiddlewaretoken field."
	case strings.Contains(r, "origin checking failed"):
		return "Add the front end's origin (scheme://host:port) to CSRF_TRUSTED_ORIGINS."
	case strings.Contains(r, "referer"):
		return "On https Django needs a Referer from a trusted origin when Origin is absent: send one, or add the origin to CSRF_TRUSTED_ORIGINS."
	}
	return "Send the CSRF cookie and token together from the same session."
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
