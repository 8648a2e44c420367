package probe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Response is a response under analysis: received now, recorded in a HAR
// or saved to a file.
type Response struct {
	Status     int
	StatusText string
	Header     http.Header
	Body       []byte
	// NetError is set when the client got no HTTP response at all
	// (a HAR entry blocked by CORS, a refused connection).
	NetError string
	// Source notes where a fixture came from (its "# source:" line).
	Source string
}

// Success is a 2xx or 3xx: the request was not denied.
func (r *Response) Success() bool { return r != nil && r.Status >= 200 && r.Status < 400 }

// maxResponseSize bounds saved responses and bodies read from the wire.
const maxResponseSize = 16 << 20

// ParseRawResponse reads a raw HTTP response (curl -i or -D output, or a
// fixture file). Leading "# key: value" lines are fixture metadata; a
// "# source:" line is kept on the response. Bare LF line endings and
// HTTP/2 status lines ("HTTP/2 403") are accepted because curl writes
// them.
func ParseRawResponse(data []byte) (*Response, map[string]string, error) {
	if len(data) > maxResponseSize {
		return nil, nil, errors.New("response file too large")
	}
	meta := map[string]string{}
	br := bufio.NewReader(bytes.NewReader(data))
	var status string
	for {
		line, err := br.ReadString('\n')
		t := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(t, "#") {
			k, v, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(t, "#")), ":")
			meta[strings.TrimSpace(strings.ToLower(k))] = strings.TrimSpace(v)
		} else if strings.TrimSpace(t) != "" {
			status = t
			break
		}
		if err != nil {
			return nil, meta, errors.New("no HTTP status line")
		}
	}
	for {
		r, err := parseOne(status, br)
		if err != nil {
			return nil, meta, err
		}
		r.Source = meta["source"]
		// curl -i after a 100 Continue or a proxy CONNECT prints several
		// header blocks; the last one is the answer.
		if (r.Status == 100 || strings.Contains(strings.ToLower(status), "connection established")) && len(r.Body) > 0 {
			rest := bufio.NewReader(bytes.NewReader(r.Body))
			line, _ := rest.ReadString('\n')
			if strings.HasPrefix(line, "HTTP/") {
				status = strings.TrimRight(line, "\r\n")
				br = rest
				continue
			}
		}
		return r, meta, nil
	}
}

func parseOne(status string, br *bufio.Reader) (*Response, error) {
	proto, rest, ok := strings.Cut(status, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return nil, fmt.Errorf("not an HTTP status line: %q", truncate(status, 80))
	}
	codeStr, text, _ := strings.Cut(strings.TrimSpace(rest), " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil || code < 100 || code > 999 {
		return nil, fmt.Errorf("bad status code in %q", truncate(status, 80))
	}
	r := &Response{Status: code, StatusText: strings.TrimSpace(text), Header: http.Header{}}
	for {
		line, err := br.ReadString('\n')
		t := strings.TrimRight(line, "\r\n")
		if t == "" {
			break
		}
		if name, value, ok := strings.Cut(t, ":"); ok && !strings.ContainsAny(name, " \t") {
			r.Header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
		}
		if err != nil {
			return r, nil
		}
	}
	body, _ := readAllLimit(br, maxResponseSize)
	r.Body = body
	return r, nil
}

func readAllLimit(br *bufio.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(br, limit))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
