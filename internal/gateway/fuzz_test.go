package gateway

import (
	"strings"
	"testing"

	"pinpoint/internal/config"
)

// FuzzRouterMatch: any pattern set and request path match without panics,
// and a match's params are segments of the path.
func FuzzRouterMatch(f *testing.F) {
	f.Add("/users/{id}", "/users/*", "GET", "/users/42")
	f.Add("/a/b", "/a/{x}/c", "POST", "/a/b/c")
	f.Add("/", "/x/*", "GET", "//x//")
	f.Add("/{a}/{b}", "/*", "DELETE", "/%2e%2e/x")
	f.Fuzz(func(t *testing.T, p1, p2, method, path string) {
		var routes []*route
		for i, p := range []string{p1, p2} {
			if config.ValidatePattern(p) != nil {
				continue
			}
			routes = append(routes, &route{cfg: &config.Route{ID: string(rune('a' + i)), Path: p, Methods: []string{"GET"}}})
		}
		rt := newRouter(routes)
		m := rt.Match("host", method, path)
		for _, v := range m.params {
			if strings.Contains(v, "/") || !strings.Contains(path, v) {
				t.Fatalf("param %q is not one segment of %q", v, path)
			}
		}
		near, d := rt.Nearest("host", path, 3)
		if len(near) > 0 && d != pathDistance(path, near[0]) {
			t.Fatalf("nearest %q reported at distance %d, is %d", near[0], d, pathDistance(path, near[0]))
		}
		for _, p := range []string{p1, p2} {
			if got, want := pathDistance(path, p), splitPathDistance(path, p); got != want {
				t.Fatalf("pathDistance(%q, %q) = %d, the segment lists give %d", path, p, got, want)
			}
		}
	})
}

// splitPathDistance is pathDistance written over strings.Split's lists:
// the plain statement of what the segment iterator computes.
func splitPathDistance(path, pattern string) int {
	ps := strings.Split(strings.Trim(path, "/"), "/")
	qs := strings.Split(strings.Trim(pattern, "/"), "/")
	d := 0
	for i := 0; i < len(ps) || i < len(qs); i++ {
		switch {
		case i >= len(ps):
			if qs[i] != "*" {
				d += len(qs[i]) + 1
			}
		case i >= len(qs):
			if qs[len(qs)-1] == "*" {
				continue
			}
			d += len(ps[i]) + 1
		case strings.HasPrefix(qs[i], "{") || qs[i] == "*":
		default:
			d += config.EditDistance(ps[i], qs[i])
		}
	}
	return d
}
