package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"time"

	"pinpoint/internal/clientip"
	"pinpoint/internal/h1client"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// hopHeaders are connection-level headers a proxy must not forward
// (RFC 9110 section 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// idempotent methods may be retried on another target (RFC 9110 9.2.2).
func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return r.Header.Get("Idempotency-Key") != ""
}

func copyHeaderWithoutHop(dst, src http.Header, keepUpgrade bool) {
	var connTokens []string
	for _, v := range src["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				connTokens = append(connTokens, textproto.CanonicalMIMEHeaderKey(t))
			}
		}
	}
	for k, vv := range src {
		if isHop(k) {
			continue
		}
		skip := false
		for _, t := range connTokens {
			if k == t {
				skip = true
				break
			}
		}
		if skip {
			continue
		}
		dst[k] = vv
	}
	if keepUpgrade {
		dst["Connection"] = []string{"Upgrade"}
		dst["Upgrade"] = src["Upgrade"]
	}
}

func isHop(k string) bool {
	for _, h := range hopHeaders {
		if k == h {
			return true
		}
	}
	return false
}

func isUpgrade(h http.Header) bool {
	return h.Get("Upgrade") != "" && headerHasToken(h, "Connection", "upgrade")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// proxyResult is what the call log needs from a proxied exchange.
type proxyResult struct {
	status   int
	bytesOut int64
	target   string
}

// proxy forwards the request to the route's upstream and streams the
// answer back. Upstream failures are verdicts (502/504/503), never a 403.
func (g *runtime) proxy(w http.ResponseWriter, pr *pipeline.Request, rt *route, extra http.Header) proxyResult {
	in := pr.HTTP
	p := rt.pool
	ctx := in.Context()
	if total := p.cfg.Timeouts.Total; total > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, total)
		defer cancel()
	}
	upgrade := isUpgrade(in.Header)
	outHeader := make(http.Header, len(in.Header)+6)
	copyHeaderWithoutHop(outHeader, in.Header, upgrade)
	g.setForwarded(outHeader, in, pr)

	path := in.URL.Path
	if rt.cfg.StripPrefix && rt.stripPrefix != "" {
		path = strings.TrimPrefix(path, rt.stripPrefix)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
	}
	replayable := in.Body == nil || in.Body == http.NoBody || pr.BodyBuffered()
	retries := 0
	if idempotent(in) && !upgrade && p.cfg.Retries > 0 {
		// A retry must resend the body: buffer a small one of known
		// length; a large or streamed one is sent once, never replayed.
		if !replayable && in.ContentLength >= 0 && in.ContentLength <= maxReplayBody {
			_, err := pr.Body()
			replayable = err == nil
		}
		if replayable {
			retries = p.cfg.Retries
		}
	}
	if !upgrade && inlineable(pr) {
		if _, err := pr.Body(); err != nil {
			// The client stopped sending its body (or went away): the
			// upstream is not involved and nobody is left to answer.
			pr.AddStep("upstream", verdict.Verdict{Outcome: verdict.Error, Detail: "client closed the connection"}.With("error", err.Error()), 0)
			return proxyResult{status: 499}
		}
	}
	var tried map[*target]bool
	var lastErr error
	var lastTarget *target
	for attempt := 0; attempt <= retries; attempt++ {
		t := p.pick(tried)
		if t == nil {
			break
		}
		lastTarget = t
		u := *t.url
		u.Path = singleJoin(t.url.Path, path)
		u.RawPath = ""
		u.RawQuery = in.URL.RawQuery
		out := &http.Request{
			Method: in.Method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: outHeader, Body: in.Body, ContentLength: in.ContentLength, Host: t.url.Host,
		}
		if in.Body == nil || in.ContentLength == 0 && in.Body == http.NoBody {
			out.Body = nil
		}
		if out.Body != nil && pr.BodyBuffered() {
			// The body is in memory: each attempt sends it from the
			// start, and the upstream client writes it with the head.
			b, _ := pr.Body()
			out.Body = h1client.NewBytes(b)
			if !h1client.Takes(out) {
				// net/http's Transport (TLS upstreams) rewinds through GetBody.
				out.GetBody = func() (io.ReadCloser, error) { return h1client.NewBytes(b), nil }
			}
		}
		out = out.WithContext(ctx)
		t.outstanding.Add(1)
		start := time.Now()
		resp, err := p.h1.RoundTrip(out)
		t.outstanding.Add(-1)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil && in.Context().Err() != nil {
				// The client went away: nothing to answer.
				pr.AddStep("upstream", verdict.Verdict{Outcome: verdict.Error, Rule: t.name, Detail: "client closed the connection"}.With("error", err.Error()), time.Since(start))
				return proxyResult{status: 499, target: t.name}
			}
			p.report(t, false)
			step := verdict.Verdict{Outcome: verdict.Error, Rule: t.name, Detail: "attempt failed"}.With("error", err.Error())
			pr.AddStep("upstream", step, time.Since(start))
			if tried == nil {
				tried = map[*target]bool{}
			}
			tried[t] = true
			if isTimeout(err) {
				break
			}
			continue
		}
		p.report(t, resp.StatusCode < 500)
		pr.Upstream = t.name
		pr.UpstreamStatus = resp.StatusCode
		return g.writeUpstreamResponse(w, pr, resp, t, extra, time.Since(start))
	}
	var v verdict.Verdict
	var malformed *h1client.BadResponse
	switch {
	case lastTarget == nil:
		v = verdict.Denied("no_healthy_upstream", p.name, "Every target of upstream \""+p.name+"\" is marked unhealthy.")
	case errors.As(lastErr, &malformed):
		v = verdict.Denied("upstream_bad_response", p.name, "The upstream service sent a malformed response: "+malformed.Reason+".").With("target", lastTarget.name).With("error", lastErr.Error())
	case isTimeout(lastErr):
		v = verdict.Denied("upstream_timeout", p.name, "The upstream service did not answer in time.").With("target", lastTarget.name).With("error", lastErr.Error())
	default:
		v = verdict.Denied("upstream_unreachable", p.name, "The gateway could not reach the upstream service.").With("target", lastTarget.name).With("error", lastErr.Error())
	}
	v.Layer = "upstream"
	if lastTarget != nil {
		pr.Upstream = lastTarget.name
	}
	pr.AddStep("upstream", v, 0)
	applyHeaders(w.Header(), extra)
	pr.Deny(w, v)
	return proxyResult{status: v.Resolved().Status}
}

// inlineBody is the largest body read before calling the upstream.
const inlineBody = 64 << 10

// inlineable reports whether the request body should be read into memory
// before the upstream is called. The transport sends an in-memory body of
// known length in the same write as the request head; any other body makes
// it flush the head first and copy the body with a second write, and each
// write is a system call — on loopback the largest single cost of a
// proxied POST. Bodies of unknown or large size still stream, and so does
// an Expect: 100-continue request, so the upstream still decides whether
// the client sends its body.
func inlineable(pr *pipeline.Request) bool {
	in := pr.HTTP
	n := in.ContentLength
	if n <= 0 || n > inlineBody || pr.BodyBuffered() || (pr.MaxBody > 0 && n > pr.MaxBody) {
		return false
	}
	_, expect := in.Header["Expect"]
	return !expect
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "timeout awaiting response headers")
}

func singleJoin(a, b string) string {
	if a == "" || a == "/" {
		return b
	}
	return strings.TrimSuffix(a, "/") + "/" + strings.TrimPrefix(b, "/")
}

func (g *runtime) setForwarded(h http.Header, in *http.Request, pr *pipeline.Request) {
	peer := in.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	// The names are canonical constants, so the map is written directly
	// and the values share one allocation (this runs for every request).
	vals := make([]string, 6)
	set := func(i int, name, v string) {
		vals[i] = v
		h[name] = vals[i : i+1 : i+1]
	}
	// X-Forwarded-For is appended to only when the peer is a trusted
	// proxy; otherwise whatever the client sent is replaced, so the
	// upstream cannot be fooled by a forged chain.
	if prior := in.Header["X-Forwarded-For"]; len(prior) > 0 && g.peerTrusted(in) {
		set(0, "X-Forwarded-For", strings.Join(prior, ", ")+", "+peer)
	} else {
		set(0, "X-Forwarded-For", peer)
	}
	set(1, "X-Forwarded-Proto", proto)
	set(2, "X-Forwarded-Host", in.Host)
	fwdFor := pr.ClientIP.String()
	if pr.ClientIP.Is6() {
		fwdFor = `"[` + fwdFor + `]"`
	}
	set(3, "Forwarded", "for="+fwdFor+";host=\""+in.Host+"\";proto="+proto)
	set(4, verdict.HeaderRequestID, pr.ID)
	set(5, "X-Request-Id", pr.ID)
}

func (g *runtime) peerTrusted(in *http.Request) bool {
	return g.clientIP.Trusted(clientip.Peer(in.RemoteAddr))
}

func applyHeaders(dst, src http.Header) {
	for k, vv := range src {
		dst[k] = vv
	}
}

// mergeHeaders adds the headers of one layer's verdict to those of earlier
// layers. Headers several layers may set (Vary, Set-Cookie, the RateLimit
// fields) accumulate; any other header is replaced by the later layer.
func mergeHeaders(dst, src http.Header) {
	for k, vv := range src {
		switch k {
		case "Vary", "Set-Cookie", "Ratelimit", "Ratelimit-Policy":
			dst[k] = append(dst[k], vv...)
		default:
			dst[k] = vv
		}
	}
}

// maxReplayBody is the largest body buffered so that an idempotent request
// can be retried on another target.
const maxReplayBody = 1 << 20

// denialCapture is how much of an upstream's 401/403/429 body the trace
// keeps, so `pinpoint explain` can show what the upstream said.
const denialCapture = 512

func (g *runtime) writeUpstreamResponse(w http.ResponseWriter, pr *pipeline.Request, resp *http.Response, t *target, extra http.Header, d time.Duration) proxyResult {
	defer resp.Body.Close()
	h := w.Header()
	applyHeaders(h, extra)
	copyHeaderWithoutHop(h, resp.Header, resp.StatusCode == http.StatusSwitchingProtocols)
	h.Set(verdict.HeaderRequestID, pr.ID)
	upstreamDenial := resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode == 429
	if upstreamDenial {
		h.Set(verdict.HeaderDeniedBy, "upstream")
		pr.DeniedBy = "upstream"
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		pr.AddStep("upstream", verdict.Verdict{Outcome: verdict.Allow, Rule: t.name}.With("status", "101").With("upgrade", resp.Header.Get("Upgrade")), d)
		return g.switchProtocols(w, pr, resp, t)
	}
	var captured []byte
	step := verdict.Verdict{Outcome: verdict.Allow, Rule: t.name}.With("status", statusString(resp.StatusCode))
	w.WriteHeader(resp.StatusCode)
	flush := resp.ContentLength == -1 || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n int64
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
	}
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			if upstreamDenial && len(captured) < denialCapture {
				captured = append(captured, buf[:min(k, denialCapture-len(captured))]...)
			}
			if _, werr := w.Write(buf[:k]); werr != nil {
				break
			}
			n += int64(k)
			if flush {
				_ = rc.Flush()
			}
		}
		if err != nil {
			if err != io.EOF {
				step = step.With("body_error", err.Error())
			}
			break
		}
	}
	if upstreamDenial {
		step.Outcome = verdict.Deny
		step.Detail = "the upstream itself answered " + itoa(resp.StatusCode) + "; passed through unchanged"
		if wa := resp.Header.Get("WWW-Authenticate"); wa != "" {
			step = step.With("www-authenticate", wa)
		}
		step = step.With("body", redactBody(string(captured)))
	}
	pr.AddStep("upstream", step, d)
	return proxyResult{status: resp.StatusCode, bytesOut: n, target: t.name}
}

// statusStrings holds the decimal text of every valid status code, so
// recording a response's status in the trace does not allocate.
var statusStrings = func() (t [600]string) {
	for i := 100; i < len(t); i++ {
		t[i] = itoa(i)
	}
	return t
}()

func statusString(code int) string {
	if code >= 100 && code < len(statusStrings) {
		return statusStrings[code]
	}
	return itoa(code)
}

// switchProtocols joins client and upstream connections after a 101
// (WebSocket) and copies bytes both ways until either side closes.
func (g *runtime) switchProtocols(w http.ResponseWriter, pr *pipeline.Request, resp *http.Response, t *target) proxyResult {
	backConn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		return proxyResult{status: http.StatusBadGateway, target: t.name}
	}
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		backConn.Close()
		return proxyResult{status: http.StatusInternalServerError, target: t.name}
	}
	defer conn.Close()
	defer backConn.Close()
	_ = conn.SetDeadline(time.Time{})
	resp.Header = w.Header().Clone()
	resp.Body = nil
	if err := resp.Write(brw); err != nil {
		return proxyResult{status: 101, target: t.name}
	}
	if err := brw.Flush(); err != nil {
		return proxyResult{status: 101, target: t.name}
	}
	errc := make(chan error, 2)
	var n int64
	go func() {
		k, err := io.Copy(backConn, readerWithBuffered(brw.Reader, conn))
		_ = k
		errc <- err
	}()
	go func() {
		k, err := io.Copy(conn, backConn)
		n = k
		errc <- err
	}()
	<-errc
	return proxyResult{status: 101, bytesOut: n, target: t.name}
}

func readerWithBuffered(br *bufio.Reader, conn net.Conn) io.Reader {
	if br.Buffered() > 0 {
		return io.MultiReader(io.LimitReader(br, int64(br.Buffered())), conn)
	}
	return conn
}
