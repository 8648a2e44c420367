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
		_ = rt.Nearest("host", path, 3)
	})
}
