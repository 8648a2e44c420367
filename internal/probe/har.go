package probe

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// maxHARSize bounds what is decoded; a devtools export of a long session
// is tens of MiB.
const maxHARSize = 256 << 20

type harFile struct {
	Log struct {
		Creator struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"creator"`
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harEntry struct {
	StartedDateTime string `json:"startedDateTime"`
	Request         struct {
		Method   string  `json:"method"`
		URL      string  `json:"url"`
		Headers  []harNV `json:"headers"`
		Cookies  []harNV `json:"cookies"`
		PostData *struct {
			MimeType string  `json:"mimeType"`
			Text     string  `json:"text"`
			Params   []harNV `json:"params"`
		} `json:"postData"`
	} `json:"request"`
	Response struct {
		Status     int     `json:"status"`
		StatusText string  `json:"statusText"`
		Headers    []harNV `json:"headers"`
		Content    struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"content"`
		RedirectURL string `json:"redirectURL"`
		// Chromium records why a request got no response (CORS, blocked
		// by client) here; status is then 0.
		Error string `json:"_error"`
	} `json:"response"`
}

// HAREntrySummary lists an entry so a user can pick one with --entry.
type HAREntrySummary struct {
	Index  int    `json:"index"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status"`
}

// ParseHAR reads a HAR export and returns the chosen entry's request and
// its recorded response. entry is 1-based as printed by the listing; 0
// picks the failing request: the last unsafe-method request answered with
// an error (or never answered), then the last failing request of any
// method.
func ParseHAR(data []byte, entry int) (*Request, *Response, []HAREntrySummary, error) {
	if len(data) > maxHARSize {
		return nil, nil, nil, errors.New("HAR file too large")
	}
	var h harFile
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, nil, nil, fmt.Errorf("not a HAR file: %w", err)
	}
	es := h.Log.Entries
	list := make([]HAREntrySummary, len(es))
	for i, e := range es {
		list[i] = HAREntrySummary{Index: i + 1, Method: e.Request.Method, URL: e.Request.URL, Status: e.Response.Status}
	}
	if len(es) == 0 {
		return nil, nil, list, errors.New("the HAR file has no entries")
	}
	idx := -1
	if entry != 0 {
		if entry < 1 || entry > len(es) {
			return nil, nil, list, fmt.Errorf("--entry %d: the HAR has entries 1..%d", entry, len(es))
		}
		idx = entry - 1
	} else {
		idx = pickFailing(es)
		if idx < 0 {
			return nil, nil, list, errors.New("no failing request in the HAR; choose one with --entry N")
		}
	}
	e := es[idx]
	req := newRequest("har")
	req.Method = strings.ToUpper(e.Request.Method)
	req.URL = e.Request.URL
	for _, nv := range e.Request.Headers {
		// HTTP/2 pseudo-headers (:authority, :method) are transport, not
		// part of what the application sees as headers.
		if strings.HasPrefix(nv.Name, ":") || nv.Name == "" {
			continue
		}
		if strings.EqualFold(nv.Name, "Cookie") && req.Header.Get("Cookie") != "" {
			req.Header.Set("Cookie", req.Header.Get("Cookie")+"; "+nv.Value)
			continue
		}
		req.Header.Add(http.CanonicalHeaderKey(nv.Name), nv.Value)
	}
	if req.Header.Get("Cookie") == "" && len(e.Request.Cookies) > 0 {
		var pairs []string
		for _, c := range e.Request.Cookies {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
		req.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	if pd := e.Request.PostData; pd != nil {
		switch {
		case pd.Text != "":
			req.Body = []byte(pd.Text)
		case len(pd.Params) > 0:
			var parts []string
			for _, p := range pd.Params {
				parts = append(parts, p.Name+"="+p.Value)
			}
			req.Body = []byte(strings.Join(parts, "&"))
		}
		if req.Header.Get("Content-Type") == "" && pd.MimeType != "" {
			req.Header.Set("Content-Type", pd.MimeType)
		}
	}
	resp := &Response{Status: e.Response.Status, StatusText: e.Response.StatusText, Header: http.Header{}, NetError: e.Response.Error}
	for _, nv := range e.Response.Headers {
		if strings.HasPrefix(nv.Name, ":") || nv.Name == "" {
			continue
		}
		resp.Header.Add(http.CanonicalHeaderKey(nv.Name), nv.Value)
	}
	body := e.Response.Content.Text
	if e.Response.Content.Encoding == "base64" {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			body = string(b)
		}
	}
	resp.Body = []byte(body)
	if resp.Header.Get("Content-Type") == "" && e.Response.Content.MimeType != "" {
		resp.Header.Set("Content-Type", e.Response.Content.MimeType)
	}
	if resp.Header.Get("Location") == "" && e.Response.RedirectURL != "" {
		resp.Header.Set("Location", e.Response.RedirectURL)
	}
	return req, resp, list, nil
}

func pickFailing(es []harEntry) int {
	failed := func(e harEntry) bool { return e.Response.Status == 0 || e.Response.Status >= 400 }
	for i := len(es) - 1; i >= 0; i-- {
		if !isSafeMethod(es[i].Request.Method) && failed(es[i]) {
			return i
		}
	}
	for i := len(es) - 1; i >= 0; i-- {
		if failed(es[i]) && !strings.EqualFold(es[i].Request.Method, "OPTIONS") {
			return i
		}
	}
	return -1
}

// isSafeMethod is RFC 9110's safe set: requests that change nothing.
func isSafeMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}
