package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// checkProxyEnv reports the proxy variables in use and whether this URL
// goes through one: a corporate proxy that denies a host answers 403
// that looks like the server's.
func checkProxyEnv(c *collector, u *url.URL, env func(string) string) (proxied bool) {
	cfg := proxyConfig(env)
	var set []string
	for name, v := range map[string]string{"HTTP_PROXY": cfg.HTTPProxy, "HTTPS_PROXY": cfg.HTTPSProxy, "NO_PROXY": cfg.NoProxy} {
		if v != "" {
			set = append(set, name+"="+redactURL(v))
		}
	}
	sortStrings(set)
	p, err := cfg.ProxyFunc()(u)
	switch {
	case err != nil:
		c.step(PhasePath, "proxy", Warn, "proxy variable does not parse: "+err.Error())
	case p != nil:
		c.step(PhasePath, "proxy", Info, "requests to "+u.Host+" go through proxy "+redactURL(p.String())+" ("+strings.Join(set, ", ")+")")
		return true
	case len(set) > 0:
		c.step(PhasePath, "proxy", Pass, "direct ("+strings.Join(set, ", ")+" excludes this host)")
	default:
		c.step(PhasePath, "proxy", Pass, "no proxy variables set")
	}
	return false
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// checkDNS resolves the host the way the client will.
func checkDNS(ctx context.Context, c *collector, u *url.URL, res *net.Resolver) {
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		c.step(PhasePath, "DNS", Skip, "the URL names an IP address")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := res.LookupHost(ctx, host)
	if err != nil {
		c.step(PhasePath, "DNS", Fail, err.Error())
		c.find(Finding{ID: "path.dns", Title: "The host name does not resolve", Confidence: 90, Phase: PhasePath,
			Evidence: []string{err.Error()}, Fix: "Check the host name for typos, VPN/split DNS, and /etc/hosts."})
		return
	}
	c.step(PhasePath, "DNS", Pass, host+" → "+strings.Join(addrs, ", "))
}

// checkTLS connects once (no HTTP request) and reports the certificate
// the server presents: subject, issuer (a CDN's CA reveals the CDN) and
// expiry.
func checkTLS(ctx context.Context, c *collector, u *url.URL, insecure bool) {
	if u.Scheme != "https" {
		c.step(PhasePath, "TLS", Skip, "plain http")
		return
	}
	addr := net.JoinHostPort(u.Hostname(), portOf(u))
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true}} //nolint:gosec // we verify below to report, not to trust
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		c.step(PhasePath, "TLS", Fail, err.Error())
		return
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	if len(st.PeerCertificates) == 0 {
		c.step(PhasePath, "TLS", Warn, "no certificate")
		return
	}
	leaf := st.PeerCertificates[0]
	desc := fmt.Sprintf("subject %s, issuer %s, expires %s", leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"))
	if len(leaf.DNSNames) > 0 {
		names := leaf.DNSNames
		if len(names) > 4 {
			names = append(names[:4:4], fmt.Sprintf("+%d more", len(leaf.DNSNames)-4))
		}
		desc += ", names " + strings.Join(names, " ")
	}
	pool := x509.NewCertPool()
	for _, ic := range st.PeerCertificates[1:] {
		pool.AddCert(ic)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Intermediates: pool})
	switch {
	case time.Now().After(leaf.NotAfter):
		c.step(PhasePath, "TLS", Fail, "certificate expired: "+desc)
	case verr != nil && insecure:
		c.step(PhasePath, "TLS", Warn, "not trusted ("+verr.Error()+"), accepted because of -k: "+desc)
	case verr != nil:
		c.step(PhasePath, "TLS", Fail, verr.Error()+": "+desc)
		c.find(Finding{ID: "path.tls", Title: "The server's certificate is not trusted", Confidence: 70, Phase: PhasePath,
			Evidence: []string{verr.Error()}, Fix: "Fix the certificate, or install the (corporate) CA that issued it; avoid -k in production."})
	default:
		c.step(PhasePath, "TLS", Pass, desc)
	}
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// checkRedirect reports a redirect that would turn the POST into a GET:
// 301/302/303 make curl -L and browsers re-send without the body, which
// the next server then refuses or ignores.
func checkRedirect(c *collector, orig *Request, resp *Response) {
	if resp == nil || resp.Status < 300 || resp.Status >= 400 {
		c.step(PhasePath, "redirects", Pass, "none")
		return
	}
	loc := resp.Header.Get("Location")
	switch {
	case resp.Status == 301 || resp.Status == 302 || resp.Status == 303:
		if isSafeMethod(orig.Method) {
			c.step(PhasePath, "redirects", Info, fmt.Sprintf("%d to %s", resp.Status, loc))
			return
		}
		c.step(PhasePath, "redirects", Fail, fmt.Sprintf("%d to %s: a client following it re-sends the %s as a GET without the body", resp.Status, loc, orig.Method))
		c.find(Finding{ID: "path.redirect_post_to_get", Title: fmt.Sprintf("A %d redirect turns the %s into a GET", resp.Status, orig.Method), Confidence: 85, Phase: PhasePath,
			Evidence: []string{fmt.Sprintf("%s %s → %d Location: %s", orig.Method, redactURL(orig.URL), resp.Status, loc)},
			Fix:      "Send the request to the final URL directly (often https:// instead of http://, or with/without a trailing slash or www)."})
	default:
		c.step(PhasePath, "redirects", Info, fmt.Sprintf("%d to %s (method and body are kept)", resp.Status, loc))
	}
}

// cdnHeaders reveal a CDN or load balancer in front of the origin.
var cdnHeaders = []struct{ header, contains, name string }{
	{"Cf-Ray", "", "Cloudflare"},
	{"Server", "cloudflare", "Cloudflare"},
	{"X-Amz-Cf-Id", "", "AWS CloudFront"},
	{"Server", "awselb", "AWS ALB"},
	{"X-Served-By", "cache-", "Fastly"},
	{"X-Fastly-Request-Id", "", "Fastly"},
	{"Server", "akamai", "Akamai"},
	{"X-Akamai-Transformed", "", "Akamai"},
	{"X-Azure-Ref", "", "Azure Front Door"},
	{"Via", "google", "Google Cloud load balancer"},
	{"X-Vercel-Id", "", "Vercel"},
	{"X-Nf-Request-Id", "", "Netlify"},
	{"X-Iinfo", "", "Imperva"},
	{"X-Sucuri-Id", "", "Sucuri"},
	{"Via", "varnish", "Varnish"},
}

func checkCDN(c *collector, resp *Response) {
	if resp == nil {
		return
	}
	seen := map[string]bool{}
	var found []string
	for _, h := range cdnHeaders {
		v := resp.Header.Get(h.header)
		if v == "" || (h.contains != "" && !strings.Contains(strings.ToLower(v), h.contains)) || seen[h.name] {
			continue
		}
		seen[h.name] = true
		found = append(found, h.name+" ("+h.header+": "+truncate(v, 40)+")")
	}
	if len(found) == 0 {
		c.step(PhasePath, "CDN in front", Info, "none detected")
		return
	}
	c.step(PhasePath, "CDN in front", Info, strings.Join(found, "; ")+": a denial may come from the edge, not the origin")
}
