package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Errors a Sender returns instead of sending. They are the safety rules;
// every request the probe makes goes through Sender so none can bypass
// them.
var (
	ErrOffline  = errors.New("offline: nothing is sent")
	ErrDeclined = errors.New("the original request was not confirmed")
	ErrBudget   = errors.New("replay budget exhausted")
	ErrHost     = errors.New("refusing a host the user did not name")
	ErrResent   = errors.New("the original request is sent at most once")
	ErrUnsafe   = errors.New("not a safe request")
)

// Exchange records one request the probe sent, for the report.
type Exchange struct {
	Purpose string `json:"purpose"`
	Kind    string `json:"kind"` // original, safe or replay
	Method  string `json:"method"`
	URL     string `json:"url"`
	Status  int    `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Sender sends requests under the safety rules: the original at most
// once and only when confirmed, safe variations (OPTIONS/HEAD/GET without
// a body) freely, replays of the original only within the budget, and
// nothing when offline or to another host.
type Sender struct {
	client  *http.Client
	host    string
	offline bool
	yes     bool
	confirm func(prompt string) bool
	show    io.Writer

	replayLeft   int
	replayUsed   int
	originalSent bool
	declined     bool
	exchanges    []Exchange
}

// SenderOptions configures a Sender.
type SenderOptions struct {
	Offline     bool
	Yes         bool
	AllowReplay int
	// Confirm asks the user; nil means there is no terminal to ask.
	Confirm func(prompt string) bool
	// Show receives each request before it is sent (stderr in the CLI).
	Show io.Writer
	// Client overrides the HTTP client (tests); its redirect policy is
	// replaced so redirects are never followed behind the rules' back.
	Client  *http.Client
	Env     func(string) string
	Timeout time.Duration
}

// NewSender builds a Sender for the request the user named.
func NewSender(named *Request, o SenderOptions) (*Sender, error) {
	u, err := named.ParsedURL()
	if err != nil {
		return nil, err
	}
	c := o.Client
	if c == nil {
		c = &http.Client{Transport: newTransport(named.Insecure, o.Env)}
	} else {
		cc := *c
		c = &cc
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	c.Timeout = o.Timeout
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.Show == nil {
		o.Show = io.Discard
	}
	if o.AllowReplay < 0 {
		o.AllowReplay = 0
	}
	return &Sender{client: c, host: hostKey(u), offline: o.Offline, yes: o.Yes, confirm: o.Confirm,
		show: o.Show, replayLeft: o.AllowReplay}, nil
}

// proxyConfig reads the proxy variables the user's own client would use.
func proxyConfig(env func(string) string) *httpproxy.Config {
	if env == nil {
		return httpproxy.FromEnvironment()
	}
	get := func(a, b string) string {
		if v := env(a); v != "" {
			return v
		}
		return env(b)
	}
	return &httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
}

func newTransport(insecure bool, env func(string) string) *http.Transport {
	pf := proxyConfig(env).ProxyFunc()
	return &http.Transport{
		Proxy:                 func(r *http.Request) (*url.URL, error) { return pf(r.URL) },
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // mirrors the user's curl -k
	}
}

// hostKey normalises host:port so https://x and https://X:443 are the
// same host.
func hostKey(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(host, port)
}

// Exchanges returns what was sent, in order.
func (s *Sender) Exchanges() []Exchange { return append([]Exchange(nil), s.exchanges...) }

// Declined reports whether the user said no (or could not be asked).
func (s *Sender) Declined() bool { return s.declined }

// ReplaysUsed is the number of replays sent.
func (s *Sender) ReplaysUsed() int { return s.replayUsed }

// ReplaysLeft is what remains of the --allow-replay budget.
func (s *Sender) ReplaysLeft() int { return s.replayLeft }

// Offline reports whether sending is off (offline flag or declined).
func (s *Sender) Offline() bool { return s.offline || s.declined }

func (s *Sender) checkHost(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		u, err = (&Request{URL: raw}).ParsedURL()
		if err != nil {
			return err
		}
	}
	if hostKey(u) != s.host {
		return fmt.Errorf("%w: %s", ErrHost, u.Host)
	}
	return nil
}

// SendOriginal sends the user's request once. An unsafe method is shown
// and needs --yes or a yes on the terminal; without a terminal the
// request is not sent, because silence is not consent.
func (s *Sender) SendOriginal(ctx context.Context, r *Request) (*Response, error) {
	if s.offline {
		return nil, ErrOffline
	}
	if s.originalSent {
		return nil, ErrResent
	}
	if err := s.checkHost(r.URL); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.show, "→ the request as it will be sent (secrets masked):\n%s", showRequest(r))
	if !isSafeMethod(r.Method) && !s.yes {
		prompt := fmt.Sprintf("Send this %s once to %s? A %s may create or change data. [y/N] ", r.Method, s.host, r.Method)
		if s.confirm == nil || !s.confirm(prompt) {
			s.declined = true
			fmt.Fprintln(s.show, "  not sent (pass --yes to send it, or --offline with --response FILE)")
			return nil, ErrDeclined
		}
	}
	s.originalSent = true
	return s.do(ctx, r, "the original request", "original")
}

// SendSafe sends a request that changes nothing on a server: OPTIONS,
// HEAD or GET, without a body, to the named host.
func (s *Sender) SendSafe(ctx context.Context, r *Request, purpose string) (*Response, error) {
	if s.offline || s.declined {
		return nil, ErrOffline
	}
	if !isSafeMethod(r.Method) || r.Method == "TRACE" || len(r.Body) > 0 {
		return nil, ErrUnsafe
	}
	if err := s.checkHost(r.URL); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.show, "→ safe check: %s %s (%s)\n", r.Method, redactURL(r.URL), purpose)
	return s.do(ctx, r, purpose, "safe")
}

// SendReplay sends a variation of the original, counted against the
// --allow-replay budget and announced with a warning.
func (s *Sender) SendReplay(ctx context.Context, r *Request, purpose string) (*Response, error) {
	if s.offline || s.declined {
		return nil, ErrOffline
	}
	if s.replayLeft <= 0 {
		return nil, ErrBudget
	}
	if err := s.checkHost(r.URL); err != nil {
		return nil, err
	}
	s.replayLeft--
	s.replayUsed++
	fmt.Fprintf(s.show, "→ replay %d (%s): %s %s — warning: this may create data on the server\n", s.replayUsed, purpose, r.Method, redactURL(r.URL))
	return s.do(ctx, r, purpose, "replay")
}

func (s *Sender) do(ctx context.Context, r *Request, purpose, kind string) (*Response, error) {
	ex := Exchange{Purpose: purpose, Kind: kind, Method: r.Method, URL: redactURL(r.URL)}
	resp, err := s.roundTrip(ctx, r)
	if err != nil {
		ex.Error = err.Error()
	} else {
		ex.Status = resp.Status
	}
	s.exchanges = append(s.exchanges, ex)
	return resp, err
}

func (s *Sender) roundTrip(ctx context.Context, r *Request) (*Response, error) {
	u, err := r.ParsedURL()
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Host") && len(vs) > 0 {
			hr.Host = vs[0]
			continue
		}
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		hr.Header[k] = append([]string(nil), vs...)
	}
	if hr.Header.Get("User-Agent") == "" {
		// Go's default agent is blocked by some WAFs; curl's is what
		// the user's own attempt most likely sent.
		hr.Header.Set("User-Agent", "curl/8 (pinpoint probe)")
	}
	res, err := s.client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseSize))
	text := strings.TrimSpace(strings.TrimPrefix(res.Status, fmt.Sprint(res.StatusCode)))
	return &Response{Status: res.StatusCode, StatusText: text, Header: res.Header, Body: b}, nil
}

// redactURL masks credentials in userinfo and key-like query values.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		if isSensitiveHeader(k) || strings.EqualFold(k, "key") || strings.EqualFold(k, "sig") || strings.EqualFold(k, "signature") || strings.EqualFold(k, "X-Amz-Signature") {
			for i := range vs {
				vs[i] = Mask(vs[i])
			}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// showRequest renders a request for the user with secrets masked.
func showRequest(r *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s\n", r.Method, redactURL(r.URL))
	for _, h := range MaskedHeaders(r.Header) {
		fmt.Fprintf(&b, "  %s\n", h)
	}
	if len(r.Body) > 0 {
		fmt.Fprintf(&b, "  body (%d bytes): %s\n", len(r.Body), maskBody(r.Body))
	}
	return b.String()
}
