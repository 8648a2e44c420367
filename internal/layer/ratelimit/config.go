package ratelimit

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // quotas name zones; do not depend on the host's zoneinfo.

	"gopkg.in/yaml.v3"

	"pinpoint/internal/layer/ratelimit/limit"
	"pinpoint/internal/pipeline"
)

// Config is the ratelimit section of a route.
type Config struct {
	// Backend is memory (default) or redis.
	Backend string      `yaml:"backend"`
	Redis   RedisConfig `yaml:"redis"`
	// OnBackendError is closed (default: 503) or open (admit, say so).
	OnBackendError string `yaml:"on_backend_error"`
	// Status is 429 (default) or 403 for every policy of the route.
	Status   int            `yaml:"status"`
	Policies []PolicyConfig `yaml:"policies"`
}

// RedisConfig locates the shared store.
type RedisConfig struct {
	URL     string        `yaml:"url"`
	Prefix  string        `yaml:"prefix"`
	Timeout time.Duration `yaml:"timeout"`
}

// PolicyConfig is one named policy: a rate (limit per window, with
// burst) or a quota.
type PolicyConfig struct {
	Name string `yaml:"name"`
	// Key lists what the count is per: consumer, key, route, tenant, ip.
	Key    []string      `yaml:"key"`
	Limit  int64         `yaml:"limit"`
	Window time.Duration `yaml:"window"`
	// Burst is how many requests may come at once (default limit).
	Burst int64        `yaml:"burst"`
	Quota *QuotaConfig `yaml:"quota"`
	// Mode is enforce (default) or shadow.
	Mode string `yaml:"mode"`
	// Status overrides the section's status for this policy.
	Status int `yaml:"status"`
}

// QuotaConfig is a calendar quota.
type QuotaConfig struct {
	Limit int64 `yaml:"limit"`
	// Per is day or month.
	Per      string `yaml:"per"`
	Timezone string `yaml:"timezone"`
}

// keyPart is one dimension of a policy's key.
type keyPart uint8

const (
	partConsumer keyPart = iota
	partKey
	partRoute
	partTenant
	partIP
)

var partNames = map[string]keyPart{"consumer": partConsumer, "key": partKey, "route": partRoute, "tenant": partTenant, "ip": partIP}

// policy is a compiled policy.
type policy struct {
	name   string
	parts  []keyPart
	shadow bool
	status int
	kind   limit.Kind
	// rate
	limit    int64
	window   time.Duration
	interval time.Duration
	burst    int64
	// quota
	per string
	loc *time.Location
	// keyBase is "<name>@<params hash>|": policies with the same name and
	// parameters share counts across routes; a changed limit starts fresh
	// instead of inheriting a bucket shaped for other numbers.
	keyBase string
	// evidenceKey is the trace field of this policy: "policy <name>".
	evidenceKey string
	// policyField is the RateLimit-Policy member for rates (quotas vary
	// with the month's length and are built per request).
	policyField string
	// policyValues is []string{policyField} with capacity 1, shared by
	// every response.
	policyValues []string
	// limitPrefix starts the policy's RateLimit member: "name";r=
	limitPrefix string
	// lim holds the parameters every decision of the policy passes to the
	// store; the request fills in the rest.
	lim limit.Limit
}

func compilePolicy(b *pipeline.Build, node *yaml.Node, i int, pc PolicyConfig, status int) (*policy, error) {
	field := fmt.Sprintf("policies[%d]", i)
	if pc.Name == "" {
		return nil, b.Errorf(node, field+".name", "required: the name appears in RateLimit headers and in denials")
	}
	if strings.ContainsAny(pc.Name, "\"\\|") {
		return nil, b.Errorf(node, field+".name", "%q: quotes, backslashes and | are not allowed", pc.Name)
	}
	p := &policy{name: pc.Name, status: status, evidenceKey: "policy " + pc.Name}
	if pc.Status != 0 {
		p.status = pc.Status
	}
	if p.status != 429 && p.status != 403 {
		return nil, b.Errorf(node, field+".status", "must be 429 or 403, got %d", p.status)
	}
	switch pc.Mode {
	case "", "enforce":
	case "shadow":
		p.shadow = true
	default:
		return nil, b.Errorf(node, field+".mode", "must be enforce or shadow, got %q", pc.Mode)
	}
	if len(pc.Key) == 0 {
		pc.Key = []string{"ip"}
	}
	seen := map[keyPart]bool{}
	for _, k := range pc.Key {
		part, ok := partNames[k]
		if !ok {
			return nil, b.Errorf(node, field+".key", "unknown key %q (use consumer, key, route, tenant or ip)", k)
		}
		if !seen[part] {
			seen[part] = true
			p.parts = append(p.parts, part)
		}
	}
	var sig string
	switch {
	case pc.Quota != nil && (pc.Limit != 0 || pc.Window != 0 || pc.Burst != 0):
		return nil, b.Errorf(node, field, "set either limit/window/burst (a rate) or quota, not both")
	case pc.Quota != nil:
		q := pc.Quota
		p.kind = limit.Quota
		if q.Limit <= 0 {
			return nil, b.Errorf(node, field+".quota.limit", "must be positive")
		}
		p.limit = q.Limit
		switch q.Per {
		case "day", "month":
			p.per = q.Per
		default:
			return nil, b.Errorf(node, field+".quota.per", "must be day or month, got %q", q.Per)
		}
		tz := q.Timezone
		if tz == "" {
			tz = "UTC"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, b.Errorf(node, field+".quota.timezone", "unknown time zone %q (use an IANA name like Europe/Berlin)", tz)
		}
		p.loc = loc
		sig = fmt.Sprintf("q%d/%s/%s", p.limit, p.per, tz)
	default:
		if pc.Limit <= 0 {
			return nil, b.Errorf(node, field+".limit", "must be positive (or set quota)")
		}
		if pc.Window < time.Second {
			return nil, b.Errorf(node, field+".window", "must be at least 1s, like 1s, 1m or 1h")
		}
		p.kind, p.limit, p.window = limit.Rate, pc.Limit, pc.Window
		p.interval = pc.Window / time.Duration(pc.Limit)
		if p.interval < time.Microsecond {
			return nil, b.Errorf(node, field+".limit", "%d per %v is more than one per microsecond", pc.Limit, pc.Window)
		}
		p.burst = pc.Burst
		if p.burst == 0 {
			p.burst = pc.Limit
		}
		if p.burst < 0 {
			return nil, b.Errorf(node, field+".burst", "must not be negative")
		}
		sig = fmt.Sprintf("r%d/%d/%d", p.limit, p.window, p.burst)
		p.policyField = policyMember(p.name, p.limit, int64(p.window/time.Second))
		p.policyValues = []string{p.policyField}
	}
	p.limitPrefix = `"` + p.name + `";r=`
	p.lim = limit.Limit{Kind: p.kind, Interval: p.interval, Burst: p.burst, Max: p.limit}
	h := fnv.New32a()
	h.Write([]byte(sig))
	p.keyBase = p.name + "@" + strconv.FormatUint(uint64(h.Sum32()), 36) + "|"
	return p, nil
}

// humanWindow prints 1m, 1h, 90s rather than Duration's 1m0s.
func humanWindow(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}
