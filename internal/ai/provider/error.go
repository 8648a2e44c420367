package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Error is a failed provider call: an HTTP answer other than 2xx (Status
// set) or a transport failure (Status 0, Err set).
type Error struct {
	Status int
	// Message, Type and Code are the provider's own, from its error body.
	Message string
	Type    string
	Code    string
	// RetryAfter is the provider's Retry-After header, passed on.
	RetryAfter string
	Timeout    bool
	Err        error
}

func (e *Error) Error() string {
	switch {
	case e.Status != 0:
		return fmt.Sprintf("provider answered %d: %s", e.Status, e.Message)
	case e.Timeout:
		return "provider timed out: " + errString(e.Err)
	}
	return "provider unreachable: " + errString(e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// Retryable reports whether another provider may be tried: rate limits,
// server errors, timeouts and connection failures are the provider's
// trouble, not the request's.
func (e *Error) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// KeyRejected reports whether the credential itself was refused, so the key
// is taken out of rotation.
func (e *Error) KeyRejected() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// Reason is a short label for traces and the Pinpoint-AI-Fallbacks header.
func (e *Error) Reason() string {
	switch {
	case e.Status != 0:
		return fmt.Sprint(e.Status)
	case e.Timeout:
		return "timeout"
	}
	return "unreachable"
}

// Transport wraps a transport failure, telling timeouts apart.
func Transport(ctx context.Context, err error) *Error {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	if ctx.Err() == context.Canceled {
		timeout = false
	}
	return &Error{Timeout: timeout, Err: err}
}

// FromResponse reads a non-2xx answer into an Error. The body is parsed in
// the common error envelopes: OpenAI/Mistral {"error":{"message","type",
// "code"}}, Anthropic {"type":"error","error":{"type","message"}}, Gemini
// {"error":{"code","message","status"}}, Ollama {"error":"…"}.
func FromResponse(resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	e := &Error{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 {
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
			Status  string          `json:"status"`
		}
		if env.Error[0] == '"' {
			_ = json.Unmarshal(env.Error, &e.Message)
		} else if json.Unmarshal(env.Error, &obj) == nil {
			e.Message, e.Type = obj.Message, obj.Type
			if e.Type == "" {
				e.Type = obj.Status
			}
			var code string
			if json.Unmarshal(obj.Code, &code) == nil {
				e.Code = code
			}
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300]
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// Do sends req and turns transport failures and non-2xx answers into
// *Error. On success the caller owns resp.Body.
func Do(ctx context.Context, client *http.Client, req *http.Request) (*http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, Transport(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, FromResponse(resp)
	}
	return resp, nil
}

// BadRequest is a request that cannot be expressed in the provider's API
// (a content part or tool choice it lacks): the caller's to fix, so it is
// answered as ai_request_invalid and not tried elsewhere.
type BadRequest struct {
	Provider string
	Err      error
}

func (e *BadRequest) Error() string { return e.Provider + ": " + e.Err.Error() }
func (e *BadRequest) Unwrap() error { return e.Err }
