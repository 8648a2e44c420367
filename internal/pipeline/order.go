package pipeline

// Order is the order in which layers run for every route. It is the one
// place that fixes the pipeline order: a layer registered under a name not
// in this list cannot be built.
//
// Cheap, identity-free checks run first so that an attack or an abusive
// address is refused before any credential is looked up; authorization runs
// once identity is known; limits run last so that refused requests do not
// spend a caller's budget.
var Order = []string{
	"request",   // size, content type, well-formed body
	"ip",        // client address allow/deny lists
	"cors",      // browser preflights and origins
	"csrf",      // cross-site state-changing requests
	"waf",       // OWASP CRS via Coraza
	"authn",     // API keys, JWT, Basic
	"consumer",  // suspended consumers, tenants, subscriptions
	"authz",     // scopes, roles, CEL policies
	"ratelimit", // rates and quotas
	"ai",        // model access, token limits, budgets (AI routes)
}

func orderIndex(name string) int {
	for i, n := range Order {
		if n == name {
			return i
		}
	}
	return -1
}
