package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"pinpoint/internal/verdict"
)

// Result is what one example produced when the demo sent it.
type Result struct {
	Example   Example
	Status    int
	Code      string
	DeniedBy  string
	RequestID string
	Header    http.Header
	Body      []byte
	Err       error
}

// OK reports whether the example produced what it promises.
func (r Result) OK() bool { return r.Problem() == "" }

// Problem says how the answer differs from the example's promise ("" when
// it does not). A gateway denial must carry the whole contract: the
// status, the problem document (or OpenAI's error envelope on AI routes)
// with every member and the catalog's type, title and layer, the request
// id in body and header, Pinpoint-Denied-By: gateway, no-store, and the
// code's own headers (verdict.AnswerHeaders).
func (r Result) Problem() string {
	e := r.Example
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Status != e.Status:
		return fmt.Sprintf("status %d, want %d", r.Status, e.Status)
	case r.RequestID == "":
		return "no Pinpoint-Request-Id header"
	case e.DeniedBy != "" && r.DeniedBy != e.DeniedBy:
		return fmt.Sprintf("Pinpoint-Denied-By %q, want %q", r.DeniedBy, e.DeniedBy)
	case e.Code == "":
		return ""
	}
	if r.DeniedBy != "gateway" {
		return fmt.Sprintf("Pinpoint-Denied-By %q, want gateway", r.DeniedBy)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		return fmt.Sprintf("Cache-Control %q, want no-store", cc)
	}
	for _, h := range verdict.AnswerHeaders(e.Code) {
		if r.Header.Get(h) == "" {
			return "no " + h + " header"
		}
	}
	entry, ok := verdict.Lookup(e.Code)
	if !ok {
		return "code " + e.Code + " is not in the catalog"
	}
	m, err := denialMembers(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return err.Error()
	}
	want := map[string]string{
		"code": e.Code, "request_id": r.RequestID, "layer": entry.Layer,
		"status": fmt.Sprint(r.Status), "type": verdict.TypeURI(e.Code), "title": entry.Title,
	}
	for k, v := range want {
		got, present := m[k]
		if !present {
			continue // a member the format does not have (see denialMembers)
		}
		if got != v {
			return fmt.Sprintf("body %s %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"detail", "hint"} {
		if m[k] == "" {
			return "body lacks " + k
		}
	}
	return ""
}

// denialMembers checks a denial body's format and returns its members as
// strings, keyed as in a problem document: a problem must have every RFC
// 9457 member and pinpoint's extensions; OpenAI's envelope carries the
// same facts under its own names (message for detail, type_uri for type;
// it has no title, status or instance).
func denialMembers(contentType string, body []byte) (map[string]string, error) {
	str := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case float64:
			return fmt.Sprint(int(v))
		}
		return ""
	}
	out := map[string]string{}
	switch contentType {
	case "application/problem+json":
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("problem body is not JSON: %v", err)
		}
		for _, k := range []string{"type", "title", "status", "detail", "instance", "request_id", "layer", "code", "hint"} {
			v, ok := p[k]
			if !ok {
				return nil, fmt.Errorf("problem body lacks %s", k)
			}
			out[k] = str(v)
		}
	case "application/json":
		var env struct {
			Error map[string]any `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
			return nil, fmt.Errorf("error envelope is not {\"error\": {...}}: %s", body)
		}
		for _, k := range []string{"message", "type", "code", "request_id", "layer", "hint", "type_uri"} {
			if _, ok := env.Error[k]; !ok {
				return nil, fmt.Errorf("error envelope lacks %s", k)
			}
		}
		out["code"], out["request_id"], out["layer"] = str(env.Error["code"]), str(env.Error["request_id"]), str(env.Error["layer"])
		out["detail"], out["hint"], out["type"] = str(env.Error["message"]), str(env.Error["hint"]), str(env.Error["type_uri"])
	default:
		return nil, fmt.Errorf("Content-Type %q, want application/problem+json (or application/json on AI routes)", contentType)
	}
	return out, nil
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
	res.Header = resp.Header
	res.Body = data
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
			fmt.Fprintf(w, "    (the demo's own run answered %d %s, not what was expected: %s)\n", r.Status, r.Code, r.Problem())
		}
		if r.RequestID != "" {
			fmt.Fprintf(w, "    %s explain %s\n", bin, r.RequestID)
		}
	}
	fmt.Fprintf(w, "\nThe explain commands show the demo's own run of each request; for yours, take the id from the\nPinpoint-Request-Id header. Press Ctrl-C to stop.\n")
}
