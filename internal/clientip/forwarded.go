package clientip

import (
	"errors"
	"net/netip"
	"strings"
)

// ErrMalformedForwarded is returned for a Forwarded value that does not
// follow RFC 7239's grammar. A proxy chain we cannot parse cannot be
// trusted, so the resolver stops at the last hop it verified.
var ErrMalformedForwarded = errors.New("malformed Forwarded header")

// ParseForwarded returns the for= node of every element of a Forwarded
// header value (RFC 7239), left to right, unquoted. An element without a
// for= parameter yields "" so that positions in the chain are kept: the
// resolver must not skip a hop it knows nothing about.
func ParseForwarded(v string) ([]string, error) {
	var out []string
	i := 0
	for {
		node, next, err := parseElement(v, i)
		if err != nil {
			return nil, err
		}
		out = append(out, node)
		i = next
		if i >= len(v) {
			return out, nil
		}
		// parseElement stops only at the end or at a comma.
		i++
	}
}

// parseElement parses one element starting at i and returns its for= value
// and the index of the comma that ends it (or len(v)).
func parseElement(v string, i int) (node string, end int, err error) {
	seenFor := false
	for {
		i = skipOWS(v, i)
		start := i
		for i < len(v) && isTokenChar(v[i]) {
			i++
		}
		name := v[start:i]
		if name == "" {
			// An empty element ("a, ,b") is allowed by the list syntax.
			if i >= len(v) || v[i] == ',' {
				return node, i, nil
			}
			return "", 0, ErrMalformedForwarded
		}
		if i >= len(v) || v[i] != '=' {
			return "", 0, ErrMalformedForwarded
		}
		i++
		var val string
		if i < len(v) && v[i] == '"' {
			val, i, err = parseQuoted(v, i)
			if err != nil {
				return "", 0, err
			}
		} else {
			vs := i
			for i < len(v) && isTokenChar(v[i]) {
				i++
			}
			val = v[vs:i]
			if val == "" {
				return "", 0, ErrMalformedForwarded
			}
		}
		if strings.EqualFold(name, "for") {
			if seenFor {
				// Two for= in one element: which one is the hop?
				return "", 0, ErrMalformedForwarded
			}
			seenFor = true
			node = val
		}
		i = skipOWS(v, i)
		switch {
		case i >= len(v):
			return node, i, nil
		case v[i] == ',':
			return node, i, nil
		case v[i] == ';':
			i++
		default:
			return "", 0, ErrMalformedForwarded
		}
	}
}

// parseQuoted parses a quoted-string at v[i] == '"' and returns it
// unescaped with the index after the closing quote.
func parseQuoted(v string, i int) (string, int, error) {
	i++
	var b []byte
	start := i
	for i < len(v) {
		switch c := v[i]; {
		case c == '\\':
			// RFC 9110's quoted-pair: a backslash before HTAB, SP, a
			// visible character or obs-text, never a control character.
			if i+1 >= len(v) || v[i+1] < 0x20 && v[i+1] != '\t' || v[i+1] == 0x7f {
				return "", 0, ErrMalformedForwarded
			}
			b = append(b, v[start:i]...)
			b = append(b, v[i+1])
			i += 2
			start = i
		case c == '"':
			if b == nil {
				return v[start:i], i + 1, nil
			}
			b = append(b, v[start:i]...)
			return string(b), i + 1, nil
		case c < 0x20 && c != '\t', c == 0x7f:
			return "", 0, ErrMalformedForwarded
		default:
			i++
		}
	}
	return "", 0, ErrMalformedForwarded
}

func skipOWS(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// NodeAddr turns a Forwarded node ("192.0.2.1", "192.0.2.1:8080",
// "[2001:db8::1]:443") into an address. "unknown" and obfuscated
// identifiers ("_hidden") have none.
func NodeAddr(node string) (netip.Addr, bool) {
	if node == "" || node[0] == '_' || strings.EqualFold(node, "unknown") {
		return netip.Addr{}, false
	}
	if node[0] == '[' {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := node[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(node[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	host := node
	if i := strings.IndexByte(node, ':'); i >= 0 {
		// RFC 7239 requires brackets around IPv6; a colon is a port.
		if !validPort(node[i:]) {
			return netip.Addr{}, false
		}
		host = node[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// validPort accepts ":" followed by a port number or an obfuscated port.
func validPort(s string) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	s = s[1:]
	if s[0] == '_' {
		return true
	}
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
