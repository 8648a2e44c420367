package ipfilter

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/clientip"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// Name is the layer's name in pipeline.Order and in config.
const Name = "ip"

// Config is the ip section of a route (or of global).
type Config struct {
	// Allow, when any allow source is set, admits only these ranges.
	Allow      []string `yaml:"allow"`
	AllowFile  string   `yaml:"allow_file"`
	AllowLists []string `yaml:"allow_lists"`
	// Deny refuses these ranges; it is checked first, so a denied range
	// inside an allowed one stays denied.
	Deny      []string `yaml:"deny"`
	DenyFile  string   `yaml:"deny_file"`
	DenyLists []string `yaml:"deny_lists"`
}

// Filter is the ip layer of one route.
type Filter struct {
	allow *list // nil: every address not denied is allowed
	deny  *list
}

var _ pipeline.Layer = (*Filter)(nil)

func init() { pipeline.Register(Name, New) }

// New builds the layer from its config node.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return nil, err
	}
	named, err := namedLists(b)
	if err != nil {
		return nil, err
	}
	allow, err := gather(b, node, named, "allow", c.Allow, c.AllowFile, c.AllowLists)
	if err != nil {
		return nil, err
	}
	deny, err := gather(b, node, named, "deny", c.Deny, c.DenyFile, c.DenyLists)
	if err != nil {
		return nil, err
	}
	if len(allow) == 0 && len(deny) == 0 {
		return nil, b.Errorf(node, "", "set at least one of allow, allow_file, allow_lists, deny, deny_file, deny_lists")
	}
	f := &Filter{}
	if len(allow) > 0 {
		f.allow = compile(allow)
	}
	if len(deny) > 0 {
		f.deny = compile(deny)
	}
	return f, nil
}

// gather collects the entries of one side (allow or deny) from inline
// CIDRs, a file and named lists.
func gather(b *pipeline.Build, node *yaml.Node, named map[string][]entry, side string, cidrs []string, file string, lists []string) ([]entry, error) {
	var out []entry
	for i, s := range cidrs {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, b.Errorf(keyNode(node, side), fmt.Sprintf("%s[%d]", side, i), "%v", err)
		}
		out = append(out, entry{prefix: p, source: fmt.Sprintf("%s[%d]", side, i)})
	}
	if file != "" {
		es, err := readListFile(resolvePath(b.Global, file), side+"_file", "")
		if err != nil {
			return nil, b.Errorf(keyNode(node, side+"_file"), side+"_file", "%v", err)
		}
		if len(es) == 0 {
			// An empty allow file would silently turn "allow only these"
			// into "allow everyone".
			return nil, b.Errorf(keyNode(node, side+"_file"), side+"_file", "%s has no CIDRs", file)
		}
		out = append(out, es...)
	}
	for i, name := range lists {
		es, ok := named[name]
		if !ok {
			return nil, b.Errorf(keyNode(node, side+"_lists"), fmt.Sprintf("%s_lists[%d]", side, i), "unknown list %q (define it under top-level %s)", name, SectionName)
		}
		out = append(out, es...)
	}
	return out, nil
}

// Name implements pipeline.Layer.
func (f *Filter) Name() string { return Name }

// Evaluate checks the client address: deny lists first, then the allow
// list. The detail tells the caller the address the gateway saw, which
// alone explains most surprises (a proxy's address, a new egress IP);
// which entry matched is trace evidence only.
func (f *Filter) Evaluate(_ context.Context, r *pipeline.Request) verdict.Verdict {
	a := r.ClientIP
	if !a.IsValid() && r.HTTP != nil {
		a = clientip.Peer(r.HTTP.RemoteAddr)
	}
	a = a.Unmap()
	if !a.IsValid() {
		if f.allow != nil {
			return verdict.Denied("ip_not_allowed", "allow",
				"The gateway could not determine your address, so it cannot be on this route's allow list.").
				With("client_ip", "unknown")
		}
		return verdict.Skipped("client address unknown; deny lists cannot match")
	}
	if e := f.deny.match(a); e != nil {
		ip := a.String()
		return verdict.Denied("ip_denied", rule("deny", e),
			"The gateway saw your address as "+ip+", which is on a deny list of this route.").
			With("client_ip", ip).
			With("matched", e.source+" "+e.prefix.String())
	}
	if f.allow == nil {
		return verdict.Pass()
	}
	e := f.allow.match(a)
	if e == nil {
		ip := a.String()
		v := verdict.Denied("ip_not_allowed", "allow",
			"The gateway saw your address as "+ip+", which is not on this route's allow list.").
			With("client_ip", ip)
		if a.IsPrivate() || a.IsLoopback() {
			v = v.WithHint("The address " + ip + " is private: it is likely a proxy or load balancer in front of the gateway. " +
				"If so, the operator should add it to client_ip.trusted_proxies; otherwise ask for the address to be allowed.")
		}
		return v
	}
	return verdict.Verdict{Evidence: []verdict.Field{{Key: "allowed_by", Value: e.source}}}
}

// rule names the list that decided: the named list, or the route's own
// allow/deny. Naming a list is safe; its contents are not shown.
func rule(side string, e *entry) string {
	if e.list != "" {
		return side + ":" + e.list
	}
	return side
}
