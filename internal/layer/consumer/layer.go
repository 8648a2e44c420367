package consumer

import (
	"context"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func init() { pipeline.Register("consumer", New) }

// Config is a route's `consumer:` section.
type Config struct {
	// Tenant checks that the caller belongs to the route's tenant (default
	// true; routes without a tenant are open to every tenant).
	Tenant *bool `yaml:"tenant"`
	// RequireSubscription demands an approved subscription of the caller
	// to the route's service.
	RequireSubscription bool `yaml:"require_subscription"`
	// ApplyHint tells callers how to apply (a portal URL, an email);
	// default names the CLI command an operator runs.
	ApplyHint string `yaml:"apply_hint"`
}

// Layer checks consumer state.
type Layer struct {
	dir       *identity.Directory
	tenant    bool
	subscribe bool
	service   string
	routeTen  string
	applyHint string
}

var (
	_ pipeline.Layer  = (*Layer)(nil)
	_ pipeline.Closer = (*Layer)(nil)
)

// New builds the layer.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var cfg Config
	if err := b.Decode(node, &cfg); err != nil {
		return nil, err
	}
	l := &Layer{tenant: cfg.Tenant == nil || *cfg.Tenant, subscribe: cfg.RequireSubscription, applyHint: cfg.ApplyHint}
	if b.Route != nil {
		l.service, l.routeTen = b.Route.Service, b.Route.Tenant
	}
	if l.subscribe && b.Route != nil && l.service == "" {
		return nil, b.Errorf(node, "require_subscription", "the route has no service: set the route's service so subscriptions have something to name")
	}
	var err error
	if l.dir, err = identity.OpenDirectory(b.Env, b.Global); err != nil {
		return nil, b.Errorf(node, "", "%v", err)
	}
	return l, nil
}

// Name is the layer name.
func (l *Layer) Name() string { return "consumer" }

// Close releases the identity directory.
func (l *Layer) Close() error { return l.dir.Close() }

// Evaluate checks suspension, tenant and subscription, in that order: a
// suspension is the most fundamental reason and the one the caller can do
// least about, so it is reported first.
func (l *Layer) Evaluate(_ context.Context, r *pipeline.Request) verdict.Verdict {
	id := r.Identity
	if id == nil {
		return verdict.Skipped("no authenticated caller (no authn layer ran, or it allowed anonymous access)")
	}
	c := l.dir.Consumer(id.ConsumerID)
	if c != nil && c.Suspended() {
		return identity.SuspendedDenial(c)
	}
	routeTenant, service := l.routeTen, l.service
	if r.Route != nil {
		routeTenant, service = r.Route.Tenant, r.Route.Service
	}
	if l.tenant && routeTenant != "" && id.Tenant != routeTenant {
		detail := "your credential belongs to no tenant, and this route is served for a tenant"
		if id.Tenant != "" {
			detail = "your credential belongs to tenant \"" + id.Tenant + "\"; this route is served for a different tenant"
		}
		return verdict.Denied("tenant_mismatch", "route-tenant", detail).
			With("consumer_tenant", id.Tenant).With("route_tenant", routeTenant)
	}
	if l.subscribe && service != "" {
		if v, deny := l.subscription(id.ConsumerID, service); deny {
			return v
		}
	}
	return verdict.Pass()
}

func (l *Layer) subscription(consumerID, service string) (verdict.Verdict, bool) {
	s := l.dir.Subscription(consumerID, service)
	rule := "subscription:" + service
	if s == nil {
		hint := l.applyHint
		if hint == "" {
			hint = "Apply for a subscription to \"" + service + "\"; an operator runs: pinpoint subscriptions apply --consumer " + consumerID + " --service " + service + ", then approves it."
		}
		return verdict.Denied("subscription_required", rule, "this route needs an approved subscription to service \""+service+"\", and you have none").
			WithHint(hint).With("consumer", consumerID).With("service", service), true
	}
	ev := func(v verdict.Verdict) verdict.Verdict {
		return v.With("consumer", consumerID).With("service", service).With("subscription", s.ID)
	}
	switch s.Status {
	case identity.SubApproved:
		return verdict.Verdict{}, false
	case identity.SubPending:
		return ev(verdict.Denied("subscription_pending", rule, "your subscription to service \""+service+"\" is waiting for approval since "+s.AppliedAt.UTC().Format(time.RFC3339))), true
	case identity.SubRejected:
		return ev(verdict.Denied("subscription_rejected", rule, "your subscription to service \""+service+"\" was rejected"+when(s.DecidedAt)+reason(s.Reason))), true
	case identity.SubRevoked:
		return ev(verdict.Denied("subscription_revoked", rule, "your subscription to service \""+service+"\" was revoked"+when(s.DecidedAt)+reason(s.Reason))), true
	}
	return ev(verdict.Failed("internal_error", rule, "the subscription is in an unknown state")), true
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " at " + t.UTC().Format(time.RFC3339)
}

func reason(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}
