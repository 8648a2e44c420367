package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Result is what one example produced when the demo sent it.
type Result struct {
	Example   Example
	Status    int
	Code      string
	DeniedBy  string
	RequestID string
	Err       error
}

// OK reports whether the example produced what it promises.
func (r Result) OK() bool {
	if r.Err != nil || r.Status != r.Example.Status || r.RequestID == "" {
		return false
	}
	if r.Example.Code != "" && r.Code != r.Example.Code {
		return false
	}
	if r.Example.DeniedBy != "" && r.DeniedBy != r.Example.DeniedBy {
		return false
	}
	return true
}

// Send runs one example against the gateway.
func Send(ctx context.Context, client *http.Client, gateway string, e Example) Result {
	res := Result{Example: e}
	var body io.Reader
	if e.Body != "" {
		body = strings.NewReader(e.Body)
	}
	req, err := http.NewRequestWithContext(ctx, e.Method, "http://"+gateway+e.Path, body)
	if err != nil {
		res.Err = err
		return res
	}
	for _, h := range e.Headers {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		res.Err = err
		return res
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	res.Status = resp.StatusCode
	res.RequestID = resp.Header.Get("Pinpoint-Request-Id")
	res.DeniedBy = resp.Header.Get("Pinpoint-Denied-By")
	res.Code = codeOf(data)
	return res
}

// codeOf finds the "code" member of a problem or OpenAI error body.
func codeOf(b []byte) string {
	s := string(b)
	i := strings.Index(s, `"code":"`)
	if i < 0 {
		return ""
	}
	s = s[i+8:]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}

// RunAll sends every example once, in order.
func RunAll(ctx context.Context, p Ports) []Result {
	client := &http.Client{Timeout: 10 * time.Second}
	var out []Result
	for _, e := range Examples(p) {
		out = append(out, Send(ctx, client, p.Gateway, e))
	}
	return out
}

// Print writes the banner: each example's curl, what it shows, and the
// explain command for the demo's own run of it.
func Print(w io.Writer, p Ports, results []Result, bin string) {
	fmt.Fprintf(w, "\npinpoint demo is running.\n\n")
	fmt.Fprintf(w, "  gateway    http://%s\n  admin API  http://%s  (token in the file the CLI reads; see README)\n  upstream   %s  (built-in demo backend)\n  store      %s\n\n", p.Gateway, p.Admin, p.Upstream, p.Store)
	fmt.Fprintf(w, "Paste any of these. Every answer carries Pinpoint-Request-Id; every denial names its layer, code and fix.\n")
	for i, r := range results {
		e := r.Example
		what := "allowed"
		switch {
		case e.Code != "":
			what = fmt.Sprintf("%d %s", e.Status, e.Code)
		case e.DeniedBy == "upstream":
			what = fmt.Sprintf("%d from the upstream itself (Pinpoint-Denied-By: upstream)", e.Status)
		case e.Status != 200:
			what = fmt.Sprint(e.Status)
		}
		fmt.Fprintf(w, "\n%2d. %s  →  %s\n    %s\n", i+1, e.Title, what, e.Curl(p.Gateway))
		switch {
		case r.Err != nil:
			fmt.Fprintf(w, "    (the demo's own run of this failed: %v)\n", r.Err)
		case !r.OK():
			fmt.Fprintf(w, "    (the demo's own run answered %d %s, not what was expected)\n", r.Status, r.Code)
		}
		if r.RequestID != "" {
			fmt.Fprintf(w, "    %s explain %s\n", bin, r.RequestID)
		}
	}
	fmt.Fprintf(w, "\nThe explain commands show the demo's own run of each request; for yours, take the id from the\nPinpoint-Request-Id header. Press Ctrl-C to stop.\n")
}
