package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"pinpoint/internal/config"
)

// headerKind is the forwarding header a resolver reads.
type headerKind uint8

const (
	kindXFF headerKind = iota
	kindForwarded
	kindRealIP
)

// Resolver finds the client address of a request.
type Resolver struct {
	trusted []netip.Prefix
	header  string
	kind    headerKind
}

// New builds a resolver from config; bad CIDRs and unknown headers are
// errors.
func New(c config.ClientIP) (*Resolver, error) {
	r := &Resolver{header: http.CanonicalHeaderKey(c.Header)}
	switch strings.ToLower(c.Header) {
	case "", "x-forwarded-for":
		r.header, r.kind = "X-Forwarded-For", kindXFF
	case "forwarded":
		r.kind = kindForwarded
	case "x-real-ip":
		r.kind = kindRealIP
	default:
		return nil, fmt.Errorf("client_ip.header must be X-Forwarded-For, Forwarded or X-Real-IP, got %q", c.Header)
	}
	for _, s := range c.TrustedProxies {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Peers are unmapped, so a mapped prefix would never match.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

// Peer parses the connection's remote address.
func Peer(remoteAddr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return a.Unmap()
}

// Trusted reports whether a is one of the trusted proxies. The list is a
// handful of proxy ranges, so a loop beats any index here.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address: the peer unless the peer is a
// trusted proxy, in which case the forwarding header is read from the
// right and the first address that is not a trusted proxy wins. A hop that
// cannot be parsed stops the walk at the last verified address: anything
// to its left was written by someone we cannot vouch for.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req.RemoteAddr)
	if len(r.trusted) == 0 || !r.Trusted(peer) {
		return peer
	}
	switch r.kind {
	case kindForwarded:
		return r.walkForwarded(req.Header.Values("Forwarded"), peer)
	case kindRealIP:
		vals := req.Header.Values(r.header)
		if len(vals) != 1 {
			// Absent, or several proxies each set it: no single answer.
			return peer
		}
		a, err := netip.ParseAddr(strings.TrimSpace(vals[0]))
		if err != nil || a.Zone() != "" {
			return peer
		}
		return a.Unmap()
	default:
		return r.walkXFF(req.Header.Values(r.header), peer)
	}
}

// walkXFF reads X-Forwarded-For right to left without allocating; several
// header lines form one list in order.
func (r *Resolver) walkXFF(lines []string, last netip.Addr) netip.Addr {
	for li := len(lines) - 1; li >= 0; li-- {
		line := lines[li]
		end := len(line)
		for end >= 0 {
			start := strings.LastIndexByte(line[:end], ',') + 1
			hop := strings.TrimSpace(line[start:end])
			end = start - 1
			if hop == "" {
				continue
			}
			a, err := netip.ParseAddr(hop)
			if err != nil || a.Zone() != "" {
				return last
			}
			a = a.Unmap()
			if !r.Trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}

func (r *Resolver) walkForwarded(lines []string, last netip.Addr) netip.Addr {
	for li := len(lines) - 1; li >= 0; li-- {
		nodes, err := ParseForwarded(lines[li])
		if err != nil {
			return last
		}
		for i := len(nodes) - 1; i >= 0; i-- {
			a, ok := NodeAddr(nodes[i])
			if !ok {
				return last
			}
			if !r.Trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}
