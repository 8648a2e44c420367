// Package cors is the "cors" layer: it answers browser preflights itself
// (204 with the Access-Control-* headers, or a 403 naming the origin,
// method or header it refused) and adds Access-Control-Allow-Origin to
// actual requests from allowed origins.
//
// An actual (non-preflight) request from an origin that is not allowed is
// not refused: CORS protects the browser user's data from the other page's
// script, and the browser enforces it by withholding the response from
// that script when the header is missing. Refusing here would add nothing
// for browsers and would break non-browser clients that happen to send
// Origin. State-changing cross-site requests are the csrf layer's job.
package cors
