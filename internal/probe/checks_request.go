package probe

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"
)

// checkRequest verifies the request itself before anything is sent: most
// 403s and 415s on a POST are in the request, not the server.
func checkRequest(c *collector, r *Request) {
	checkMethod(c, r)
	checkURL(c, r)
	checkContentType(c, r)
	checkAuthorization(c, r)
	checkCSRF(c, r)
	checkOrigin(c, r)
}

func checkMethod(c *collector, r *Request) {
	switch {
	case r.Method == "":
		c.step(PhaseRequest, "method", Fail, "no method")
	case (r.Method == "GET" || r.Method == "HEAD") && len(r.Body) > 0:
		c.step(PhaseRequest, "method", Warn, r.Method+" with a body: most servers and proxies drop or reject it")
		c.find(Finding{ID: "request.get_with_body", Title: r.Method + " request carries a body", Confidence: 40, Phase: PhaseRequest,
			Evidence: []string{fmt.Sprintf("%s with %d body bytes", r.Method, len(r.Body))},
			Fix:      "Send the body with POST (curl -d implies POST unless -X GET or -G is given)."})
	case !isSafeMethod(r.Method) && len(r.Body) == 0 && r.Method != "DELETE":
		c.step(PhaseRequest, "method", Info, r.Method+" without a body")
	default:
		c.step(PhaseRequest, "method", Pass, r.Method)
	}
}

func checkURL(c *collector, r *Request) {
	raw := r.URL
	if raw != strings.TrimSpace(raw) {
		c.step(PhaseRequest, "URL", Fail, "leading or trailing whitespace in the URL")
		c.find(Finding{ID: "request.url_whitespace", Title: "The URL has stray whitespace", Confidence: 60, Phase: PhaseRequest,
			Evidence: []string{fmt.Sprintf("URL is %q", raw)}, Fix: "Remove the whitespace around the URL."})
	}
	u, err := r.ParsedURL()
	if err != nil {
		c.step(PhaseRequest, "URL", Fail, err.Error())
		c.find(Finding{ID: "request.url_invalid", Title: "The URL does not parse", Confidence: 90, Phase: PhaseRequest,
			Evidence: []string{err.Error()}, Fix: "Quote the URL in the shell and check it character by character."})
		return
	}
	var problems []string
	if !strings.Contains(raw, "://") {
		problems = append(problems, "no scheme (curl assumes http://)")
	}
	if strings.Contains(u.Path, "//") {
		problems = append(problems, "double slash in the path "+u.Path)
	}
	if strings.ContainsAny(u.Path, " \t") {
		problems = append(problems, "unencoded whitespace in the path")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) && !isSafeMethod(r.Method) {
		problems = append(problems, "plain http: if the server redirects to https, clients re-send the "+r.Method+" as a GET")
	}
	if len(problems) > 0 {
		c.step(PhaseRequest, "URL", Warn, strings.Join(problems, "; "))
		return
	}
	c.step(PhaseRequest, "URL", Pass, u.Scheme+"://"+u.Host+u.EscapedPath())
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// checkContentType compares the declared type with what the body is.
func checkContentType(c *collector, r *Request) {
	ct := r.Header.Get("Content-Type")
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 {
		if ct != "" && !isSafeMethod(r.Method) {
			c.step(PhaseRequest, "Content-Type", Info, ct+" with an empty body")
		} else {
			c.step(PhaseRequest, "Content-Type", Skip, "no body")
		}
		return
	}
	looksJSON := (body[0] == '{' || body[0] == '[') && json.Valid(body)
	if ct == "" {
		c.step(PhaseRequest, "Content-Type", Warn, "body sent without a Content-Type")
		c.find(Finding{ID: "request.content_type_missing", Title: "The body has no Content-Type", Confidence: 55, Phase: PhaseRequest,
			Evidence: []string{fmt.Sprintf("%d body bytes, no Content-Type header", len(r.Body))},
			Fix:      "Add -H 'Content-Type: application/json' (or the type the API documents)."})
		return
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		c.step(PhaseRequest, "Content-Type", Fail, fmt.Sprintf("%q does not parse: %v", ct, err))
		c.find(Finding{ID: "request.content_type_malformed", Title: "The Content-Type header is malformed", Confidence: 70, Phase: PhaseRequest,
			Evidence: []string{fmt.Sprintf("Content-Type: %s (%v)", ct, err)}, Fix: "Send a valid media type, e.g. application/json."})
		return
	}
	switch {
	case looksJSON && mt == "application/x-www-form-urlencoded":
		c.step(PhaseRequest, "Content-Type", Fail, "JSON body sent as application/x-www-form-urlencoded")
		c.find(Finding{ID: "request.json_as_form", Title: "JSON sent as a form (curl -d's default Content-Type)", Confidence: 75, Phase: PhaseRequest,
			Evidence: []string{"body is valid JSON", "Content-Type: " + ct},
			Fix:      "Add -H 'Content-Type: application/json' or use curl --json; a server parsing a form sees one odd field and no data."})
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if !json.Valid(body) {
			var v any
			msg := "invalid JSON"
			if err := json.Unmarshal(body, &v); err != nil {
				msg = err.Error()
			}
			c.step(PhaseRequest, "Content-Type", Fail, "declared JSON but the body is not valid JSON: "+msg)
			c.find(Finding{ID: "request.json_invalid", Title: "The JSON body is malformed", Confidence: 80, Phase: PhaseRequest,
				Evidence: []string{msg, "body starts: " + truncate(maskBody(r.Body), 60)},
				Fix:      "Fix the JSON; in a shell, single-quote the body so $ and \" survive (or use --data-binary @file)."})
			return
		}
		c.step(PhaseRequest, "Content-Type", Pass, "JSON body, "+ct)
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			c.step(PhaseRequest, "Content-Type", Fail, "multipart without a boundary parameter")
			c.find(Finding{ID: "request.multipart_no_boundary", Title: "multipart/form-data without a boundary", Confidence: 80, Phase: PhaseRequest,
				Evidence: []string{"Content-Type: " + ct},
				Fix:      "Do not set Content-Type by hand for multipart: let curl -F (or the HTTP library) add it with the boundary."})
			return
		}
		if !bytes.Contains(r.Body, []byte("--"+params["boundary"])) {
			c.step(PhaseRequest, "Content-Type", Fail, "the body does not contain the declared boundary")
			c.find(Finding{ID: "request.multipart_boundary_mismatch", Title: "The multipart boundary does not match the body", Confidence: 75, Phase: PhaseRequest,
				Evidence: []string{"boundary=" + params["boundary"]}, Fix: "Let the client build the multipart body and header together."})
			return
		}
		c.step(PhaseRequest, "Content-Type", Pass, mt+" with boundary")
	case mt == "application/x-www-form-urlencoded":
		if _, err := url.ParseQuery(string(body)); err != nil {
			c.step(PhaseRequest, "Content-Type", Warn, "form body does not parse as a form: "+err.Error())
			return
		}
		c.step(PhaseRequest, "Content-Type", Pass, "form body")
	default:
		c.step(PhaseRequest, "Content-Type", Pass, mt)
	}
	if !utf8.Valid(body) || !isASCII(body) {
		if (strings.HasPrefix(mt, "text/") || mt == "application/x-www-form-urlencoded") && params["charset"] == "" {
			c.step(PhaseRequest, "charset", Warn, "non-ASCII body without a charset parameter; the server may decode it as ISO-8859-1")
		}
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// apiKeyHeaders are the usual names for API keys besides Authorization.
var apiKeyHeaders = []string{"X-Api-Key", "Api-Key", "Apikey", "X-Auth-Token", "X-Access-Token", "Ocp-Apim-Subscription-Key", "X-Goog-Api-Key"}

// checkAuthorization looks for the copy-and-paste damage that makes a
// valid key fail: a missing scheme, quotes, whitespace, a newline.
func checkAuthorization(c *collector, r *Request) {
	auth, has := r.Header["Authorization"]
	if !has || len(auth) == 0 {
		found := ""
		for _, h := range apiKeyHeaders {
			if v := r.Header.Get(h); v != "" {
				found = h
				checkSecretShape(c, h, v)
			}
		}
		if found == "" {
			c.step(PhaseRequest, "Authorization", Info, "no credentials header")
		}
		return
	}
	if len(auth) > 1 {
		c.step(PhaseRequest, "Authorization", Fail, fmt.Sprintf("%d Authorization headers", len(auth)))
		c.find(Finding{ID: "request.auth_duplicate", Title: "More than one Authorization header", Confidence: 70, Phase: PhaseRequest,
			Evidence: []string{fmt.Sprintf("%d Authorization headers sent", len(auth))}, Fix: "Send exactly one Authorization header."})
		return
	}
	v := auth[0]
	if strings.EqualFold(strings.TrimSpace(v), "bearer") {
		c.step(PhaseRequest, "Authorization", Fail, "Bearer with an empty token")
		c.find(Finding{ID: "request.auth_empty", Title: "Bearer with an empty token (an unset shell variable?)", Confidence: 85, Phase: PhaseRequest,
			Evidence: []string{"Authorization: " + v}, Fix: "Check the variable that should hold the token: echo ${#TOKEN}."})
		return
	}
	if checkSecretShape(c, "Authorization", v) {
		return
	}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		title := "Authorization has no scheme"
		fix := "Prefix the credential with its scheme: Authorization: Bearer <token>."
		if strings.Count(v, ".") == 2 && strings.HasPrefix(v, "eyJ") {
			title = "Bearer missing: a JWT sent without the \"Bearer \" prefix"
		}
		c.step(PhaseRequest, "Authorization", Fail, title)
		c.find(Finding{ID: "request.auth_no_scheme", Title: title, Confidence: 80, Phase: PhaseRequest,
			Evidence: []string{"Authorization: " + maskHeaderValue("Authorization", v)}, Fix: fix})
		return
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		if s2, _, ok := strings.Cut(cred, " "); ok && strings.EqualFold(s2, "bearer") {
			c.step(PhaseRequest, "Authorization", Fail, "\"Bearer\" twice")
			c.find(Finding{ID: "request.auth_double_scheme", Title: "Authorization says Bearer twice", Confidence: 85, Phase: PhaseRequest,
				Evidence: []string{"Authorization: Bearer Bearer …"}, Fix: "The variable already contains the scheme; send it once."})
			return
		}
		if scheme != "Bearer" {
			c.step(PhaseRequest, "Authorization", Info, "scheme written "+scheme+" (valid, but some servers compare case-sensitively)")
			return
		}
		c.step(PhaseRequest, "Authorization", Pass, "Bearer "+Mask(cred))
	case "basic":
		dec, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			c.step(PhaseRequest, "Authorization", Fail, "Basic credential is not base64")
			c.find(Finding{ID: "request.basic_not_base64", Title: "Basic credentials are not base64-encoded", Confidence: 85, Phase: PhaseRequest,
				Evidence: []string{"Authorization: Basic " + Mask(cred), err.Error()},
				Fix:      "Use curl -u user:password (it encodes), or base64-encode \"user:password\" yourself."})
			return
		}
		if !bytes.Contains(dec, []byte(":")) {
			c.step(PhaseRequest, "Authorization", Fail, "Basic credential decodes without a ':' between user and password")
			c.find(Finding{ID: "request.basic_no_colon", Title: "Basic credentials are not user:password", Confidence: 80, Phase: PhaseRequest,
				Evidence: []string{"decoded value has no ':'"}, Fix: "Encode \"user:password\", not the password or an API key alone (unless the API says so)."})
			return
		}
		user, _, _ := strings.Cut(string(dec), ":")
		c.step(PhaseRequest, "Authorization", Pass, "Basic for user "+user)
	default:
		c.step(PhaseRequest, "Authorization", Pass, scheme+" "+Mask(cred))
	}
}

// checkSecretShape reports quotes, whitespace and line breaks pasted
// with a credential; it returns true when it found one.
func checkSecretShape(c *collector, name, v string) bool {
	var probs []string
	if strings.ContainsAny(v, "\r\n") {
		probs = append(probs, "contains a line break (a key pasted with its newline)")
	}
	if v != strings.TrimSpace(v) {
		probs = append(probs, "leading or trailing whitespace")
	}
	if strings.ContainsAny(v, `"'`) {
		probs = append(probs, "contains quotes (the shell did not remove them)")
	}
	if strings.Contains(strings.TrimSpace(v), "  ") {
		probs = append(probs, "double space")
	}
	if len(probs) == 0 {
		return false
	}
	c.step(PhaseRequest, name, Fail, strings.Join(probs, "; "))
	c.find(Finding{ID: "request.secret_pasted_badly", Title: name + " value was pasted with extra characters", Confidence: 85, Phase: PhaseRequest,
		Evidence: []string{name + ": " + strings.Join(probs, "; ") + " (value " + Mask(v) + ")"},
		Fix:      "Strip quotes and whitespace from the key, e.g. TOKEN=$(tr -d '\\r\\n\" ' < key.txt)."})
	return true
}
