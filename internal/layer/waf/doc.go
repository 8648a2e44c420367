// Package waf is the web application firewall layer: Coraza with the OWASP
// Core Rule Set v4 embedded, in anomaly-scoring mode, inspecting requests
// only (headers, URI, arguments and the body; JSON bodies are parsed as
// JSON, so findings name fields such as ARGS:json.items.0.note).
//
// # Configuration
//
// A route's (or global's) `waf:` section:
//
//	waf:
//	  mode: enforce          # enforce | shadow | off (handled by the pipeline)
//	  paranoia: 1            # CRS blocking paranoia level, 1-4 (default 1)
//	  inbound_threshold: 5   # anomaly score that blocks (default 5; a critical match scores 5)
//	  detection_only: false  # true: record what would be blocked, block nothing
//	  exclude:
//	    - rule: 920350                 # switch a rule off for this route
//	    - rule: 942100
//	      target: ARGS:comment         # or only for one variable
//	    - rule: 941100
//	      target: ARGS:json.items.0.note
//	    - rule: 932200
//	      target: REQUEST_COOKIES:/^pref_/
//	  body_limit: 1MB        # largest body inspected (default 1MB, at most 64MB)
//	  allowed_methods: [GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE]  # CRS rule 911100 (this is the default)
//
// An exclusion target is a CRS variable (ARGS, ARGS_NAMES, REQUEST_HEADERS,
// REQUEST_COOKIES, REQUEST_URI, …) optionally followed by ":name" or
// ":/regex/". Targets are validated against a closed list and a strict key
// syntax, because they are written into SecLang.
//
// # Verdicts
//
//   - waf_blocked (403): the anomaly score reached the threshold. The
//     detail names the CRS attack rules behind CRS's blocking rule 949110
//     with their category ("942100 SQL injection, 942190 SQL injection;
//     anomaly score 10 reached the threshold 5"), never the payload. The
//     hint suggests the targeted exclusion. The evidence (trace only) holds
//     each matched rule, its message and severity, the variable it matched
//     (ARGS:q, REQUEST_HEADERS:User-Agent, ARGS:json.items.0.note) and a
//     short redacted excerpt (credentials hidden, long digit runs masked,
//     40 bytes at most).
//   - detection_only: the same verdict as a shadow_deny; the request passes.
//   - body_too_large (413): the body exceeds body_limit. It is refused, not
//     passed uninspected, since padding would otherwise hide any payload.
//   - malformed_body (400): Coraza could not parse the body it was told to
//     parse (e.g. invalid JSON with a JSON content type).
//   - waf_error (500): inspection failed (the body could not be read, the
//     layer was closed). The WAF fails closed in every mode.
//
// Matches below the threshold are kept as evidence on the allow verdict.
//
// # Engines
//
// Building CRS takes about a second and tens of megabytes, so one Coraza
// WAF is built per distinct engine setting (paranoia, threshold, allowed
// methods, exclusions) and shared by every route with that setting;
// detection_only and body_limit are enforced by the layer and do not split
// engines. Engines are reference-counted: a reload builds the new pipeline
// (reusing engines whose settings did not change), and closing the old one
// releases the engines nobody uses any more.
//
// # Speed
//
// The package replaces Coraza's @rx operator process-wide with one of the
// same semantics plus a sound literal prefilter (rxliterals.go, rxscan.go,
// rxop.go): every pattern's syntax tree yields clauses of literals, at
// least one of which must occur in a value for the regex to match (large
// alternations of words keep whole words, as prefix sets); one compact
// Aho-Corasick scan per distinct value and transaction (rxtxcache.go)
// answers all rules' clauses at once. A second, "squeezed" analysis sees
// through CRS's evasion-tolerant RCE patterns; patterns that may match from
// the start of a line are split (rxanchor.go); byte-wise patterns also get
// a first-byte filter (rxbinary.go). @pm and @pmFromFile are replaced the
// same way (pmop.go): their phrase list is one more clause of the scan.
// Soundness is tested against the plain matchers on every value the test
// sets produce, on generated strings, and by FuzzRxPrefilterSound. Coraza
// itself is vendored with a few upstreamable speed patches
// (third_party/coraza/PATCHES.md). PROFILE.md has the measurements.
package waf
