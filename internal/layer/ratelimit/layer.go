package ratelimit

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"pinpoint/internal/layer/ratelimit/limit"
	"pinpoint/internal/layer/ratelimit/memory"
	"pinpoint/internal/layer/ratelimit/redisstore"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// Name is the layer's name in pipeline.Order and in config.
const Name = "ratelimit"

// Layer is the ratelimit layer of one route.
type Layer struct {
	store    limit.Store
	backend  string
	failOpen bool
	policies []*policy
	now      func() time.Time
}

var _ pipeline.Layer = (*Layer)(nil)

func init() { pipeline.Register(Name, New) }

// New builds the layer from its config node.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return nil, err
	}
	l := &Layer{now: time.Now, backend: c.Backend}
	if b.Env != nil && b.Env.Now != nil {
		l.now = b.Env.Now
	}
	switch c.OnBackendError {
	case "", "closed":
	case "open":
		l.failOpen = true
	default:
		return nil, b.Errorf(node, "on_backend_error", "must be open or closed, got %q", c.OnBackendError)
	}
	if c.Status == 0 {
		c.Status = http.StatusTooManyRequests
	}
	if c.Status != 429 && c.Status != 403 {
		return nil, b.Errorf(node, "status", "must be 429 or 403, got %d", c.Status)
	}
	if len(c.Policies) == 0 {
		return nil, b.Errorf(node, "policies", "required: at least one policy")
	}
	names := map[string]bool{}
	for i, pc := range c.Policies {
		p, err := compilePolicy(b, node, i, pc, c.Status)
		if err != nil {
			return nil, err
		}
		if names[p.name] {
			return nil, b.Errorf(node, "policies", "duplicate policy name %q", p.name)
		}
		names[p.name] = true
		l.policies = append(l.policies, p)
	}
	// Rates first: a request a rate refuses must not spend quota.
	slices.SortStableFunc(l.policies, func(a, b *policy) int { return int(a.kind) - int(b.kind) })

	store, err := openStore(b, node, &c)
	if err != nil {
		return nil, err
	}
	l.store = store
	return l, nil
}

// openStore returns the route's backend. Both live in Env.Shared so that
// counts survive reloads and every route shares one store (a global
// policy counts across routes); Redis clients are one per URL.
func openStore(b *pipeline.Build, node *yaml.Node, c *Config) (limit.Store, error) {
	switch c.Backend {
	case "", "memory":
		if c.Redis != (RedisConfig{}) {
			return nil, b.Errorf(node, "redis", "set only with backend: redis")
		}
		v, err := b.Env.Shared("ratelimit.memory", func() (any, error) { return memory.New(b.Env.Now), nil })
		if err != nil {
			return nil, err
		}
		return v.(*memory.Store), nil
	case "redis":
		if c.Redis.URL == "" {
			return nil, b.Errorf(node, "redis.url", "required with backend: redis (e.g. redis://127.0.0.1:6379/0)")
		}
		opt, err := redisstore.Options(c.Redis.URL, c.Redis.Timeout)
		if err != nil {
			// The URL may hold a password: do not echo it.
			return nil, b.Errorf(node, "redis.url", "not a redis:// or rediss:// URL")
		}
		v, err := b.Env.Shared("redis:"+c.Redis.URL, func() (any, error) { return redis.NewClient(opt), nil })
		if err != nil {
			return nil, err
		}
		client, ok := v.(*redis.Client)
		if !ok {
			return nil, b.Errorf(node, "redis.url", "shared resource for this URL is not a Redis client")
		}
		prefix := c.Redis.Prefix
		if prefix == "" {
			prefix = "pinpoint:rl:"
		}
		s := redisstore.New(client, prefix, time.Second)
		// Best effort, so the first request is already one round trip;
		// an unreachable Redis at build time is the runtime's problem.
		ctx, cancel := context.WithTimeout(context.Background(), opt.ReadTimeout)
		_ = s.Preload(ctx)
		cancel()
		return s, nil
	}
	return nil, b.Errorf(node, "backend", "must be memory or redis, got %q", c.Backend)
}

// Name implements pipeline.Layer.
func (l *Layer) Name() string { return Name }

// Evaluate spends one request of every applicable policy (or peeks, in a
// dry run) and stops at the first enforced refusal.
func (l *Layer) Evaluate(ctx context.Context, r *pipeline.Request) verdict.Verdict {
	now := l.now()
	// Evidence and header values are collected in local slices and put in
	// the verdict once: this is on the path of every request.
	var ev []verdict.Field
	var policyVals, limitVals []string
	if len(l.policies) == 1 {
		// The common one-policy route gets both lists from one allocation.
		one := new(onePolicyLists)
		ev, limitVals = one.ev[:0], one.limit[:0]
	} else {
		ev = make([]verdict.Field, 0, len(l.policies))
	}
	var shadow *verdict.Verdict
	failedOpen := false
	// scratch holds a key, then a RateLimit member and evidence, before
	// each is copied into its string; it stays on the stack.
	var scratch [160]byte
	for _, p := range l.policies {
		kb, skipped := p.key(scratch[:0], r)
		if skipped != "" {
			ev = append(ev, verdict.Field{Key: p.evidenceKey, Value: skipped})
			continue
		}
		lim := p.lim
		lim.Peek, lim.Now = r.DryRun, now
		policyField := p.policyField
		var windowEnd time.Time
		if p.kind == limit.Quota {
			var start time.Time
			kb, start, windowEnd = p.calendarWindow(append(kb, '|'), now)
			lim.WindowEnd = windowEnd
			policyField = policyMember(p.name, p.limit, int64(windowEnd.Sub(start)/time.Second))
		}
		key := string(kb)
		d, err := l.store.Allow(ctx, key, lim)
		if err != nil {
			if !l.failOpen {
				return verdict.Failed("ratelimit_backend_unavailable", p.name,
					"The rate-limit store is unreachable and this route is set to refuse requests rather than admit them uncounted.").
					With("backend", l.backend).With("error", err.Error()).WithHeader("Retry-After", "1")
			}
			failedOpen = true
			ev = append(ev, verdict.Field{Key: p.evidenceKey, Value: "fail-open: " + err.Error()})
			continue
		}
		member, evidence := record(scratch[:0], p, key, d, r.DryRun)
		ev = append(ev, verdict.Field{Key: p.evidenceKey, Value: evidence})
		if !p.shadow {
			if policyVals == nil && p.kind == limit.Rate {
				// The common single-policy case shares the precomputed
				// value; a later append copies it, never writes into it.
				policyVals = p.policyValues
			} else {
				policyVals = append(policyVals, policyField)
			}
			limitVals = append(limitVals, member)
		}
		if d.Allowed {
			continue
		}
		deny := p.denial(d, now, windowEnd)
		if p.shadow {
			if shadow == nil {
				shadow = &deny
			}
			continue
		}
		deny.Evidence = ev
		deny.Header = headers(policyVals, limitVals, failedOpen)
		deny.Header[headerRetryAfter] = []string{strconv.FormatInt(max(ceilSeconds(d.RetryAfter), 1), 10)}
		if p.status != http.StatusTooManyRequests {
			deny = deny.WithStatus(p.status)
		}
		return deny
	}
	out := verdict.Verdict{Evidence: ev, Header: headers(policyVals, limitVals, failedOpen)}
	if shadow != nil {
		s := *shadow
		s.Outcome = verdict.ShadowDeny
		s.Evidence, s.Header = out.Evidence, out.Header
		return s
	}
	return out
}

// onePolicyLists backs the evidence and RateLimit lists of a request on
// a one-policy route.
type onePolicyLists struct {
	ev    [1]verdict.Field
	limit [1]string
}

// headers builds the response headers in one map, with canonical keys set
// directly (Header.Add would canonicalize each time).
func headers(policyVals, limitVals []string, failedOpen bool) http.Header {
	if len(policyVals) == 0 && !failedOpen {
		return nil
	}
	h := make(http.Header, 4)
	if len(policyVals) > 0 {
		h[canonPolicy] = policyVals
		h[canonLimit] = limitVals
	}
	if failedOpen {
		h[canonFailOpen] = []string{"fail-open"}
	}
	return h
}

// notApplied is the evidence of a policy whose key needs a part the
// request lacks, by part: constants, so a skipped policy costs nothing.
var notApplied = [...]string{
	partConsumer: "not applied: the request has no consumer (it is not authenticated)",
	partKey:      "not applied: the request has no API key",
	partRoute:    "not applied: the request has no route",
	partTenant:   "not applied: the request has no tenant",
	partIP:       "not applied: the request has no client address",
}

// key appends the policy's counter key to b, or returns the evidence of
// a request that lacks one of the key's parts.
func (p *policy) key(b []byte, r *pipeline.Request) (key []byte, skipped string) {
	b = append(b, p.keyBase...)
	for i, part := range p.parts {
		if i > 0 {
			b = append(b, '|')
		}
		switch part {
		case partConsumer:
			if r.Identity == nil || r.Identity.ConsumerID == "" {
				return nil, notApplied[part]
			}
			b = append(b, "c="...)
			b = append(b, r.Identity.ConsumerID...)
		case partKey:
			if r.Identity == nil || r.Identity.KeyID == "" {
				return nil, notApplied[part]
			}
			b = append(b, "k="...)
			b = append(b, r.Identity.KeyID...)
		case partRoute:
			if r.Route == nil {
				return nil, notApplied[part]
			}
			b = append(b, "r="...)
			b = append(b, r.Route.ID...)
		case partTenant:
			t := ""
			if r.Identity != nil {
				t = r.Identity.Tenant
			}
			if t == "" && r.Route != nil {
				t = r.Route.Tenant
			}
			if t == "" {
				return nil, notApplied[part]
			}
			b = append(b, "t="...)
			b = append(b, t...)
		case partIP:
			if !r.ClientIP.IsValid() {
				return nil, notApplied[part]
			}
			b = append(b, "ip="...)
			b = r.ClientIP.AppendTo(b)
		}
	}
	return b, ""
}

// denial builds the refusal for a policy; the detail names the policy
// and when it resets.
func (p *policy) denial(d limit.Decision, now, windowEnd time.Time) verdict.Verdict {
	if p.kind == limit.Quota {
		resetAt := windowEnd.In(p.loc)
		return verdict.Denied("quota_exhausted", p.name,
			"Quota \""+p.name+"\" ("+strconv.FormatInt(p.limit, 10)+" requests per "+p.per+", "+p.loc.String()+") is used up; it resets at "+
				resetAt.Format(time.RFC3339)+" (in "+humanWait(windowEnd.Sub(now))+").")
	}
	burst := ""
	if p.burst != p.limit {
		burst = ", bursts of " + strconv.FormatInt(p.burst, 10)
	}
	return verdict.Denied("rate_limited", p.name,
		"Rate limit \""+p.name+"\" ("+strconv.FormatInt(p.limit, 10)+" requests per "+humanWindow(p.window)+burst+") exceeded; retry in "+
			humanWait(d.RetryAfter)+", the full limit is back in "+humanWait(d.ResetAfter)+".")
}

// humanWait prints a wait rounded up to whole seconds: 3s, 2m5s, 11h59m.
func humanWait(d time.Duration) string {
	s := ceilSeconds(d)
	if s < 1 {
		s = 1
	}
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		out := strconv.FormatInt(s/60, 10) + "m"
		if s%60 != 0 {
			out += strconv.FormatInt(s%60, 10) + "s"
		}
		return out
	}
	m := (s + 59) / 60
	out := strconv.FormatInt(m/60, 10) + "h"
	if m%60 != 0 {
		out += strconv.FormatInt(m%60, 10) + "m"
	}
	return out
}
