// Package origins matches browser origins (scheme://host[:port]) against
// configured lists of exact origins and "https://*.example.com" wildcards.
// The cors and csrf layers share it so "trusted origin" means the same
// thing in both.
package origins

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Set is a compiled list of origins. The zero Set matches nothing.
type Set struct {
	exact map[string]string // normalized origin -> as configured
	wild  []wildcard
	any   bool
}

// wildcard is "scheme://*.suffix[:port]"; it matches subdomains of suffix
// at any depth, never suffix itself.
type wildcard struct {
	scheme, suffix, port, raw string
}

// Parse compiles a list. "*" matches every origin; "null" is refused
// because sandboxed frames and file: pages all share it, so trusting it
// trusts everyone.
func Parse(list []string) (*Set, error) {
	s := &Set{exact: make(map[string]string, len(list))}
	for i, raw := range list {
		if raw == "*" {
			s.any = true
			continue
		}
		scheme, host, port, err := split(raw)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if strings.HasPrefix(host, "*.") {
			suffix := host[1:] // ".example.com"
			if strings.Contains(suffix[1:], "*") || !strings.Contains(suffix[1:], ".") && suffix != ".localhost" {
				return nil, fmt.Errorf("[%d]: wildcard %q must be like https://*.example.com", i, raw)
			}
			s.wild = append(s.wild, wildcard{scheme, suffix, port, raw})
			continue
		}
		if strings.Contains(host, "*") {
			return nil, fmt.Errorf("[%d]: %q: * is allowed only as the first label (https://*.example.com)", i, raw)
		}
		s.exact[join(scheme, host, port)] = raw
	}
	return s, nil
}

// Any reports whether the set is "*".
func (s *Set) Any() bool { return s != nil && s.any }

// Empty reports whether the set matches nothing.
func (s *Set) Empty() bool { return s == nil || !s.any && len(s.exact) == 0 && len(s.wild) == 0 }

// Match reports whether the Origin header value is in the set, and the
// configured entry that matched (for the trace).
func (s *Set) Match(origin string) (entry string, ok bool) {
	if s == nil || origin == "" || origin == "null" {
		return "", false
	}
	if s.any {
		return "*", true
	}
	// Browsers send origins already normalized, so the raw value usually
	// hits the map without parsing.
	if e, ok := s.exact[origin]; ok {
		return e, true
	}
	scheme, host, port, err := split(origin)
	if err != nil || strings.Contains(host, "*") {
		return "", false
	}
	if e, ok := s.exact[join(scheme, host, port)]; ok {
		return e, true
	}
	for _, w := range s.wild {
		if w.scheme == scheme && w.port == port && len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return w.raw, true
		}
	}
	return "", false
}

// Normalize returns an origin in the form browsers send (lowercase, no
// default port), or an error saying why it is not an origin.
func Normalize(origin string) (string, error) {
	scheme, host, port, err := split(origin)
	if err != nil {
		return "", err
	}
	return join(scheme, host, port), nil
}

// split parses scheme://host[:port], lowercasing and dropping the
// scheme's default port, as browsers do when they send Origin.
func split(raw string) (scheme, host, port string, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || u.Scheme == "" || u.Host == "" {
		return "", "", "", fmt.Errorf("%q is not an origin (want scheme://host[:port])", raw)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return "", "", "", fmt.Errorf("%q is not an origin: no path, query or user part (want scheme://host[:port])", raw)
	}
	scheme = strings.ToLower(u.Scheme)
	host = strings.ToLower(u.Hostname())
	port = u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", "", "", fmt.Errorf("%q has an empty port", raw)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme, host, port, nil
}

func join(scheme, host, port string) string {
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), port)
}
