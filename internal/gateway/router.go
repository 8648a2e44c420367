package gateway

import (
	"net"
	"slices"
	"sort"
	"strings"

	"pinpoint/internal/config"
)

// segKind ranks a pattern segment: literal beats {param} beats the
// trailing wildcard, so the most specific route wins.
type segKind uint8

const (
	segWild segKind = iota
	segParam
	segLit
)

type segment struct {
	kind segKind
	text string // literal text or param name
}

// compiledRoute is a route's matcher and its place in the precedence order.
type compiledRoute struct {
	route    *route
	host     string // "" any, "*.x.com" wildcard, or exact
	hostRank int    // 2 exact, 1 wildcard, 0 any
	segs     []segment
	prefix   bool // ends in /* (matches the prefix itself and below)
	methods  map[string]bool
	allow    string // the Allow header value for this route
}

// Router matches requests to routes. Precedence, most specific first:
// an exact host beats a wildcard host beats any host; then, segment by
// segment, a literal beats a {param} beats a trailing /*; then a longer
// pattern beats a shorter one; then config order.
type Router struct {
	routes []*compiledRoute
}

// match is the router's answer.
type match struct {
	route  *route
	params map[string]string
	// allow is set when the path matched but not the method: the methods
	// the path does accept.
	allow []string
}

func compilePattern(p string) (segs []segment, prefix bool) {
	trimmed := strings.TrimSuffix(p[1:], "/")
	if trimmed == "" {
		return nil, false
	}
	parts := strings.Split(trimmed, "/")
	for _, s := range parts {
		switch {
		case s == "*" || s == "**":
			prefix = true
		case strings.HasPrefix(s, "{"):
			segs = append(segs, segment{kind: segParam, text: s[1 : len(s)-1]})
		default:
			segs = append(segs, segment{kind: segLit, text: s})
		}
	}
	return segs, prefix
}

func newRouter(routes []*route) *Router {
	rt := &Router{}
	for _, r := range routes {
		c := &compiledRoute{route: r, host: strings.ToLower(r.cfg.Host)}
		switch {
		case c.host == "":
			c.hostRank = 0
		case strings.HasPrefix(c.host, "*."):
			c.hostRank = 1
		default:
			c.hostRank = 2
		}
		c.segs, c.prefix = compilePattern(r.cfg.Path)
		if len(r.cfg.Methods) > 0 {
			c.methods = map[string]bool{}
			for _, m := range r.cfg.Methods {
				c.methods[m] = true
			}
			if c.methods["GET"] {
				c.methods["HEAD"] = true
			}
			ms := make([]string, 0, len(c.methods))
			for m := range c.methods {
				ms = append(ms, m)
			}
			sort.Strings(ms)
			c.allow = strings.Join(ms, ", ")
		}
		rt.routes = append(rt.routes, c)
	}
	sort.SliceStable(rt.routes, func(i, j int) bool { return moreSpecific(rt.routes[i], rt.routes[j]) })
	return rt
}

func moreSpecific(a, b *compiledRoute) bool {
	if a.hostRank != b.hostRank {
		return a.hostRank > b.hostRank
	}
	if a.hostRank == 1 && len(a.host) != len(b.host) {
		return len(a.host) > len(b.host)
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind > b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	if a.prefix != b.prefix {
		return !a.prefix
	}
	return false
}

func hostMatches(pattern, host string) bool {
	switch {
	case pattern == "":
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(host, pattern[1:]) && len(host) > len(pattern)-1
	default:
		return host == pattern
	}
}

// requestHost lower-cases the Host and drops the port.
func requestHost(h string) string {
	// Without a colon there is no port (and SplitHostPort would allocate
	// its error).
	if strings.IndexByte(h, ':') >= 0 {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// pathMatches matches path against a route and collects params. The path
// is split lazily to avoid allocating on the hot path.
func (c *compiledRoute) pathMatches(path string, params *map[string]string) bool {
	rest := strings.TrimPrefix(path, "/")
	rest = strings.TrimSuffix(rest, "/")
	for i, s := range c.segs {
		if rest == "" {
			return false
		}
		seg := rest
		next := ""
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			seg, next = rest[:j], rest[j+1:]
		}
		switch s.kind {
		case segLit:
			if seg != s.text {
				return false
			}
		case segParam:
			if seg == "" {
				return false
			}
			if params != nil {
				if *params == nil {
					*params = make(map[string]string, len(c.segs)-i)
				}
				(*params)[s.text] = seg
			}
		}
		rest = next
	}
	return rest == "" || c.prefix
}

// Match finds the route for a request.
func (rt *Router) Match(host, method, path string) match {
	host = requestHost(host)
	var allow map[string]bool
	matchedPath := false
	for _, c := range rt.routes {
		if !hostMatches(c.host, host) {
			continue
		}
		var params map[string]string
		if !c.pathMatches(path, &params) {
			continue
		}
		if c.methods == nil || c.methods[method] {
			return match{route: c.route, params: params}
		}
		matchedPath = true
		if allow == nil {
			allow = map[string]bool{}
		}
		for m := range c.methods {
			allow[m] = true
		}
	}
	if !matchedPath {
		return match{}
	}
	ms := make([]string, 0, len(allow))
	for m := range allow {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return match{allow: ms}
}

// Nearest returns up to n route patterns closest to path, nearest first,
// for the trace of a no_route denial (a typo is the commonest cause), and
// the distance of the nearest.
func (rt *Router) Nearest(host, path string, n int) (patterns []string, nearest int) {
	host = requestHost(host)
	type cand struct {
		p string
		d int
	}
	cs := make([]cand, 0, len(rt.routes))
next:
	for _, c := range rt.routes {
		if !hostMatches(c.host, host) {
			continue
		}
		p := c.route.cfg.Path
		// Routes are few: a scan of those kept is cheaper than a set.
		for _, k := range cs {
			if k.p == p {
				continue next
			}
		}
		cs = append(cs, cand{p, pathDistance(path, p)})
	}
	if len(cs) == 0 {
		return nil, 0
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	out := make([]string, 0, min(n, len(cs)))
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].p)
	}
	return out, cs[0].d
}

// pathDistance compares a path to a pattern segment by segment (as
// strings.Split on "/" would cut them, without building the lists),
// treating {param} and * as matching anything in their segment.
func pathDistance(path, pattern string) int {
	ps := segmentIter{s: strings.Trim(path, "/")}
	q := strings.Trim(pattern, "/")
	qs := segmentIter{s: q}
	endsInStar := q == "*" || strings.HasSuffix(q, "/*")
	d := 0
	for {
		p, okP := ps.next()
		s, okQ := qs.next()
		switch {
		case !okP && !okQ:
			return d
		case !okP:
			if s != "*" {
				d += len(s) + 1
			}
		case !okQ:
			if !endsInStar {
				d += len(p) + 1
			}
		case strings.HasPrefix(s, "{") || s == "*":
		default:
			d += config.EditDistance(p, s)
		}
	}
}

// segmentIter yields the "/"-separated segments of s as strings.Split
// would: at least one, empty ones included.
type segmentIter struct {
	s    string
	done bool
}

func (it *segmentIter) next() (string, bool) {
	if it.done {
		return "", false
	}
	seg, rest, found := strings.Cut(it.s, "/")
	it.s, it.done = rest, !found
	return seg, true
}
