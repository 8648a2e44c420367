package authz

// Config is a route's `authz:` section.
type Config struct {
	// Scopes and Roles apply to every method of the route.
	Scopes Requirement `yaml:"scopes"`
	Roles  Requirement `yaml:"roles"`
	// Methods adds requirements for single methods (e.g. POST needs
	// orders:write); they apply on top of the route-wide ones.
	Methods map[string]MethodRule `yaml:"methods"`
	// Policies are CEL expressions that must evaluate to true.
	Policies []PolicyConfig `yaml:"policies"`
}

// Requirement is a set of names the caller must hold: every one of AllOf,
// and at least one of AnyOf when it is not empty.
type Requirement struct {
	AllOf []string `yaml:"all_of"`
	AnyOf []string `yaml:"any_of"`
}

func (q Requirement) empty() bool { return len(q.AllOf) == 0 && len(q.AnyOf) == 0 }

// MethodRule is the requirement of one method.
type MethodRule struct {
	Scopes Requirement `yaml:"scopes"`
	Roles  Requirement `yaml:"roles"`
}

// PolicyConfig is one named CEL policy.
type PolicyConfig struct {
	Name string `yaml:"name"`
	// Expr must evaluate to true for the request to pass. Variables:
	// request (method, path, host, headers, query, params, ip, body),
	// consumer (id, name, tenant, roles, scopes, metadata, method,
	// subject, key_id, claims) and route (id, tenant, service).
	Expr string `yaml:"expr"`
	// Methods limits the policy to some methods (default all).
	Methods []string `yaml:"methods"`
	// Mode is enforce (default) or shadow: a shadowed policy records what
	// it would have denied and lets the request through.
	Mode string `yaml:"mode"`
	// Message is shown to the caller on denial (default: the policy name).
	Message string `yaml:"message"`
}
