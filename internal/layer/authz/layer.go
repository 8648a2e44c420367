package authz

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func init() { pipeline.Register("authz", New) }

// Layer checks scopes, roles and policies.
type Layer struct {
	scopes, roles Requirement
	methods       map[string]MethodRule
	policies      []*policy
}

var _ pipeline.Layer = (*Layer)(nil)

// Name is the layer name.
func (l *Layer) Name() string { return "authz" }

var policyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// New builds the layer, compiling every policy.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var cfg Config
	if err := b.Decode(node, &cfg); err != nil {
		return nil, err
	}
	l := &Layer{scopes: cfg.Scopes, roles: cfg.Roles, methods: map[string]MethodRule{}}
	for _, q := range []struct {
		field string
		r     Requirement
	}{{"scopes", cfg.Scopes}, {"roles", cfg.Roles}} {
		if err := checkNames(q.r); err != nil {
			return nil, b.Errorf(node, q.field, "%v", err)
		}
	}
	for m, rule := range cfg.Methods {
		up := strings.ToUpper(m)
		if !validMethod(up) {
			return nil, b.Errorf(node, "methods."+m, "%q is not an HTTP method", m)
		}
		if err := checkNames(rule.Scopes); err != nil {
			return nil, b.Errorf(node, "methods."+m+".scopes", "%v", err)
		}
		if err := checkNames(rule.Roles); err != nil {
			return nil, b.Errorf(node, "methods."+m+".roles", "%v", err)
		}
		l.methods[up] = rule
	}
	if len(cfg.Policies) > 0 {
		env, err := newEnv()
		if err != nil {
			return nil, fmt.Errorf("authz: building the CEL environment: %w", err)
		}
		seen := map[string]bool{}
		for i, pc := range cfg.Policies {
			field := fmt.Sprintf("policies[%d]", i)
			if !policyName.MatchString(pc.Name) {
				return nil, b.Errorf(node, field+".name", "name the policy (letters, digits, '.', '_', ':', '-'): denials report it")
			}
			if seen[pc.Name] {
				return nil, b.Errorf(node, field+".name", "policy %q is defined twice", pc.Name)
			}
			seen[pc.Name] = true
			p := &policy{name: pc.Name, src: pc.Expr, message: pc.Message}
			switch pc.Mode {
			case "", "enforce":
			case "shadow":
				p.shadow = true
			default:
				return nil, b.Errorf(node, field+".mode", "want enforce or shadow, got %q", pc.Mode)
			}
			if strings.TrimSpace(pc.Expr) == "" {
				return nil, b.Errorf(node, field+".expr", "the policy has no expression")
			}
			if p.prg, p.traced, p.paths, err = compile(env, pc.Expr); err != nil {
				return nil, b.Errorf(node, field+".expr", "policy %q does not compile: %v", pc.Name, err)
			}
			if len(pc.Methods) > 0 {
				p.methods = map[string]bool{}
				for _, m := range pc.Methods {
					up := strings.ToUpper(m)
					if !validMethod(up) {
						return nil, b.Errorf(node, field+".methods", "%q is not an HTTP method", m)
					}
					p.methods[up] = true
				}
			}
			for _, fp := range p.paths {
				p.needsBody = p.needsBody || strings.HasPrefix(fp.text, "request.body")
				p.needsHeaders = p.needsHeaders || strings.HasPrefix(fp.text, "request.headers")
				p.needsQuery = p.needsQuery || strings.HasPrefix(fp.text, "request.query")
			}
			l.policies = append(l.policies, p)
		}
	}
	return l, nil
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

func checkNames(q Requirement) error {
	for _, s := range append(append([]string(nil), q.AllOf...), q.AnyOf...) {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			return fmt.Errorf("%q: names are non-empty, without spaces or quotes", s)
		}
	}
	return nil
}

// Evaluate checks scopes, then roles, then policies.
func (l *Layer) Evaluate(ctx context.Context, r *pipeline.Request) verdict.Verdict {
	id := r.Identity
	var scopes, roles []string
	if id != nil {
		scopes, roles = id.Scopes, id.Roles
	}
	bearer := isBearer(r.HTTP)
	if v, deny := checkScopes(l.scopes, scopes, id == nil, bearer); deny {
		return v
	}
	mr, hasMethod := l.methods[r.HTTP.Method]
	if hasMethod {
		if v, deny := checkScopes(mr.Scopes, scopes, id == nil, bearer); deny {
			return v.With("method", r.HTTP.Method)
		}
	}
	if v, deny := checkRoles(l.roles, roles, id == nil); deny {
		return v
	}
	if hasMethod {
		if v, deny := checkRoles(mr.Roles, roles, id == nil); deny {
			return v.With("method", r.HTTP.Method)
		}
	}
	if len(l.policies) == 0 {
		return verdict.Pass()
	}
	return l.evalPolicies(r)
}

func isBearer(h *http.Request) bool {
	a := h.Header.Get("Authorization")
	return len(a) > 7 && strings.EqualFold(a[:7], "Bearer ")
}

// checkScopes denies when the credential lacks required scopes. Bearer
// callers also get RFC 6750's insufficient_scope challenge naming the
// scopes to ask the authorization server for.
func checkScopes(req Requirement, have []string, anonymous, bearer bool) (verdict.Verdict, bool) {
	if req.empty() {
		return verdict.Verdict{}, false
	}
	missing, anyUnmet := req.unmet(have)
	var detail, scopeAttr string
	switch {
	case len(missing) == 1:
		detail = "this request needs scope \"" + missing[0] + "\""
		scopeAttr = missing[0]
	case len(missing) > 1:
		detail = "this request needs scopes " + quoteList(missing)
		scopeAttr = strings.Join(missing, " ")
	case anyUnmet:
		detail = "this request needs one of the scopes " + quoteList(req.AnyOf)
		scopeAttr = strings.Join(req.AnyOf, " ")
	default:
		return verdict.Verdict{}, false
	}
	if anonymous {
		detail += ", and the request is not authenticated"
	} else if len(have) == 0 {
		detail += "; the credential has no scopes"
	} else {
		detail += "; the credential has " + quoteList(have)
	}
	v := verdict.Denied("missing_scope", "scope:"+strings.ReplaceAll(scopeAttr, " ", ","), detail).
		With("required", scopeAttr).With("granted", strings.Join(have, " "))
	if bearer {
		v = v.WithHeader("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scopeAttr+`"`)
	}
	return v, true
}

func checkRoles(req Requirement, have []string, anonymous bool) (verdict.Verdict, bool) {
	if req.empty() {
		return verdict.Verdict{}, false
	}
	missing, anyUnmet := req.unmet(have)
	var detail, rule string
	switch {
	case len(missing) == 1:
		detail, rule = "this request needs role \""+missing[0]+"\"", missing[0]
	case len(missing) > 1:
		detail, rule = "this request needs roles "+quoteList(missing), strings.Join(missing, ",")
	case anyUnmet:
		detail, rule = "this request needs one of the roles "+quoteList(req.AnyOf), strings.Join(req.AnyOf, ",")
	default:
		return verdict.Verdict{}, false
	}
	if anonymous {
		detail += ", and the request is not authenticated"
	}
	return verdict.Denied("role_forbidden", "role:"+rule, detail).
		With("required", rule).With("granted", strings.Join(have, ",")), true
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ", ")
}

// evalPolicies runs the policies in order: the first enforced denial stops;
// a shadowed denial is remembered and returned if nothing enforced denies.
func (l *Layer) evalPolicies(r *pipeline.Request) verdict.Verdict {
	var vars map[string]any
	var bodyErr error
	var shadow *verdict.Verdict
	for _, p := range l.policies {
		if p.methods != nil && !p.methods[r.HTTP.Method] {
			continue
		}
		if vars == nil {
			vars, bodyErr = activation(r, l.policies)
		}
		if p.needsBody && bodyErr != nil {
			v := verdict.Denied("policy_error", p.name, fmt.Sprintf("policy %q reads the request body, which is not valid JSON", p.name)).
				With("policy", p.name).With("error", bodyErr.Error())
			if p.shadow {
				v.Outcome = verdict.ShadowDeny
				if shadow == nil {
					shadow = &v
				}
				continue
			}
			return v
		}
		v, denied := p.eval(vars)
		if !denied {
			continue
		}
		if p.shadow {
			v.Outcome = verdict.ShadowDeny
			if shadow == nil {
				shadow = &v
			}
			continue
		}
		return v
	}
	if shadow != nil {
		return *shadow
	}
	return verdict.Pass()
}

func (p *policy) eval(vars map[string]any) (verdict.Verdict, bool) {
	out, _, err := p.prg.Eval(vars)
	if err == nil {
		if b, ok := out.Value().(bool); ok && b {
			return verdict.Verdict{}, false
		}
	}
	// Denied or failed: evaluate again with state tracking for the trace.
	_, det, _ := p.traced.Eval(vars)
	var v verdict.Verdict
	switch {
	case err != nil:
		v = verdict.Denied("policy_error", p.name, evalErrorDetail(p.name, err.Error())).With("error", err.Error())
	case out == nil || !isBool(out.Value()):
		v = verdict.Denied("policy_error", p.name, fmt.Sprintf("policy %q did not yield true or false", p.name)).With("result", shortValue(out.Value()))
	default:
		msg := p.message
		if msg == "" {
			msg = fmt.Sprintf("the request was denied by policy %q", p.name)
		}
		v = verdict.Denied("policy_denied", p.name, msg)
	}
	v = v.With("policy", p.name).With("expr", p.src)
	if det != nil && det.State() != nil {
		for _, fp := range p.paths {
			if val, ok := det.State().Value(fp.id); ok && val != nil {
				v = v.With(fp.text, shortValue(val.Value()))
			}
		}
	}
	return v, true
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

// evalErrorDetail names the missing field of a "no such key" error so the
// caller knows what to send.
func evalErrorDetail(name, msg string) string {
	if k, ok := strings.CutPrefix(msg, "no such key: "); ok {
		return fmt.Sprintf("policy %q reads the field %q, which this request does not have", name, k)
	}
	if strings.HasPrefix(msg, "no such attribute") {
		return fmt.Sprintf("policy %q reads a field this request does not have (%s)", name, msg)
	}
	return fmt.Sprintf("policy %q could not be evaluated against this request", name)
}

// activation builds the policy variables, including costly parts (body,
// headers, query) only when some policy reads them.
func activation(r *pipeline.Request, ps []*policy) (map[string]any, error) {
	var needBody, needHeaders, needQuery bool
	for _, p := range ps {
		needBody, needHeaders, needQuery = needBody || p.needsBody, needHeaders || p.needsHeaders, needQuery || p.needsQuery
	}
	req := &Request{Method: r.HTTP.Method, Path: r.HTTP.URL.Path, Host: r.HTTP.Host, Params: r.Params}
	if r.ClientIP.IsValid() {
		req.IP = r.ClientIP.String()
	}
	if req.Params == nil {
		req.Params = map[string]string{}
	}
	if needHeaders {
		req.Headers = make(map[string]string, len(r.HTTP.Header))
		for k, v := range r.HTTP.Header {
			if len(v) > 0 {
				req.Headers[strings.ToLower(k)] = v[0]
			}
		}
	}
	if needQuery {
		req.Query = map[string]string{}
		for k, v := range r.HTTP.URL.Query() {
			if len(v) > 0 {
				req.Query[k] = v[0]
			}
		}
	}
	var bodyErr error
	if needBody {
		req.Body = map[string]any{}
		if b, err := r.Body(); err != nil {
			bodyErr = err
		} else if len(strings.TrimSpace(string(b))) > 0 {
			if v, err := r.JSON(); err != nil {
				bodyErr = err
			} else {
				req.Body = celValue(v)
			}
		}
	}
	c := &Consumer{Metadata: map[string]any{}, Claims: map[string]any{}}
	if id := r.Identity; id != nil {
		c.ID, c.Name, c.Tenant, c.Roles, c.Scopes = id.ConsumerID, id.ConsumerName, id.Tenant, id.Roles, id.Scopes
		c.Method, c.Subject, c.KeyID = id.Method, id.Subject, id.KeyID
		if id.Metadata != nil {
			c.Metadata = id.Metadata
		}
		if id.Claims != nil {
			c.Claims = id.Claims
		}
	}
	rt := &Route{}
	if r.Route != nil {
		rt.ID, rt.Tenant, rt.Service = r.Route.ID, r.Route.Tenant, r.Route.Service
	}
	return map[string]any{"request": req, "consumer": c, "route": rt}, bodyErr
}

// unmet returns the all_of entries missing from have, and whether an
// any_of list is set and none of it is in have.
func (r Requirement) unmet(have []string) (missing []string, anyUnmet bool) {
	for _, s := range r.AllOf {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	anyUnmet = len(r.AnyOf) > 0 && !slices.ContainsFunc(r.AnyOf, func(s string) bool { return slices.Contains(have, s) })
	return missing, anyUnmet
}
