// Package probe is pinpoint's command-line doctor for denials from servers
// pinpoint does not run: a 403 from a SaaS API, a Django or Rails app, a
// CDN or a WAF in front of someone's nginx.
//
// It walks the method a senior engineer would: verify the request (method,
// URL, Content-Type against the body, Authorization format, CSRF token and
// Origin), check the credentials offline (JWT claims, WWW-Authenticate),
// read what the server says (a catalog of fingerprints of who produced the
// denial and why), isolate by changing one thing at a time, check the
// network path (DNS, TLS, proxies, redirects, CDN) and, when the user has
// them, quote the server log line that decided. It ends with a ranked
// diagnosis and a pass/warn/fail checklist, as text or JSON.
//
// Safety is the first rule because a POST is not idempotent: the original
// request is sent at most once and only after it was shown (and, on a
// terminal, confirmed); automatic variations are limited to requests that
// change nothing on a server (OPTIONS, HEAD, GET, DNS, TLS); variations of
// the POST itself are sent only within an explicit --allow-replay budget;
// and nothing is ever sent to a host the user did not name. The Sender type
// enforces these rules in one place so no check can bypass them.
//
// Files by purpose: request.go (the request model and secret masking),
// curlflags.go, curlcmd.go and har.go (input parsing), response.go (saved
// responses), send.go (safety and sending), checks_request.go,
// jwt.go and wwwauth.go (credentials), fingerprints.go (the catalog: data
// plus small matchers), isolate.go, path.go, logs.go, report.go (ranking
// and rendering) and probe.go (the walk itself).
package probe
