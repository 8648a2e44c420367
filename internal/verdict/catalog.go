package verdict

import "sync"

// Entry describes one denial code: the single source for the problem body's
// title and type, the caller's default hint, and docs/denials.md.
type Entry struct {
	Code    string   `json:"code"`
	Layer   string   `json:"layer"`
	Status  int      `json:"status"`
	Title   string   `json:"title"`
	Meaning string   `json:"meaning"`
	Causes  []string `json:"causes"`
	Fix     string   `json:"fix"`
}

// TypePrefix is the path under which the gateway serves one explanation page
// per code; a problem's "type" is TypePrefix+code, resolved against the
// request URL (RFC 9457 allows a relative reference).
const TypePrefix = "/_pinpoint/denials/"

// TypeURI is the problem "type" of a code.
func TypeURI(code string) string { return TypePrefix + code }

// catalog is every code the gateway can answer with. Add a code here first;
// the docs are generated from this table and a test keeps them in step.
var catalog = []Entry{
	// route
	{"no_route", "route", 404, "No route matches this request",
		"No configured route matches the request's host and path.",
		[]string{"A typo in the path (e.g. /v1/order instead of /v1/orders)", "A missing or wrong version prefix", "The Host header names another site served by the gateway"},
		"Check the path and host against the API's documentation; the trace lists the nearest routes."},
	{"method_not_allowed", "route", 405, "Method not allowed on this path",
		"A route matches the path, but not for this HTTP method.",
		[]string{"POST sent to a read-only resource", "PUT used where the API expects PATCH"},
		"Use one of the methods in the Allow header."},
	// request
	{"body_too_large", "request", 413, "Request body too large",
		"The request body is larger than the route allows.",
		[]string{"Uploading a file to a JSON endpoint", "A batch request with too many items"},
		"Send a smaller body or split the request; the detail names the limit."},
	{"unsupported_media_type", "request", 415, "Content type not accepted",
		"The route accepts only certain Content-Type values, and this request's is not one of them.",
		[]string{"JSON sent without Content-Type: application/json", "A form post to a JSON API", "A client library defaulting to text/plain"},
		"Set the Content-Type header to one the route accepts (named in the detail)."},
	{"malformed_body", "request", 400, "Request body is not well-formed",
		"The route declares a JSON body and the body does not parse.",
		[]string{"A trailing comma or a single-quoted string", "A body truncated by the client", "Shell quoting that mangled the JSON"},
		"Fix the JSON at the line and column named in the detail."},
	// ip
	{"ip_denied", "ip", 403, "Client address is on a deny list",
		"The address the gateway saw for the client is inside a denied range.",
		[]string{"A blocked network or country range", "A shared egress address (VPN, NAT) that was blocked for someone else"},
		"Call from another network, or ask the API's operator to review the deny list; quote the request id."},
	{"ip_not_allowed", "ip", 403, "Client address is not on the allow list",
		"The route admits only listed address ranges, and the client's address is not in them.",
		[]string{"Calling from a new office, CI runner or cloud region", "A proxy in front of the gateway that is not configured as trusted, so the gateway sees the proxy's address"},
		"Ask the operator to add the address shown in the detail, or call from an allowed network."},
	{"ip_not_allowed_for_key", "authn", 403, "API key is not allowed from this address",
		"The API key is valid but restricted to certain addresses, and this request came from another one.",
		[]string{"A key used from a developer laptop instead of the server it was issued for", "A changed egress address"},
		"Use the key from an allowed address, or have the key's allowed addresses updated."},
	// cors
	{"cors_origin_not_allowed", "cors", 403, "CORS: origin not allowed",
		"A browser preflight came from an origin the route does not allow.",
		[]string{"A new front-end domain or port not yet listed", "http vs https, or www vs bare domain"},
		"Add the exact origin (scheme, host and port) to the route's CORS origins."},
	{"cors_method_not_allowed", "cors", 403, "CORS: method not allowed",
		"The preflight asked for a method the route's CORS policy does not allow.",
		[]string{"A PUT or DELETE from a page when only GET and POST are allowed"},
		"Add the method to the route's CORS methods, or use an allowed one."},
	{"cors_header_not_allowed", "cors", 403, "CORS: header not allowed",
		"The preflight asked to send a request header the route's CORS policy does not allow.",
		[]string{"A custom header such as X-Api-Key or X-Requested-With sent from a page"},
		"Add the header to the route's CORS headers, or stop sending it."},
	// csrf
	{"csrf_origin_mismatch", "csrf", 403, "CSRF: cross-site request refused",
		"A state-changing request came from an origin that is not trusted for this route.",
		[]string{"A form on another site posting to this API", "A front end on a new domain not yet listed as trusted", "A page served over http posting to https"},
		"Add the origin to the route's trusted origins, or send the request from a trusted origin."},
	{"csrf_token_missing", "csrf", 403, "CSRF: token missing",
		"The route requires a CSRF token with state-changing requests, and none was sent.",
		[]string{"The front end does not copy the token cookie into the header", "A form without the hidden token field"},
		"Send the token from the CSRF cookie in the header or form field named in the detail."},
	{"csrf_token_invalid", "csrf", 403, "CSRF: token invalid",
		"A CSRF token was sent but is expired, bound to another session, or altered.",
		[]string{"A page left open past the token's lifetime", "Logging in again changed the session", "The token was truncated or changed"},
		"Reload the page to get a fresh token; the detail says which check failed."},
	// waf
	{"waf_blocked", "waf", 403, "Blocked by the web application firewall",
		"The request matched attack-detection rules (OWASP Core Rule Set) and its anomaly score reached the blocking threshold.",
		[]string{"A real attack payload", "A false positive: text that looks like SQL, script or a file path in a legitimate field"},
		"If the request is legitimate, give the request id and rule ids to the API's operator so they can add a targeted exclusion."},
	{"waf_error", "waf", 500, "Web application firewall failed",
		"The firewall could not inspect the request. The gateway fails closed rather than letting an uninspected request through.",
		[]string{"An internal error while processing the request body"},
		"Retry; if it persists, report the request id to the operator."},
	// authn
	{"credentials_missing", "authn", 401, "Credentials missing",
		"The route requires authentication and the request carried no credential where the route looks for one.",
		[]string{"The API key header name is misspelled", "A proxy or client stripped the Authorization header", "The key was sent as a query parameter where a header is expected"},
		"Send the credential in the place named in the WWW-Authenticate header and detail."},
	{"key_malformed", "authn", 401, "API key malformed",
		"The credential does not have the shape of a key issued by this gateway.",
		[]string{"A truncated copy", "Quotes, whitespace or a newline pasted with the key", "A key from another system"},
		"Copy the key again exactly as issued (it starts with pp_)."},
	{"key_unknown", "authn", 401, "API key not found",
		"The key's id is not known to the gateway.",
		[]string{"A typo in the key", "A key from another environment (staging vs production)", "A deleted key"},
		"Check the key id (the part after pp_) against the key you were issued."},
	{"key_revoked", "authn", 401, "API key revoked",
		"The key was revoked by an administrator.",
		[]string{"The key was reported leaked", "The application was decommissioned"},
		"Create or request a new key."},
	{"key_expired", "authn", 401, "API key expired",
		"The key's validity ended; the detail says when.",
		[]string{"A key with a fixed lifetime", "The grace period of a rotated key ended"},
		"Switch to the key that replaced it, or request a new one."},
	{"token_malformed", "authn", 401, "Bearer token malformed",
		"The bearer token is not a well-formed JWT, or uses an algorithm the route does not allow.",
		[]string{"An opaque token sent to a JWT route", "A token cut short by copy and paste", "alg none or an HMAC token where RSA/ECDSA is expected"},
		"Send a JWT from the identity provider the route trusts."},
	{"token_bad_signature", "authn", 401, "Bearer token signature invalid",
		"The token's signature does not verify with the issuer's keys.",
		[]string{"A token from another environment or issuer", "A token that was edited", "The issuer rotated keys and the token's kid is unknown"},
		"Get a fresh token from the trusted issuer."},
	{"token_expired", "authn", 401, "Bearer token expired",
		"The token's exp time has passed (allowing for the configured leeway).",
		[]string{"A cached token not refreshed", "Clock skew on the client"},
		"Refresh the token and retry."},
	{"token_not_yet_valid", "authn", 401, "Bearer token not yet valid",
		"The token's nbf (or iat) time is in the future.",
		[]string{"Clock skew between issuer and gateway", "A token issued for later use"},
		"Check the issuer's clock, or wait until the token becomes valid."},
	{"token_wrong_issuer", "authn", 401, "Bearer token from an untrusted issuer",
		"The token's iss claim is not an issuer the route trusts.",
		[]string{"A token from the staging identity provider used in production", "A different tenant of the same provider"},
		"Get a token from the issuer named in the detail."},
	{"token_wrong_audience", "authn", 401, "Bearer token for another audience",
		"The token's aud claim does not include this API.",
		[]string{"A token requested for another API", "A missing audience parameter when requesting the token"},
		"Request a token with the audience named in the detail."},
	{"token_inactive", "authn", 401, "Bearer token not active",
		"The authorization server's introspection says the token is not active.",
		[]string{"The token was revoked", "The token expired at the authorization server"},
		"Obtain a new token."},
	{"basic_auth_failed", "authn", 401, "Username or password wrong",
		"Basic authentication failed: the user is unknown or the password does not match.",
		[]string{"A wrong password", "Credentials not base64-encoded as user:password"},
		"Check the username and password."},
	{"authn_backend_unavailable", "authn", 503, "Credential check unavailable",
		"The gateway could not reach what it needs to check the credential (key store, JWKS or introspection endpoint).",
		[]string{"The identity provider is down or unreachable from the gateway"},
		"Retry later; the operator should check the gateway's connection to the identity provider."},
	// consumer
	{"consumer_suspended", "consumer", 403, "Consumer suspended",
		"The caller is known, but their account is suspended; the detail gives the administrator's reason.",
		[]string{"An unpaid invoice", "Abuse or a security review"},
		"Contact the API's operator about the reason given."},
	{"tenant_mismatch", "consumer", 403, "Route belongs to another tenant",
		"The caller belongs to a different tenant than the route.",
		[]string{"A key from one tenant used against another tenant's host or path"},
		"Use a key of the tenant that owns this API."},
	{"subscription_required", "consumer", 403, "Subscription required",
		"The route's service requires an approved subscription, and the caller has none.",
		[]string{"The application never applied for the service", "A new service added behind an existing key"},
		"Apply for a subscription to the service named in the detail."},
	{"subscription_pending", "consumer", 403, "Subscription pending approval",
		"The caller applied for the service, and the application is not approved yet.",
		[]string{"Approval waits for an administrator"},
		"Wait for approval, or ask the service's owner to approve it."},
	{"subscription_rejected", "consumer", 403, "Subscription rejected",
		"The caller's application for the service was rejected.",
		[]string{"The owner declined the application"},
		"Contact the service's owner; the detail gives the reason."},
	{"subscription_revoked", "consumer", 403, "Subscription revoked",
		"The caller's subscription to the service was revoked.",
		[]string{"The owner revoked access"},
		"Contact the service's owner; the detail gives the reason."},
	// authz
	{"missing_scope", "authz", 403, "Missing scope",
		"The credential is valid but lacks a scope the route requires for this method.",
		[]string{"A read-only key used for a write", "A token requested without the needed scope"},
		"Use a credential that has the scope named in the detail, or have it added."},
	{"role_forbidden", "authz", 403, "Role not permitted",
		"The caller lacks a role the route requires.",
		[]string{"A viewer account calling an admin endpoint"},
		"Ask for the role named in the detail, or use an account that has it."},
	{"policy_denied", "authz", 403, "Denied by policy",
		"A named policy evaluated to false for this request.",
		[]string{"Acting on a resource owned by someone else", "A plan or feature check"},
		"The detail names the policy; the trace shows the values it saw."},
	{"policy_error", "authz", 403, "Policy could not be evaluated",
		"A named policy could not be evaluated against this request, usually because a field it reads is missing.",
		[]string{"A JSON body without the field the policy reads", "A consumer without the metadata the policy reads"},
		"Send the field named in the detail; the operator can see the evaluation error in the trace."},
	// ratelimit
	{"rate_limited", "ratelimit", 429, "Rate limit exceeded",
		"Too many requests in the policy's window.",
		[]string{"A retry loop without backoff", "Several workers sharing one key"},
		"Wait for the time in Retry-After, then slow down; RateLimit headers show the budget."},
	{"quota_exhausted", "ratelimit", 429, "Quota exhausted",
		"The daily or monthly quota of the policy is used up.",
		[]string{"Usage beyond the plan's allowance"},
		"Wait until the quota resets (named in the detail) or move to a larger plan."},
	{"ratelimit_backend_unavailable", "ratelimit", 503, "Rate limit store unavailable",
		"The shared rate-limit store is unreachable and the route is set to fail closed.",
		[]string{"Redis is down or unreachable from the gateway"},
		"Retry later; the operator should restore the rate-limit store."},
	// upstream
	{"upstream_unreachable", "upstream", 502, "Upstream unreachable",
		"The gateway could not connect to the service behind the route, or the connection failed mid-request.",
		[]string{"The service is down or restarting", "A wrong upstream address in the gateway's config"},
		"Retry later; this is not a permissions problem. The operator should check the upstream."},
	{"upstream_timeout", "upstream", 504, "Upstream timed out",
		"The service behind the route did not answer in time.",
		[]string{"A slow query or overloaded service", "A timeout set too low for this endpoint"},
		"Retry later or with a smaller request; the operator can raise the route's timeout."},
	{"upstream_bad_response", "upstream", 502, "Upstream answer malformed",
		"The service behind the route answered with something that is not a well-formed HTTP/1.1 response; the gateway does not pass on an answer whose framing it cannot trust (the detail names the fault).",
		[]string{"Two different Content-Length headers, or Content-Length beside Transfer-Encoding", "Folded (obs-fold) or malformed header lines from an old server", "A service that does not speak HTTP on the upstream's port"},
		"This is not a problem with your request; retry later. The operator should fix the upstream's response, which the trace names."},
	{"no_healthy_upstream", "upstream", 503, "No healthy upstream",
		"Every target of the route's upstream is marked unhealthy.",
		[]string{"All instances of the service failed their health checks"},
		"Retry later; the operator should check the service's health."},
	// ai
	{"model_not_allowed", "ai", 403, "Model not allowed",
		"The caller may not use the model asked for.",
		[]string{"A model outside the consumer's or key's allowed list"},
		"Use a model from the allowed list in the detail, or ask for access."},
	{"model_unknown", "ai", 404, "Model unknown",
		"The model name matches no provider model or alias the gateway knows.",
		[]string{"A typo in the model name", "A model not configured on this gateway"},
		"GET /v1/models lists the models available to you."},
	{"budget_exhausted", "ai", 429, "Budget exhausted",
		"The spending budget for this consumer is used up; the detail names the budget and when it resets.",
		[]string{"Usage beyond the daily or monthly budget"},
		"Wait for the reset named in the detail, or ask for a larger budget."},
	{"token_limit_exceeded", "ai", 429, "Token rate limit exceeded",
		"The tokens-per-minute limit for this consumer or model is reached.",
		[]string{"Large prompts sent in a burst"},
		"Wait for the time in Retry-After, or send smaller requests."},
	{"ai_request_invalid", "ai", 400, "AI request invalid",
		"The request does not have the shape of the API it was sent to.",
		[]string{"A missing model or messages field", "A wrong type for a field"},
		"Fix the field named in the detail."},
	{"provider_error", "ai", 502, "All model providers failed",
		"Every provider in the fallback chain failed before answering.",
		[]string{"Providers down or rate-limited", "Provider credentials rejected"},
		"Retry later; the trace lists each provider tried and its answer."},
	{"template_variable_missing", "ai", 400, "Template variable missing",
		"The prompt template needs a variable the request did not provide.",
		[]string{"A misspelled or missing field in the JSON body"},
		"Send every variable named in the detail."},
	{"template_variable_unknown", "ai", 400, "Template variable unknown",
		"The request provided a variable the prompt template does not use.",
		[]string{"A misspelled variable name"},
		"Remove the variable, or use the names in the detail."},
	// gateway
	{"internal_error", "gateway", 500, "Gateway internal error",
		"The gateway failed while handling the request.",
		[]string{"A bug in the gateway"},
		"Retry; report the request id to the operator."},
	{"shutting_down", "gateway", 503, "Gateway shutting down",
		"The gateway is stopping and no longer accepts new requests.",
		[]string{"A deploy or restart in progress"},
		"Retry; another instance will answer."},
}

var (
	indexOnce sync.Once
	index     map[string]int
)

func buildIndex() {
	index = make(map[string]int, len(catalog))
	for i, e := range catalog {
		index[e.Code] = i
	}
}

// Lookup finds a code's entry.
func Lookup(code string) (Entry, bool) {
	indexOnce.Do(buildIndex)
	i, ok := index[code]
	if !ok {
		return Entry{}, false
	}
	return catalog[i], true
}

// answerHeaders are the response headers every denial with the code
// carries besides the ones all denials carry; the docs list them and the
// demo's check requires them.
var answerHeaders = map[string][]string{
	"method_not_allowed":     {"Allow"},
	"unsupported_media_type": {"Accept-Post"},
	"rate_limited":           {"RateLimit-Policy", "RateLimit", "Retry-After"},
	"quota_exhausted":        {"RateLimit-Policy", "RateLimit", "Retry-After"},
	"credentials_missing":    {"WWW-Authenticate"},
	"key_malformed":          {"WWW-Authenticate"},
	"key_unknown":            {"WWW-Authenticate"},
	"key_revoked":            {"WWW-Authenticate"},
	"key_expired":            {"WWW-Authenticate"},
	"token_malformed":        {"WWW-Authenticate"},
	"token_bad_signature":    {"WWW-Authenticate"},
	"token_expired":          {"WWW-Authenticate"},
	"token_not_yet_valid":    {"WWW-Authenticate"},
	"token_wrong_issuer":     {"WWW-Authenticate"},
	"token_wrong_audience":   {"WWW-Authenticate"},
	"token_inactive":         {"WWW-Authenticate"},
	"basic_auth_failed":      {"WWW-Authenticate"},
	"token_limit_exceeded":   {"Retry-After"},
}

// AnswerHeaders returns the headers a denial with code carries besides
// Pinpoint-Request-Id, Pinpoint-Denied-By, Cache-Control and Content-Type.
func AnswerHeaders(code string) []string { return answerHeaders[code] }

// All returns every entry in catalog order (grouped by layer, in pipeline
// order).
func All() []Entry { return append([]Entry(nil), catalog...) }
