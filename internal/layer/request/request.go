package request

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/config"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

func init() { pipeline.Register("request", New) }

// Config is the layer's section.
type Config struct {
	MaxBody      config.ByteSize `yaml:"max_body"`
	ContentTypes []string        `yaml:"content_types"`
	JSON         bool            `yaml:"json"`
}

// Layer checks size, content type and JSON well-formedness.
type Layer struct {
	maxBody int64
	types   map[string]bool
	list    string
	json    bool
	// acceptPost is the 415's Accept-Post header, built once: verdicts
	// share it read-only.
	acceptPost http.Header
}

var _ pipeline.Layer = (*Layer)(nil)

// New builds the layer from its config section.
func New(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	var c Config
	if err := b.Decode(node, &c); err != nil {
		return nil, err
	}
	l := &Layer{maxBody: int64(c.MaxBody), json: c.JSON}
	if l.maxBody < 0 {
		return nil, b.Errorf(node, "max_body", "must not be negative")
	}
	for _, t := range c.ContentTypes {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil {
			return nil, b.Errorf(node, "content_types", "invalid media type %q", t)
		}
		if l.types == nil {
			l.types = map[string]bool{}
		}
		l.types[mt] = true
	}
	l.list = strings.Join(c.ContentTypes, ", ")
	if c.JSON && l.types == nil {
		l.types = map[string]bool{"application/json": true}
		l.list = "application/json"
	}
	l.acceptPost = http.Header{"Accept-Post": {l.list}}
	return l, nil
}

// Name is the layer name.
func (l *Layer) Name() string { return "request" }

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength == -1 && r.Body != nil && r.Body != http.NoBody)
}

// Evaluate checks the request.
func (l *Layer) Evaluate(_ context.Context, r *pipeline.Request) verdict.Verdict {
	hr := r.HTTP
	if l.maxBody > 0 {
		r.MaxBody = l.maxBody
	}
	if !hasBody(hr) {
		return verdict.Skipped("no body")
	}
	if l.maxBody > 0 && hr.ContentLength > l.maxBody {
		return tooLarge(hr.ContentLength, l.maxBody)
	}
	if l.types != nil {
		ct := hr.Header.Get("Content-Type")
		mt, ok := mediaType(ct)
		if !ok || !l.types[mt] {
			seen := ct
			if seen == "" {
				seen = "none"
			}
			v := verdict.Denied("unsupported_media_type", "content_types",
				"Content-Type "+seen+" is not accepted here; send one of: "+l.list+".")
			// Both fields in one allocation.
			v.Evidence = []verdict.Field{{Key: "content_type", Value: ct}, {Key: "accepted", Value: l.list}}
			v.Header = l.acceptPost
			return v
		}
	}
	// A body of unknown length must be read to enforce the limit; one of
	// known length streams unless the JSON check needs it.
	if l.json || (l.maxBody > 0 && hr.ContentLength < 0) {
		body, err := r.Body()
		if errors.Is(err, pipeline.ErrBodyTooLarge) {
			return tooLarge(-1, r.MaxBody)
		}
		if err != nil {
			return verdict.Denied("malformed_body", "body", "The request body could not be read completely.").With("error", err.Error())
		}
		if l.json {
			if v, bad := checkJSON(body); bad {
				return v
			}
		}
	}
	return verdict.Pass()
}

func tooLarge(got, limit int64) verdict.Verdict {
	d := fmt.Sprintf("The body is larger than this route's limit of %d bytes.", limit)
	if got > 0 {
		d = fmt.Sprintf("The body is %d bytes; this route accepts at most %d bytes.", got, limit)
	}
	return verdict.Denied("body_too_large", "max_body", d).With("limit", fmt.Sprint(limit))
}

// checkJSON validates a JSON document and names the line and column of
// the first error.
func checkJSON(body []byte) (verdict.Verdict, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		// One document only: trailing data is an error too.
		if _, err2 := dec.Token(); err2 != io.EOF {
			off := dec.InputOffset()
			line, col := position(body, off)
			return malformed(line, col, "unexpected data after the JSON value"), true
		}
		return verdict.Verdict{}, false
	}
	var off int64
	msg := err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.EOF):
		return malformed(1, 1, "the body is empty"), true
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(body))
		msg = "the JSON ends too early (truncated body or a missing closing bracket)"
	default:
		off = dec.InputOffset()
	}
	line, col := position(body, off)
	return malformed(line, col, strings.TrimPrefix(msg, "json: ")), true
}

func malformed(line, col int, msg string) verdict.Verdict {
	return verdict.Denied("malformed_body", "json", fmt.Sprintf("The body is not valid JSON: %s at line %d, column %d.", msg, line, col)).
		With("line", fmt.Sprint(line)).With("column", fmt.Sprint(col))
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (int, int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	prefix := b[:off]
	line := bytes.Count(prefix, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(prefix, '\n')
	if off > 0 && col > 1 && line >= 1 {
		// The decoder's offset is just past the offending byte.
		col--
	}
	return line, col
}

// mediaType is the media type of a Content-Type value, lower case and
// without parameters. The common value, a bare lower-case type/subtype,
// is returned as it is; anything else goes through mime.ParseMediaType,
// which allocates.
func mediaType(ct string) (string, bool) {
	if ct == "" {
		return "", false
	}
	slash := -1
	for i := 0; i < len(ct); i++ {
		c := ct[i]
		switch {
		case c == '/' && slash < 0 && i > 0 && i < len(ct)-1:
			slash = i
		case ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			mt, _, err := mime.ParseMediaType(ct)
			return mt, err == nil
		}
	}
	if slash < 0 {
		mt, _, err := mime.ParseMediaType(ct)
		return mt, err == nil
	}
	return ct, true
}
