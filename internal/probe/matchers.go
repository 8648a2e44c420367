package probe

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// matchEnvoyEmpty recognises Envoy's bodiless 403 (ext_authz's default).
func matchEnvoyEmpty(r *Response) (bool, []string) {
	srv := r.Header.Get("Server")
	if !strings.HasPrefix(strings.ToLower(srv), "envoy") || len(strings.TrimSpace(string(r.Body))) > 0 {
		return false, nil
	}
	return true, []string{"status 403", "Server: " + srv, "empty body"}
}

var rlRemainingZero = regexp.MustCompile(`(?i)(?:^|[;,\s])r=0(?:$|[;,\s])|remaining=0\b`)

// matchRateLimit reads Retry-After, the IETF RateLimit fields (both the
// draft's RateLimit-Remaining and the newer RateLimit: "…";r=0) and the
// X-RateLimit-* convention. A 429 alone is enough; on other statuses an
// exhausted allowance must be stated by a header, since many APIs send
// rate-limit headers on every response.
func matchRateLimit(r *Response) (bool, []string) {
	var ev []string
	exhausted := r.Status == 429
	if r.Status == 429 {
		ev = append(ev, "status 429")
	}
	for _, h := range []string{"Retry-After", "Ratelimit", "Ratelimit-Policy", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset",
		"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Rate-Limit-Remaining", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Remaining-Tokens"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		switch {
		case strings.HasSuffix(h, "Remaining") || strings.Contains(h, "Remaining-"):
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n <= 0 {
				exhausted = true
			}
		case h == "Ratelimit":
			if rlRemainingZero.MatchString(v) {
				exhausted = true
			}
		case h == "Retry-After" && r.Status == 503:
			exhausted = true
		}
		ev = append(ev, h+": "+truncate(v, 80))
	}
	if !exhausted || (len(ev) == 1 && r.Status != 429) {
		return false, nil
	}
	return true, ev
}

// Problem is pinpoint's RFC 9457 problem body (or the same members inside
// an OpenAI-style error envelope on AI routes).
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Layer     string `json:"layer"`
	Code      string `json:"code"`
	Rule      string `json:"rule"`
	Hint      string `json:"hint"`
	DeniedBy  string `json:"-"`
}

// ParsePinpointProblem recognises a pinpoint denial: the
// Pinpoint-Denied-By header, or a problem body whose type is under
// /_pinpoint/denials/.
func ParsePinpointProblem(r *Response) (*Problem, bool) {
	if r == nil {
		return nil, false
	}
	deniedBy := r.Header.Get("Pinpoint-Denied-By")
	var p Problem
	body := r.Body
	if len(body) > maxMatchBody {
		body = body[:maxMatchBody]
	}
	if json.Unmarshal(body, &p) != nil || p.Code == "" {
		var env struct {
			Error Problem `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
			p = env.Error
		}
	}
	if deniedBy == "" && !strings.Contains(p.Type, "/_pinpoint/denials/") {
		return nil, false
	}
	if p.RequestID == "" {
		p.RequestID = r.Header.Get("Pinpoint-Request-Id")
	}
	if p.Code == "" && strings.Contains(p.Type, "/_pinpoint/denials/") {
		p.Code = p.Type[strings.LastIndex(p.Type, "/")+1:]
	}
	p.DeniedBy = deniedBy
	if p.Status == 0 {
		p.Status = r.Status
	}
	return &p, true
}

func matchPinpoint(r *Response) (bool, []string) {
	p, ok := ParsePinpointProblem(r)
	if !ok {
		return false, nil
	}
	ev := []string{}
	if p.DeniedBy != "" {
		ev = append(ev, "Pinpoint-Denied-By: "+p.DeniedBy)
	}
	if p.Layer != "" || p.Code != "" {
		ev = append(ev, "layer "+p.Layer+", code "+p.Code)
	}
	if p.Rule != "" {
		ev = append(ev, "rule "+p.Rule)
	}
	if p.Detail != "" {
		ev = append(ev, "detail: "+truncate(p.Detail, 160))
	}
	if p.RequestID != "" {
		ev = append(ev, "request id "+p.RequestID)
	}
	return true, ev
}
