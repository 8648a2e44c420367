package logapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"pinpoint/internal/admin"
)

// SimulateRequest is the body of POST /admin/v1/simulate.
type SimulateRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	// As simulates this consumer without a credential.
	As string `json:"as"`
	// From simulates this client address.
	From string `json:"from"`
}

func (h *handlers) simulate(w http.ResponseWriter, r *http.Request) {
	var in SimulateRequest
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	req, err := in.Build(r.Context())
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	// Without "from", the request looks as if it came from the operator's
	// own machine, as a curl from there would.
	req.RemoteAddr = r.RemoteAddr
	sim, err := h.gw.Simulate(r.Context(), req, admin.SimulateOptions{AsConsumer: in.As, From: in.From})
	if err != nil {
		admin.WriteError(w, http.StatusUnprocessableEntity, "simulate_failed", err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, sim)
}

// Build turns the JSON description into the request the gateway would
// have received. Bad input gets a reason naming the field.
func (in *SimulateRequest) Build(ctx context.Context) (*http.Request, error) {
	method := strings.ToUpper(strings.TrimSpace(in.Method))
	if method == "" {
		method = http.MethodGet
		if in.Body != "" {
			method = http.MethodPost
		}
	}
	if strings.ContainsAny(method, " \t\r\n") {
		return nil, fmt.Errorf("method %q is not a valid HTTP method", in.Method)
	}
	if in.URL == "" {
		return nil, errors.New("url is required (the URL the request would be sent to)")
	}
	u, err := url.Parse(in.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q needs a scheme and host, like http://api.example.com/path", in.URL)
	}
	if in.From != "" {
		if _, err := netip.ParseAddr(in.From); err != nil {
			return nil, fmt.Errorf("from %q is not an IP address", in.From)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(in.Body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	for k, v := range in.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(in.Body))
	if in.Body == "" {
		req.Body = http.NoBody
	}
	req.RequestURI = u.RequestURI()
	return req, nil
}
