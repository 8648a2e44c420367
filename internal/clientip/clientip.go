package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"pinpoint/internal/config"
)

// Resolver finds the client address of a request.
type Resolver struct {
	trusted []netip.Prefix
	header  string
}

// New builds a resolver from config; bad CIDRs are errors.
func New(c config.ClientIP) (*Resolver, error) {
	r := &Resolver{header: http.CanonicalHeaderKey(c.Header)}
	if r.header == "" {
		r.header = "X-Forwarded-For"
	}
	for _, s := range c.TrustedProxies {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return nil, err
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

// Trusted reports whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address: the peer unless the peer is a
// trusted proxy, in which case the forwarding header is read from the
// right and the first address that is not a trusted proxy wins.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req.RemoteAddr)
	if len(r.trusted) == 0 || !r.Trusted(peer) {
		return peer
	}
	hops := r.hops(req.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// A malformed hop cannot be trusted or skipped; stop at the
			// last address we could verify.
			return peer
		}
		a = a.Unmap()
		if !r.Trusted(a) {
			return a
		}
		peer = a
	}
	return peer
}

func (r *Resolver) hops(h http.Header) []string {
	var out []string
	switch r.header {
	case "Forwarded":
		for _, line := range h.Values("Forwarded") {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if !ok || !strings.EqualFold(k, "for") {
						continue
					}
					v = strings.Trim(v, `"`)
					if strings.HasPrefix(v, "[") {
						if end := strings.IndexByte(v, ']'); end > 0 {
							v = v[1:end]
						}
					} else if host, _, err := net.SplitHostPort(v); err == nil {
						v = host
					}
					out = append(out, v)
				}
			}
		}
	default:
		for _, line := range h.Values(r.header) {
			for _, p := range strings.Split(line, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}
