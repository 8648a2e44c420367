// Package csrf is the "csrf" layer: it refuses cross-site state-changing
// requests from browsers. The first check uses Fetch metadata
// (Sec-Fetch-Site) and Origin, the way Go's http.CrossOriginProtection
// does, with configurable trusted origins. An optional second check is a
// signed double-submit token: the gateway issues it in a cookie on GET,
// the page sends it back in a header or form field, and the token is an
// HMAC over its issue time, a nonce and a fingerprint of the session
// cookie, so a token from another session, an old token or an edited one
// is refused and the detail says which.
//
// Requests that carry an explicit credential header and no cookies can be
// exempted: a browser cannot be tricked into adding such a header to a
// cross-site request, so they are not CSRF-prone.
package csrf
