package waf

import (
	"fmt"
	"strconv"
	"strings"
)

// Rule ids of the gateway's own SecLang rules (Coraza's recommended
// 200000 range), named so that reports can recognise them.
const (
	ruleBodyProcessorXML   = 200000
	ruleBodyProcessorJSON  = 200001
	ruleBodyError          = 200002
	ruleMultipartStrict    = 200003
	ruleBodyProcessorJSONx = 200006
	// ruleCRSBlocking is CRS's inbound anomaly blocking rule; it is the
	// interruption's rule in anomaly mode, never the attack itself.
	ruleCRSBlocking = 949110
)

// directives renders the SecLang for one engine: Coraza's recommended base
// (request side only), the CRS setup, the route's tuning, the CRS request
// rules, then the exclusions, which must follow the rules they change.
func directives(c Config) string {
	var b strings.Builder
	limit := strconv.FormatInt(int64(c.BodyLimit), 10)
	// The layer checks the body size itself before Coraza sees it, so
	// Coraza's own limit only has to be at least as large; keeping the
	// in-memory limit equal means bodies never go to temporary files.
	fmt.Fprintf(&b, `SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit %[1]s
SecRequestBodyInMemoryLimit %[1]s
SecRequestBodyNoFilesLimit %[1]s
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 1024
SecArgumentsLimit 1000
SecResponseBodyAccess Off
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:%[2]d,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:%[3]d,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" "id:%[4]d,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:%[5]d,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:%[6]d,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.',severity:2"
Include @crs-setup.conf.example
`, limit, ruleBodyProcessorXML, ruleBodyProcessorJSON, ruleBodyProcessorJSONx, ruleBodyError, ruleMultipartStrict)
	// These replace the commented-out examples 900000, 900110 and 900200
	// of crs-setup.conf; REQUEST-901 only sets defaults for unset values.
	fmt.Fprintf(&b, "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d\"\n", c.Paranoia)
	fmt.Fprintf(&b, "SecAction \"id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=4\"\n", c.InboundThreshold)
	fmt.Fprintf(&b, "SecAction \"id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=%s'\"\n", strings.Join(c.AllowedMethods, " "))
	// Only the request rules: this is a request firewall, and the
	// response rule files would cost build time and memory for nothing.
	b.WriteString("Include @owasp_crs/REQUEST-*.conf\n")
	for _, ex := range c.Exclude {
		if ex.Target == "" {
			fmt.Fprintf(&b, "SecRuleRemoveById %d\n", ex.Rule)
		} else {
			fmt.Fprintf(&b, "SecRuleUpdateTargetById %d \"!%s\"\n", ex.Rule, ex.Target)
		}
	}
	return b.String()
}
