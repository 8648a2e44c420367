// Package authz is the authorization layer: once authn knows the caller,
// it checks the scopes and roles a route requires (per method, all-of or
// any-of) and evaluates named CEL policies over the request, its JSON body,
// the consumer and the route (resource ownership, plan checks). Policies
// are compiled and type-checked when the config loads, so a misspelt field
// is a config error with a line number, not a runtime 500.
package authz
