package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"pinpoint/internal/verdict"
)

// Options is everything `pinpoint probe` accepts. Exactly one input is
// given: Args (curl-style flags and URL), Curl (a pasted command) or
// HARFile.
type Options struct {
	Args         []string
	Curl         string
	HARFile      string
	HAREntry     int
	ResponseFile string
	LogFiles     []string

	Offline     bool
	Yes         bool
	AllowReplay int

	JSON  bool
	Color bool
	// NoColor is --no-color; the CLI sets Color from the terminal unless
	// it is given.
	NoColor bool
	Out     io.Writer
	// Err receives what is shown before sending and the prompt context.
	Err io.Writer
	// Confirm asks the user on a terminal; nil when there is none.
	Confirm func(prompt string) bool

	// Test and platform hooks; zero values use the real thing.
	Client   *http.Client
	Env      func(string) string
	Resolver *net.Resolver
	Now      func() time.Time
	ReadFile func(string) ([]byte, error)
	Timeout  time.Duration
}

// Run probes and writes the report. It returns nil when the request
// succeeded and an *ExitError with code 1 (cause found) or 2 (none
// found) otherwise; other errors are input errors.
func Run(ctx context.Context, o Options) error {
	rep, err := Probe(ctx, o)
	if err != nil {
		return err
	}
	out := o.Out
	if out == nil {
		out = os.Stdout
	}
	if o.JSON {
		if err := rep.WriteJSON(out); err != nil {
			return err
		}
	} else {
		rep.WriteText(out, o.Color)
	}
	if rep.ExitCode != 0 {
		return &ExitError{Code: rep.ExitCode}
	}
	return nil
}

// loadInput turns the options into the request and, for HAR or a saved
// response, the recorded response.
func loadInput(o Options) (*Request, *Response, error) {
	readFile := o.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	n := 0
	for _, set := range []bool{len(o.Args) > 0, o.Curl != "", o.HARFile != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, nil, errors.New("give exactly one of: curl-style arguments (URL, -X, -H, -d …), --curl \"curl …\" or --har FILE")
	}
	var (
		req  *Request
		resp *Response
		err  error
	)
	popts := ParseOptions{ReadFile: readFile}
	switch {
	case o.HARFile != "":
		data, rerr := readFile(o.HARFile)
		if rerr != nil {
			return nil, nil, rerr
		}
		var list []HAREntrySummary
		req, resp, list, err = ParseHAR(data, o.HAREntry)
		if err != nil && len(list) > 0 {
			var b strings.Builder
			for _, e := range list {
				fmt.Fprintf(&b, "\n  %3d  %-7s %3d %s", e.Index, e.Method, e.Status, truncate(redactURL(e.URL), 100))
			}
			err = fmt.Errorf("%w; entries:%s", err, b.String())
		}
	case o.Curl != "":
		req, err = ParseCurl(o.Curl, popts)
	default:
		req, err = ParseArgs(o.Args, popts)
	}
	if err != nil {
		return nil, nil, err
	}
	if o.ResponseFile != "" {
		data, rerr := readFile(o.ResponseFile)
		if rerr != nil {
			return nil, nil, rerr
		}
		resp, _, err = ParseRawResponse(data)
		if err != nil {
			return nil, nil, fmt.Errorf("--response: %w", err)
		}
	}
	return req, resp, nil
}

// Probe walks the checks and returns the report without printing it.
func Probe(ctx context.Context, o Options) (*Report, error) {
	req, resp, err := loadInput(o)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	recorded := resp != nil
	c := &collector{}
	checkRequest(c, req)

	// A recorded response (HAR or --response) is analysed as is: sending
	// the request again would be a second POST the user never asked for.
	offline := o.Offline || recorded
	sender, err := NewSender(req, SenderOptions{Offline: offline, Yes: o.Yes, AllowReplay: o.AllowReplay,
		Confirm: o.Confirm, Show: o.Err, Client: o.Client, Env: o.Env, Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	var notes []string
	if !offline {
		r, serr := sender.SendOriginal(ctx, req)
		switch {
		case errors.Is(serr, ErrDeclined):
			notes = append(notes, "the request was not sent; only offline checks ran")
			c.step(PhaseServer, "response", Skip, "request not sent")
		case serr != nil:
			c.step(PhaseServer, "response", Fail, serr.Error())
			c.find(Finding{ID: "path.connect", Title: "No HTTP response: " + shortNetError(serr), Confidence: 85, Phase: PhasePath,
				Evidence: []string{serr.Error()}, Fix: "Check the host and port, a firewall or VPN, and the proxy settings listed below."})
		default:
			resp = r
		}
	} else if !recorded {
		c.step(PhaseServer, "response", Skip, "offline and no --response FILE")
	}

	var serverDate time.Time
	if resp != nil {
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			serverDate = d
		}
	}
	tok := checkCredentials(c, req, now(), serverDate)

	if resp != nil {
		analyseResponse(c, req, resp, tok)
	}

	// Isolation: only when there is a denial to explain and sending is on.
	if resp != nil && denied(resp) && !sender.Offline() {
		var optsResp, getResp *Response
		optsResp, _ = sender.SendSafe(ctx, preflight(req), "OPTIONS preflight as a browser would send it")
		getMethod := "GET"
		if req.Method == "GET" {
			getMethod = "HEAD"
		}
		getResp, _ = sender.SendSafe(ctx, bodyless(req, getMethod), getMethod+" of the same URL")
		analyseSafe(c, req, resp, optsResp, getResp)
		if o.AllowReplay > 0 && !isSafeMethod(req.Method) {
			for _, v := range replayVariations(req) {
				if sender.ReplaysLeft() == 0 {
					break
				}
				got, gerr := sender.SendReplay(ctx, v.req, v.purpose)
				analyseReplay(c, req, resp, v, got, gerr)
			}
		} else if !isSafeMethod(req.Method) {
			c.step(PhaseIsolation, "replays of the "+req.Method, Skip, "not sent without --allow-replay N (they may create data)")
		}
	} else if resp != nil && denied(resp) {
		c.step(PhaseIsolation, "variations", Skip, "nothing sent (offline, recorded response or not confirmed)")
	}

	// The path.
	if u, err := req.ParsedURL(); err == nil {
		checkProxyEnv(c, u, o.Env)
		if !sender.Offline() {
			res := o.Resolver
			if res == nil {
				res = net.DefaultResolver
			}
			checkDNS(ctx, c, u, res)
			checkTLS(ctx, c, u, req.Insecure)
		} else {
			c.step(PhasePath, "DNS and TLS", Skip, "offline")
		}
	}
	checkRedirect(c, req, resp)
	checkCDN(c, resp)

	// Server logs.
	path := "/"
	if u, err := req.ParsedURL(); err == nil && u.Path != "" {
		path = u.Path
	}
	var hits []LogHit
	readFile := o.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	for _, f := range o.LogFiles {
		data, err := readFile(f)
		if err != nil {
			c.step(PhaseLogs, f, Fail, err.Error())
			continue
		}
		hits = append(hits, MatchLog(f, data, req.Method, path)...)
	}
	analyseLogs(c, hits, o.LogFiles, path)

	crossCheck(c, resp)

	rep := &Report{
		Request: RequestView{Method: req.Method, URL: redactURL(req.URL), Headers: MaskedHeaders(req.Header), Source: req.Source},
		Sent:    sender.Exchanges(),
		Notes:   notes,
	}
	if rep.Sent == nil {
		rep.Sent = []Exchange{}
	}
	if len(req.Body) > 0 {
		rep.Request.Body = maskBody(req.Body)
	}
	if resp != nil {
		rep.Response = &ResponseView{Status: resp.Status, StatusText: resp.StatusText, Headers: MaskedHeaders(resp.Header),
			Body: truncate(strings.TrimSpace(string(resp.Body)), 300), NetError: resp.NetError, Recorded: recorded}
	}
	rep.Checklist = c.steps
	sortSteps(rep.Checklist)
	findings := ranked(c.findings)
	cause := false
	for _, f := range findings {
		cause = cause || f.Confidence >= 50
	}
	switch {
	// A POST answered with 301/302/303 "succeeds" at the HTTP level but
	// its body is lost on the way, so it is a cause, not a success.
	case resp != nil && resp.NetError == "" && resp.Success() && !c.has("path.redirect_post_to_get"):
		rep.Outcome, rep.ExitCode = OutcomeSuccess, 0
		rep.Diagnosis = []Finding{}
	case cause:
		rep.Outcome, rep.ExitCode = OutcomeCauseFound, 1
		rep.Diagnosis = findings
	default:
		rep.Outcome, rep.ExitCode = OutcomeNoCause, 2
		rep.Diagnosis = findings
	}
	if rep.Diagnosis == nil {
		rep.Diagnosis = []Finding{}
	}
	return rep, nil
}

func sortSteps(s []Step) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && phaseOrder[s[j].Phase] < phaseOrder[s[j-1].Phase]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func shortNetError(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "no such host"):
		return "the host name does not resolve"
	case strings.Contains(s, "timeout"), strings.Contains(s, "deadline"):
		return "timed out"
	case strings.Contains(s, "certificate"):
		return "TLS certificate problem"
	}
	return truncate(s, 80)
}

// analyseResponse reads what the server says: status, fingerprints,
// pinpoint's own problem body and the WWW-Authenticate challenge.
func analyseResponse(c *collector, req *Request, resp *Response, tok *JWT) {
	if resp.NetError != "" {
		c.step(PhaseServer, "response", Fail, "no response: "+resp.NetError)
		title := "The browser got no response (" + resp.NetError + ")"
		fix := "Check the browser console: a CORS error means the server must allow the page's origin; ERR_BLOCKED_BY_CLIENT is an ad blocker."
		if strings.Contains(resp.NetError, "ERR_FAILED") || strings.Contains(strings.ToLower(resp.NetError), "cors") {
			title = "The browser blocked the request (most likely CORS: the preflight or response lacked Access-Control-Allow-Origin)"
		}
		c.find(Finding{ID: "browser.no_response", Title: title, Confidence: 70, Phase: PhaseServer, Evidence: []string{"HAR entry status 0, _error " + resp.NetError}, Fix: fix})
		return
	}
	st := Pass
	if denied(resp) {
		st = Fail
	} else if resp.Status >= 300 {
		st = Info
	}
	c.step(PhaseServer, "response", st, fmt.Sprintf("%d %s", resp.Status, resp.StatusText))
	if p, ok := ParsePinpointProblem(resp); ok {
		addPinpointFinding(c, p)
	}
	matches := MatchFingerprints(resp)
	vendors := map[string]bool{}
	var names []string
	for _, m := range matches {
		f := m.Fingerprint
		if f.ID == "pinpoint.problem" || vendors[f.Vendor] {
			continue
		}
		vendors[f.Vendor] = true
		names = append(names, f.ID)
		ev := append([]string(nil), m.Evidence...)
		if f.Code != "" {
			ev = append(ev, "in pinpoint's catalog: "+catalogTitle(f.Code))
		}
		if resp.Source != "" {
			ev = append(ev, "response source: "+resp.Source)
		}
		if denied(resp) || f.ID == "ratelimit.headers" {
			c.find(Finding{ID: f.ID, Title: f.Vendor + ": " + f.Cause, Confidence: f.Confidence, Phase: PhaseServer, Evidence: ev, Fix: f.Fix})
		}
	}
	if len(names) > 0 {
		c.step(PhaseServer, "fingerprint", Info, strings.Join(names, ", "))
	} else if denied(resp) {
		c.step(PhaseServer, "fingerprint", Warn, "no known fingerprint; Server: "+resp.Header.Get("Server"))
	}
	checkWWWAuthenticate(c, resp, tok)
}

func addPinpointFinding(c *collector, p *Problem) {
	title := p.Title
	fix := p.Hint
	if e, ok := verdict.Lookup(p.Code); ok {
		if title == "" {
			title = e.Title
		}
		if fix == "" {
			fix = e.Fix
		}
	}
	who := "the pinpoint gateway"
	if p.DeniedBy == "upstream" {
		who = "the upstream behind pinpoint (pinpoint forwarded its answer)"
	}
	ev := []string{fmt.Sprintf("denied by %s, layer %q, code %q", who, p.Layer, p.Code)}
	if p.Rule != "" {
		ev = append(ev, "rule "+p.Rule)
	}
	if p.Detail != "" {
		ev = append(ev, "detail: "+p.Detail)
	}
	f := Finding{ID: "pinpoint." + p.Code, Title: "pinpoint " + p.Layer + " layer: " + title, Confidence: 97, Phase: PhaseServer, Evidence: ev, Fix: fix}
	if p.RequestID != "" {
		f.Explain = "pinpoint explain " + p.RequestID
	}
	c.step(PhaseServer, "pinpoint problem", Fail, p.Layer+"/"+p.Code)
	c.find(f)
}

// crossCheck raises findings that two independent steps agree on.
func crossCheck(c *collector, resp *Response) {
	if resp == nil {
		return
	}
	switch resp.Status {
	case 401:
		c.boost("token.expired", 95, "the server answered 401")
		c.boost("token.not_yet_valid", 90, "the server answered 401")
		c.boost("request.auth_", 90, "the server answered 401")
		c.boost("request.basic_", 90, "the server answered 401")
		c.boost("request.secret_pasted_badly", 90, "the server answered 401")
	case 415, 400, 422:
		c.boost("request.json_as_form", 88, fmt.Sprintf("the server answered %d", resp.Status))
		c.boost("request.json_invalid", 90, fmt.Sprintf("the server answered %d", resp.Status))
		c.boost("request.multipart_", 88, fmt.Sprintf("the server answered %d", resp.Status))
		c.boost("request.content_type_missing", 75, fmt.Sprintf("the server answered %d", resp.Status))
	case 403, 419:
		for _, id := range []string{"django.csrf", "drf.csrf", "rails.csrf", "laravel.419", "spring.forbidden", "express.csurf", "aspnet.antiforgery"} {
			if c.has(id) {
				c.boost("csrf.", 85, "the server's answer is a CSRF refusal")
			}
		}
	}
	if !denied(resp) {
		return
	}
	if c.has("token.expired") && (resp.Status == 403) {
		c.boost("token.expired", 85, "the server refused the request")
	}
}
