package csrf

import (
	"bytes"
	"crypto/subtle"
	"io"
	"mime"
	"mime/multipart"
	"net/url"

	"pinpoint/internal/pipeline"
)

// maxTokenField bounds how much of a multipart part is read for the token.
const maxTokenField = 4096

// formValue finds the token in a form body without consuming it: the body
// is buffered by the request and put back for the upstream.
func (t *tokenMode) formValue(r *pipeline.Request) string {
	ct := r.HTTP.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		body, err := r.Body()
		if err != nil {
			return ""
		}
		// ParseQuery returns what it parsed before a bad pair, which is
		// fine: a token we cannot read is reported as missing.
		q, _ := url.ParseQuery(string(body))
		return q.Get(t.formField)
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return ""
		}
		body, err := r.Body()
		if err != nil {
			return ""
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for {
			p, err := mr.NextPart()
			if err != nil {
				return ""
			}
			if p.FormName() == t.formField && p.FileName() == "" {
				v, _ := io.ReadAll(io.LimitReader(p, maxTokenField))
				return string(v)
			}
		}
	}
	return ""
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
