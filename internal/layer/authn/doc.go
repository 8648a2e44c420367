// Package authn is the authentication layer: it finds out who the caller
// is from an API key issued by the gateway, a JWT bearer token (static keys
// or a JWKS URL), an opaque OAuth2 token (RFC 7662 introspection) or Basic
// auth, and sets Request.Identity. Every failure is a 401 with its own code
// and a WWW-Authenticate challenge for the scheme the caller used; a valid
// key used from an address outside its allowed list is a 403.
//
// The caller's detail helps the holder of the credential without helping
// someone guessing: an expired key may say when it expired, an unknown key
// says only that its id was not found, and a key's state (revoked,
// expired) is revealed only after its secret matched.
package authn
