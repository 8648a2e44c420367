package probe

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"sync"

	"pinpoint/internal/verdict"
)

// Fingerprint recognises who produced a denial and why, from status,
// headers and body. Most entries are pure data; Match is for the few that
// need logic (rate-limit arithmetic, pinpoint's own problem bodies). Add
// an entry together with a fixture in testdata/fixtures whose "# expect:"
// line names it; a test fails for an entry without one.
type Fingerprint struct {
	ID     string
	Vendor string
	// Cause and Fix are what the diagnosis says; %s-free plain text.
	Cause      string
	Fix        string
	Confidence int
	// Code names the equivalent denial in pinpoint's catalog, so the
	// vocabulary is the same whether pinpoint or someone else denied.
	Code string
	// Status, when set, must contain the response status.
	Status []int
	// Headers must all match: the header is present and, when Pattern is
	// set, its value matches (case-insensitive regexp).
	Headers []HeaderRule
	// Body patterns must all match; AnyBody needs one of its patterns.
	Body    []string
	AnyBody []string
	// Extract pulls quoted evidence (a rule id, a Ray ID) into the report.
	Extract []Extractor
	// Match replaces the data rules when set.
	Match func(*Response) (bool, []string)

	once    sync.Once
	headers []*regexp.Regexp
	body    []*regexp.Regexp
	anyBody []*regexp.Regexp
	extract []*regexp.Regexp
}

// HeaderRule matches one header.
type HeaderRule struct{ Name, Pattern string }

// Extractor captures the first group of Pattern from the body, or from
// the header named in From.
type Extractor struct{ Label, From, Pattern string }

func (f *Fingerprint) compile() {
	f.once.Do(func() {
		c := func(p string) *regexp.Regexp { return regexp.MustCompile("(?is)" + p) }
		for _, h := range f.Headers {
			if h.Pattern == "" {
				f.headers = append(f.headers, nil)
			} else {
				f.headers = append(f.headers, c(h.Pattern))
			}
		}
		for _, p := range f.Body {
			f.body = append(f.body, c(p))
		}
		for _, p := range f.AnyBody {
			f.anyBody = append(f.anyBody, c(p))
		}
		for _, e := range f.Extract {
			f.extract = append(f.extract, c(e.Pattern))
		}
	})
}

// maxMatchBody bounds regexp work on huge bodies; signatures are near the
// top of every error page.
const maxMatchBody = 64 << 10

// matches applies the rules and returns evidence lines.
func (f *Fingerprint) matches(r *Response) (bool, []string) {
	f.compile()
	if len(f.Status) > 0 {
		ok := false
		for _, s := range f.Status {
			ok = ok || s == r.Status
		}
		if !ok {
			return false, nil
		}
	}
	if f.Match != nil {
		return f.Match(r)
	}
	body := r.Body
	if len(body) > maxMatchBody {
		body = body[:maxMatchBody]
	}
	var ev []string
	if len(f.Status) > 0 {
		ev = append(ev, fmt.Sprintf("status %d", r.Status))
	}
	for i, h := range f.Headers {
		vals := r.Header.Values(h.Name)
		if len(vals) == 0 {
			return false, nil
		}
		if f.headers[i] == nil {
			ev = append(ev, h.Name+": "+truncate(maskHeaderValue(h.Name, vals[0]), 80))
			continue
		}
		hit := ""
		for _, v := range vals {
			if f.headers[i].MatchString(v) {
				hit = v
				break
			}
		}
		if hit == "" {
			return false, nil
		}
		ev = append(ev, h.Name+": "+truncate(maskHeaderValue(h.Name, hit), 80))
	}
	for _, re := range f.body {
		m := re.Find(body)
		if m == nil {
			return false, nil
		}
		ev = append(ev, "body: "+quoteSnippet(m))
	}
	if len(f.anyBody) > 0 {
		var hit []byte
		for _, re := range f.anyBody {
			if m := re.Find(body); m != nil {
				hit = m
				break
			}
		}
		if hit == nil {
			return false, nil
		}
		ev = append(ev, "body: "+quoteSnippet(hit))
	}
	for i, e := range f.Extract {
		src := string(body)
		if e.From != "" {
			src = r.Header.Get(e.From)
		}
		if m := f.extract[i].FindStringSubmatch(src); len(m) > 1 && m[1] != "" {
			ev = append(ev, e.Label+": "+truncate(strings.TrimSpace(html.UnescapeString(m[1])), 120))
		}
	}
	return true, ev
}

func quoteSnippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	return fmt.Sprintf("%q", truncate(s, 120))
}

// FingerprintMatch is one catalog hit.
type FingerprintMatch struct {
	Fingerprint *Fingerprint
	Evidence    []string
}

// MatchFingerprints returns the catalog hits for a response, most
// specific (highest confidence) first.
func MatchFingerprints(r *Response) []FingerprintMatch {
	if r == nil {
		return nil
	}
	var out []FingerprintMatch
	for _, f := range Catalog() {
		if ok, ev := f.matches(r); ok {
			out = append(out, FingerprintMatch{Fingerprint: f, Evidence: ev})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Fingerprint.Confidence > out[j].Fingerprint.Confidence })
	return out
}

// Catalog returns the fingerprint table.
func Catalog() []*Fingerprint { return catalog }

// catalogTitle names a pinpoint catalog code for the evidence line.
func catalogTitle(code string) string {
	if e, ok := verdict.Lookup(code); ok {
		return code + " (" + e.Title + ")"
	}
	return code
}

var (
	cfHeaders = []HeaderRule{{Name: "Server", Pattern: "^cloudflare"}}
	rayID     = Extractor{Label: "Cloudflare Ray ID", From: "Cf-Ray", Pattern: "^([0-9a-f]+(?:-[A-Z]{3})?)"}
	rayBody   = Extractor{Label: "Cloudflare Ray ID", Pattern: `Ray ID:?\s*(?:<[^>]+>)*\s*([0-9a-f]{16})`}
)

var catalog = []*Fingerprint{
	// --- CDNs and cloud WAFs -------------------------------------------
	{ID: "cloudflare.1020", Vendor: "Cloudflare", Code: "waf_blocked", Confidence: 92,
		Cause:   "Cloudflare error 1020: a firewall (WAF custom) rule of the site owner blocked the request",
		Fix:     "Only the site owner can change it: send them the Ray ID and time so they can find the rule in Security → Events; meanwhile check what the rule may key on (country, IP, User-Agent, path).",
		AnyBody: []string{`error code:? ?1020`, `Error 1020`}, Extract: []Extractor{rayID, rayBody}},
	{ID: "cloudflare.1015", Vendor: "Cloudflare", Code: "rate_limited", Confidence: 92,
		Cause:   "Cloudflare error 1015: you are being rate limited by the site's rate-limiting rule",
		Fix:     "Slow down and retry later; if the rate is legitimate, ask the site owner to raise the rule's threshold for your traffic.",
		AnyBody: []string{`error code:? ?1015`, `Error 1015`}, Extract: []Extractor{rayID, rayBody}},
	{ID: "cloudflare.1010", Vendor: "Cloudflare", Code: "waf_blocked", Confidence: 90,
		Cause:   "Cloudflare error 1010: the site owner bans your client's browser signature (Browser Integrity Check)",
		Fix:     "Send a real User-Agent; API clients should be exempted by the site owner.",
		AnyBody: []string{`error code:? ?1010`, `Error 1010`}, Extract: []Extractor{rayID, rayBody}},
	{ID: "cloudflare.challenge", Vendor: "Cloudflare", Code: "waf_blocked", Confidence: 88,
		Cause:   "Cloudflare served a challenge (bot protection): a script cannot pass it",
		Fix:     "Ask the site owner to skip the challenge for API paths or your client (a WAF skip rule), or use the documented API host.",
		Headers: []HeaderRule{{Name: "Cf-Mitigated", Pattern: "challenge"}}, Extract: []Extractor{rayID}},
	{ID: "cloudflare.generic", Vendor: "Cloudflare", Code: "waf_blocked", Confidence: 45,
		Cause:  "The response came through Cloudflare; the denial may be Cloudflare's or the origin's",
		Fix:    "Look for an error code (10xx) in the body; without one the origin denied and Cloudflare only forwarded it.",
		Status: []int{401, 403, 429, 503}, Headers: cfHeaders, Extract: []Extractor{rayID}},
	{ID: "aws.apigw.missing_token", Vendor: "AWS API Gateway", Code: "no_route", Confidence: 88,
		Cause:  "API Gateway's \"Missing Authentication Token\": usually the path or method does not exist on the stage, not a token problem",
		Fix:    "Check the URL against the deployed stage (stage name in the path, resource path, method); redeploy the API after adding a method.",
		Status: []int{403}, Body: []string{`"message"\s*:\s*"Missing Authentication Token"`}, Extract: []Extractor{{Label: "x-amzn-RequestId", From: "X-Amzn-Requestid", Pattern: "(.+)"}}},
	{ID: "aws.apigw.explicit_deny", Vendor: "AWS API Gateway", Code: "policy_denied", Confidence: 90,
		Cause:  "An API Gateway authorizer or resource policy denied the caller",
		Fix:    "Check the Lambda authorizer's policy (its Resource must cover this method ARN) or the resource policy's conditions (source IP, VPC endpoint).",
		Status: []int{403}, AnyBody: []string{`not authorized to access this resource with an explicit deny`, `User: anonymous is not authorized`}},
	{ID: "aws.apigw.forbidden", Vendor: "AWS API Gateway", Code: "policy_denied", Confidence: 75,
		Cause:  "AWS API Gateway refused the request (API key, usage plan, authorizer or WAF)",
		Fix:    "Check x-amzn-ErrorType; for ForbiddenException send the x-api-key of a usage plan bound to this stage, and check an attached AWS WAF web ACL.",
		Status: []int{403}, Headers: []HeaderRule{{Name: "X-Amzn-Errortype", Pattern: "Forbidden|AccessDenied"}}, Body: []string{`"message"`}},
	{ID: "aws.sigv4", Vendor: "AWS", Code: "key_malformed", Confidence: 88,
		Cause:   "The AWS endpoint expects a SigV4-signed request (IAM auth) and got another Authorization format",
		Fix:     "Sign the request with SigV4 (an AWS SDK, or curl --aws-sigv4) or switch the method to API-key/Cognito auth.",
		AnyBody: []string{`Invalid key=value pair \(missing equal-sign\) in Authorization header`, `Authorization header requires '[A-Za-z]+' parameter`}},
	{ID: "aws.waf.alb", Vendor: "AWS WAF (ALB)", Code: "waf_blocked", Confidence: 70,
		Cause:  "An AWS Application Load Balancer answered 403 itself: with AWS WAF attached this is the WAF's default block response",
		Fix:    "Ask the owner to look up the request in the web ACL's sampled requests or WAF logs (terminatingRuleId) and add an exception for the false positive.",
		Status: []int{403}, Headers: []HeaderRule{{Name: "Server", Pattern: "^awselb"}}},
	{ID: "aws.cloudfront", Vendor: "AWS CloudFront", Code: "waf_blocked", Confidence: 80,
		Cause:  "CloudFront refused the request (AWS WAF on the distribution, geo restriction, or a method the behavior does not allow)",
		Fix:    "Check the distribution's allowed methods (POST needs GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE), its geo restriction and web ACL; quote the x-amz-cf-id to the owner.",
		Status: []int{403}, Headers: []HeaderRule{{Name: "X-Cache", Pattern: "Error from cloudfront"}}, Body: []string{`The request could not be satisfied`},
		Extract: []Extractor{{Label: "x-amz-cf-id", From: "X-Amz-Cf-Id", Pattern: "(.+)"}}},
	{ID: "akamai.denied", Vendor: "Akamai", Code: "waf_blocked", Confidence: 88,
		Cause: "Akamai's edge denied the request (Kona/App & API Protector rule or edge policy)",
		Fix:   "Send the site owner the Reference number; they can decode it (translate error string) to find the rule.",
		Body:  []string{`Access Denied`, `Reference(?:\s|&#32;)*(?:#|&#35;)`}, Extract: []Extractor{{Label: "Akamai reference", Pattern: `Reference(?:\s|&#32;)*(?:#|&#35;)([0-9a-f.&#;]+)`}}},
	{ID: "imperva.incident", Vendor: "Imperva (Incapsula)", Code: "waf_blocked", Confidence: 90,
		Cause:   "Imperva's WAF blocked the request",
		Fix:     "Give the site owner the incident ID; they can find the rule and add an exception.",
		AnyBody: []string{`Incapsula incident ID`, `_Incapsula_Resource`}, Extract: []Extractor{{Label: "incident ID", Pattern: `incident ID:?\s*([0-9-]+)`}}},
	{ID: "sucuri.blocked", Vendor: "Sucuri", Code: "waf_blocked", Confidence: 90,
		Cause:   "The Sucuri website firewall blocked the request",
		Fix:     "Send the owner the block ID and reason shown; they can whitelist the path or your IP in the Sucuri dashboard.",
		AnyBody: []string{`Sucuri WebSite Firewall`, `cloudproxy@sucuri\.net`}, Extract: []Extractor{{Label: "block reason", Pattern: `Block reason:</td>\s*<td>([^<]+)`}, {Label: "block ID", Pattern: `Block ID:</td>\s*<td>([^<]+)`}}},
	{ID: "f5.asm", Vendor: "F5 BIG-IP ASM / Advanced WAF", Code: "waf_blocked", Confidence: 92,
		Cause: "F5's application firewall rejected the request",
		Fix:   "Send the owner the support ID; it identifies the violation (often an attack signature on a body field or an illegal content type).",
		Body:  []string{`The requested URL was rejected\. Please consult with your administrator`}, Extract: []Extractor{{Label: "support ID", Pattern: `support ID is:?\s*([0-9]+)`}}},
	// --- WAF engines ------------------------------------------------------
	{ID: "modsecurity.page", Vendor: "ModSecurity / Coraza (CRS)", Code: "waf_blocked", Confidence: 88,
		Cause:   "ModSecurity (or Coraza) with the OWASP Core Rule Set blocked the request",
		Fix:     "Find the rule id in the server's error or audit log (pinpoint probe --log) and add a targeted exclusion (SecRuleUpdateTargetById) for the field that false-positives.",
		AnyBody: []string{`ModSecurity`, `Coraza`, `OWASP (CRS|Core Rule Set)`, `Not Acceptable!.*mod_security`}, Extract: []Extractor{{Label: "rule id", Pattern: `\[id "(\d+)"\]`}}},
	// --- web servers --------------------------------------------------------
	{ID: "nginx.forbidden", Vendor: "nginx", Code: "ip_denied", Confidence: 72,
		Cause:  "nginx itself returned 403: a deny/allow rule, auth_request, a directory without index (autoindex off), or a WAF module (ModSecurity) in nginx",
		Fix:    "The error log names which (\"access forbidden by rule\", \"directory index of … is forbidden\", \"ModSecurity: Access denied\"): run with --log /var/log/nginx/error.log.",
		Status: []int{403}, Body: []string{`<center>nginx(/[\d.]+)?</center>`}},
	{ID: "nginx.limit_req", Vendor: "nginx", Code: "rate_limited", Confidence: 70,
		Cause:  "nginx refused the request with its default limit_req status (503) or a 429: request rate limiting",
		Fix:    "Slow down or batch requests; the owner can raise rate/burst of the limit_req zone (the error log says \"limiting requests, excess …\").",
		Status: []int{429, 503}, Body: []string{`<center>nginx(/[\d.]+)?</center>`}},
	{ID: "apache.forbidden", Vendor: "Apache httpd", Code: "ip_denied", Confidence: 72,
		Cause:  "Apache refused access: a Require rule (<Location>, <Directory> or .htaccess), file permissions, or mod_security using Apache's default 403 page",
		Fix:    "The error log decides: AH01630 \"client denied by server configuration\" is a Require rule; \"ModSecurity: Access denied … [id …]\" is the WAF. Run with --log /var/log/apache2/error.log.",
		Status: []int{403}, Body: []string{`You don't have permission to access`}, AnyBody: []string{`<address>Apache`, `<title>403 Forbidden</title>`}, Extract: []Extractor{{Label: "server", Pattern: `<address>([^<]+)</address>`}}},
	{ID: "iis.forbidden", Vendor: "Microsoft IIS", Code: "ip_denied", Confidence: 80,
		Cause:  "IIS refused the request (403.x substatus: IP restriction, SSL required, directory listing denied, or request filtering)",
		Fix:    "Look at the substatus in the IIS log (sc-substatus): 403.6 IP rejected, 403.4 SSL required, 403.14 directory listing; 404.x for request filtering.",
		Status: []int{403}, Headers: []HeaderRule{{Name: "Server", Pattern: "Microsoft-IIS"}}, Extract: []Extractor{{Label: "IIS error", Pattern: `(HTTP Error 403\.\d+[^<]*|403 - Forbidden: [^<]+)`}}},
	{ID: "caddy.forbidden", Vendor: "Caddy", Code: "ip_denied", Confidence: 60,
		Cause:  "Caddy answered the denial itself (a respond/abort directive behind a matcher such as remote_ip, path or method)",
		Fix:    "Check the Caddyfile's matchers for this path; Caddy's access log (log directive) records which route answered.",
		Status: []int{401, 403}, Headers: []HeaderRule{{Name: "Server", Pattern: "^Caddy"}}},
	{ID: "haproxy.deny", Vendor: "HAProxy", Code: "ip_denied", Confidence: 88,
		Cause:  "HAProxy denied the request with an http-request deny ACL (administrative rules)",
		Fix:    "The HAProxy config has an ACL (src, path, method or header) that matches this request; its log line shows the frontend and termination state \"PR--\".",
		Status: []int{403}, Body: []string{`Request forbidden by administrative rules`}},
	// --- frameworks ----------------------------------------------------------
	{ID: "django.csrf", Vendor: "Django", Code: "csrf_token_missing", Confidence: 95,
		Cause:  "Django's CSRF protection refused the request",
		Fix:    "Send the csrftoken cookie and its value in X-CSRFToken (or csrfmiddlewaretoken); for cross-origin front ends add the origin to CSRF_TRUSTED_ORIGINS; API views using token auth should be csrf_exempt (DRF does this for non-session auth).",
		Status: []int{403}, Body: []string{`CSRF verification failed`}, Extract: []Extractor{{Label: "reason", Pattern: `<p>Reason given for the failure:</p>\s*<pre>\s*([^<]+?)\s*</pre>`},
			// Without DEBUG Django gives no reason, but the explanation
			// text differs for the cookie and the Referer cases.
			{Label: "reason", Pattern: `this site (requires a CSRF cookie)`}, {Label: "reason", Pattern: `this HTTPS site (requires a .Referer header.)`}}},
	{ID: "drf.csrf", Vendor: "Django REST framework", Code: "csrf_token_missing", Confidence: 93,
		Cause:  "Django REST framework's SessionAuthentication enforced CSRF because the request is authenticated by the session cookie",
		Fix:    "Send X-CSRFToken with the csrftoken cookie value, or authenticate with a token instead of the session cookie.",
		Status: []int{403}, Body: []string{`"detail"\s*:\s*"CSRF Failed: ([^"]+)"`}},
	{ID: "rails.csrf", Vendor: "Ruby on Rails", Code: "csrf_token_invalid", Confidence: 92,
		Cause:  "Rails' protect_from_forgery raised ActionController::InvalidAuthenticityToken",
		Fix:    "Send the csrf-token meta tag's value in X-CSRF-Token (or authenticity_token) from the same session; for a JSON API use protect_from_forgery with: :null_session or token auth.",
		Status: []int{422, 403}, AnyBody: []string{`InvalidAuthenticityToken`, `The change you wanted was rejected`, `Can't verify CSRF token authenticity`}},
	{ID: "laravel.419", Vendor: "Laravel", Code: "csrf_token_invalid", Confidence: 90,
		Cause:  "Laravel answered 419 Page Expired: the CSRF token is missing or from an expired session",
		Fix:    "Include @csrf in forms or X-CSRF-TOKEN/X-XSRF-TOKEN in AJAX calls; reload the page if the session expired; exclude API routes in VerifyCsrfToken::$except if they use token auth.",
		Status: []int{419}},
	{ID: "spring.forbidden", Vendor: "Spring Boot / Spring Security", Code: "csrf_token_missing", Confidence: 70,
		Cause:  "Spring Boot's error body for a 403: with Spring Security this is usually the CSRF filter (on by default for POST) or an authorization rule",
		Fix:    "Send the CSRF token (X-XSRF-TOKEN with CookieCsrfTokenRepository, or X-CSRF-TOKEN) or disable CSRF for stateless token-authenticated APIs; otherwise check hasRole/hasAuthority for the path.",
		Status: []int{403}, Body: []string{`"error"\s*:\s*"Forbidden"`, `"path"\s*:`, `"timestamp"\s*:`}, Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}}},
	{ID: "express.csurf", Vendor: "Express (csurf / csrf-csrf)", Code: "csrf_token_invalid", Confidence: 90,
		Cause:   "Express CSRF middleware rejected the token (EBADCSRFTOKEN)",
		Fix:     "Send the token from req.csrfToken() in CSRF-Token/X-CSRF-Token (or _csrf) along with the _csrf cookie of the same session.",
		AnyBody: []string{`invalid csrf token`, `EBADCSRFTOKEN`, `ForbiddenError: invalid csrf`}},
	{ID: "aspnet.antiforgery", Vendor: "ASP.NET Core", Code: "csrf_token_missing", Confidence: 90,
		Cause:   "ASP.NET Core antiforgery validation failed",
		Fix:     "Send both the .AspNetCore.Antiforgery cookie and the RequestVerificationToken header (or __RequestVerificationToken field) from the same page load.",
		AnyBody: []string{`antiforgery (cookie|token)`, `AntiforgeryValidationException`, `__RequestVerificationToken`}, Extract: []Extractor{{Label: "message", Pattern: `(The required antiforgery [^.<"]+)`}}},
	// --- API gateways ----------------------------------------------------------
	{ID: "kong.acl", Vendor: "Kong", Code: "policy_denied", Confidence: 92,
		Cause:  "Kong's ACL plugin: your consumer is not in an allowed group for this service",
		Fix:    "Ask the Kong admin to add your consumer to an allowed ACL group of the route/service.",
		Status: []int{403}, Body: []string{`You cannot consume this service`}},
	{ID: "kong.ip", Vendor: "Kong / APISIX", Code: "ip_not_allowed", Confidence: 88,
		Cause:  "The gateway's ip-restriction plugin refused your address",
		Fix:    "Call from an allowed network or ask the admin to allow your egress IP; behind a proxy check that the gateway trusts X-Forwarded-For.",
		Status: []int{403}, AnyBody: []string{`IP address not allowed`, `Your IP address is not allowed`}},
	{ID: "kong.key", Vendor: "Kong", Code: "credentials_missing", Confidence: 85,
		Cause:  "Kong's key-auth plugin found no or an invalid API key",
		Fix:    "Send the key in the header the plugin is configured for (default apikey) or as ?apikey=.",
		Status: []int{401}, AnyBody: []string{`No API key found in request`, `Invalid authentication credentials`}, Headers: []HeaderRule{{Name: "Server", Pattern: "kong"}}},
	{ID: "kong.ratelimit", Vendor: "Kong", Code: "rate_limited", Confidence: 88,
		Cause:  "Kong's rate-limiting plugin: the limit for your consumer/IP is used up",
		Fix:    "Wait for the window (RateLimit-Reset / Retry-After) or ask for a higher limit.",
		Status: []int{429}, Body: []string{`API rate limit exceeded`}, Headers: []HeaderRule{{Name: "Server", Pattern: "kong"}}},
	{ID: "kong.generic", Vendor: "Kong", Code: "policy_denied", Confidence: 55,
		Cause:  "Kong answered the request itself (X-Kong-Response-Latency without upstream latency): a plugin denied it",
		Fix:    "The body's message names the plugin; check the route's plugins (key-auth, acl, ip-restriction, bot-detection).",
		Status: []int{401, 403, 429}, Headers: []HeaderRule{{Name: "X-Kong-Response-Latency"}}, Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}}},
	{ID: "apisix.denied", Vendor: "Apache APISIX", Code: "policy_denied", Confidence: 80,
		Cause:  "Apache APISIX answered the denial itself (a plugin: key-auth, consumer-restriction, ip-restriction, limit-*)",
		Fix:    "The message names the plugin's reason; check the route's plugins in APISIX.",
		Status: []int{401, 403, 429, 503}, Headers: []HeaderRule{{Name: "Server", Pattern: "APISIX"}}, Extract: []Extractor{{Label: "message", Pattern: `"(?:message|error_msg)"\s*:\s*"([^"]+)"`}}},
	{ID: "tyk.denied", Vendor: "Tyk", Code: "policy_denied", Confidence: 85,
		Cause:   "The Tyk gateway refused the key or its access rights",
		Fix:     "Check the key's policy: access rights must include this API and version, and the key must not be expired or over quota.",
		AnyBody: []string{`"error"\s*:\s*"(Authorization field missing|Access to this API has been disallowed|Key not authorised|Attempted access to disallowed version / path|Key has expired, please renew|Quota exceeded)`}},
	{ID: "krakend.denied", Vendor: "KrakenD", Code: "policy_denied", Confidence: 70,
		Cause:  "The KrakenD gateway refused the request (JWT validation, rate limit or a backend error it hides as a status)",
		Fix:    "KrakenD hides backend errors by default; its logs say whether jose validation (roles, aud, iss) or a limiter failed.",
		Status: []int{401, 403, 429, 500}, Headers: []HeaderRule{{Name: "X-Krakend"}}},
	{ID: "apinto.denied", Vendor: "Apinto", Code: "policy_denied", Confidence: 65,
		Cause:  "The Apinto gateway answered the denial (an auth, ACL or rate-limit strategy)",
		Fix:    "Check the service's strategies (visit/ACL, flow control) and the app's credentials in the Apinto console.",
		Status: []int{401, 403, 429}, Headers: []HeaderRule{{Name: "Server", Pattern: "apinto"}}},
	{ID: "envoy.rbac", Vendor: "Envoy / Istio", Code: "policy_denied", Confidence: 93,
		Cause:  "Envoy's RBAC filter (an Istio AuthorizationPolicy) denied the request",
		Fix:    "Check the AuthorizationPolicy for this workload: principals (mTLS identity), request.auth claims, paths and methods must allow this request.",
		Status: []int{403}, Body: []string{`RBAC: access denied`}},
	{ID: "envoy.extauthz", Vendor: "Envoy", Code: "policy_denied", Confidence: 55,
		Cause:  "Envoy answered 403 without a body: typically the ext_authz filter (an external authorizer such as OPA) denied the request",
		Fix:    "Check the external authorizer's decision log for this request id (x-request-id).",
		Status: []int{403}, Match: matchEnvoyEmpty},
	// --- storage -----------------------------------------------------------------
	{ID: "s3.signature", Vendor: "S3-compatible storage", Code: "token_bad_signature", Confidence: 95,
		Cause: "SignatureDoesNotMatch: the request was changed after signing or signed with the wrong secret",
		Fix:   "Sign exactly what you send: same method, path encoding, query, headers (Content-Type!) and secret key; with a presigned URL do not add headers it was not signed with.",
		Body:  []string{`<Code>SignatureDoesNotMatch</Code>`}, Extract: []Extractor{{Label: "request id", Pattern: `<RequestId>([^<]+)</RequestId>`}}},
	{ID: "s3.skew", Vendor: "S3-compatible storage", Code: "token_not_yet_valid", Confidence: 95,
		Cause: "RequestTimeTooSkewed: your clock differs from the server's by more than 15 minutes",
		Fix:   "Sync the client clock (NTP); the body shows both times.",
		Body:  []string{`<Code>RequestTimeTooSkewed</Code>`}, Extract: []Extractor{{Label: "server time", Pattern: `<ServerTime>([^<]+)</ServerTime>`}, {Label: "request time", Pattern: `<RequestTime>([^<]+)</RequestTime>`}}},
	{ID: "s3.access_denied", Vendor: "S3-compatible storage", Code: "policy_denied", Confidence: 85,
		Cause: "AccessDenied from object storage: an IAM, bucket policy or ACL refusal (or a presigned URL that expired)",
		Fix:   "Check the bucket policy and the caller's IAM policy for this action (s3:PutObject for POST/PUT); for presigned URLs check X-Amz-Expires and the signing identity.",
		Body:  []string{`<Code>AccessDenied</Code>`}, Extract: []Extractor{{Label: "message", Pattern: `<Message>([^<]+)</Message>`}}},
	{ID: "gcs.access_denied", Vendor: "Google Cloud Storage", Code: "policy_denied", Confidence: 88,
		Cause:   "Google Cloud Storage refused the caller: the service account lacks the storage permission",
		Fix:     "Grant the named permission (e.g. roles/storage.objectCreator for storage.objects.create) on the bucket to the identity in the message.",
		AnyBody: []string{`does not have storage\.[a-z.]+ access`, `<Code>AccessDenied</Code>.*<Details>`}, Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}}},
	// --- public APIs -----------------------------------------------------------
	{ID: "github.api", Vendor: "GitHub API", Code: "missing_scope", Confidence: 88,
		Cause:  "GitHub's API refused the token for this resource",
		Fix:    "Compare X-Accepted-GitHub-Permissions / X-Accepted-OAuth-Scopes with the token's X-OAuth-Scopes; fine-grained tokens need the repository selected and the permission granted.",
		Status: []int{401, 403, 404, 422}, Headers: []HeaderRule{{Name: "X-Github-Request-Id"}}, Body: []string{`"documentation_url"`},
		Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}, {Label: "accepted permissions", From: "X-Accepted-Github-Permissions", Pattern: "(.+)"}, {Label: "token scopes", From: "X-Oauth-Scopes", Pattern: "(.*)"}}},
	{ID: "stripe.api", Vendor: "Stripe API", Code: "missing_scope", Confidence: 88,
		Cause:   "Stripe refused the API key for this request",
		Fix:     "A restricted key (rk_) needs the permission for this resource; check test vs live mode of key and object; the Request-Id finds it in the Dashboard logs.",
		Headers: []HeaderRule{{Name: "Request-Id", Pattern: "^req_"}}, Body: []string{`"error"\s*:\s*\{`},
		Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}, {Label: "request id", From: "Request-Id", Pattern: "(.+)"}}},
	{ID: "openai.style", Vendor: "OpenAI-style API", Code: "credentials_missing", Confidence: 75,
		Cause: "An OpenAI-style API error (error.type / error.code)",
		Fix:   "invalid_api_key: use a valid key for this organization/project; insufficient_quota: add credit; model_not_found/permission: use a model your key may access.",
		Body:  []string{`"error"\s*:\s*\{[^}]*"type"\s*:\s*"[a-z_]+"`}, AnyBody: []string{`"code"\s*:\s*"(invalid_api_key|insufficient_quota|model_not_found|unsupported_country_region_territory|rate_limit_exceeded)"`, `"type"\s*:\s*"(invalid_request_error|authentication_error|permission_error|rate_limit_error)"`},
		Extract: []Extractor{{Label: "message", Pattern: `"message"\s*:\s*"([^"]+)"`}, {Label: "code", Pattern: `"code"\s*:\s*"([^"]+)"`}}},
	// --- rate limits and pinpoint ------------------------------------------------
	{ID: "ratelimit.headers", Vendor: "rate limiter", Code: "rate_limited", Confidence: 85,
		Cause: "Rate limited: the response's rate-limit headers say the allowance is used up",
		Fix:   "Wait until the reset (Retry-After / RateLimit reset) and slow down; ask for a higher limit if the rate is legitimate.",
		Match: matchRateLimit},
	{ID: "pinpoint.problem", Vendor: "pinpoint gateway", Confidence: 97,
		Cause: "A pinpoint gateway denied the request and explained why",
		Fix:   "Follow the hint; pinpoint explain <request id> on the gateway tells the full story.",
		Match: matchPinpoint},
}
