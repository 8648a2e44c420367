package openai

import (
	"bytes"
	"errors"
)

// field is a top-level member to set, with its raw JSON value.
type field struct {
	key   string
	value []byte
}

var errNotObject = errors.New("body is not a JSON object")

// rewrite returns the JSON object body with the given top-level members
// set (replaced or added) and the del members removed; every other member
// is copied byte for byte. It is a single scan without decoding, because
// re-encoding the caller's whole body was most of the gateway's cost per
// call. body must be valid JSON (the handler has decoded it already).
func rewrite(body []byte, set []field, del ...string) ([]byte, error) {
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, errNotObject
	}
	out := make([]byte, 0, len(body)+64)
	out = append(out, '{')
	first := true
	i++
	for {
		i = skipWS(body, i)
		if i >= len(body) {
			return nil, errNotObject
		}
		if body[i] == '}' {
			break
		}
		if body[i] == ',' {
			i++
			continue
		}
		if body[i] != '"' {
			return nil, errNotObject
		}
		kStart := i
		kEnd := skipString(body, i)
		key := body[kStart+1 : kEnd-1]
		j := skipWS(body, kEnd)
		if j >= len(body) || body[j] != ':' {
			return nil, errNotObject
		}
		vStart := skipWS(body, j+1)
		vEnd := skipValue(body, vStart)
		if vEnd < 0 {
			return nil, errNotObject
		}
		if !matches(key, set, del) {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = append(out, body[kStart:kEnd]...)
			out = append(out, ':')
			out = append(out, body[vStart:vEnd]...)
		}
		i = vEnd
	}
	for _, f := range set {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, '"')
		out = append(out, f.key...)
		out = append(out, '"', ':')
		out = append(out, f.value...)
	}
	return append(out, '}'), nil
}

func matches(key []byte, set []field, del []string) bool {
	for _, f := range set {
		if string(key) == f.key {
			return true
		}
	}
	for _, d := range del {
		if string(key) == d {
			return true
		}
	}
	return false
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at i, or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && !bytes.ContainsRune([]byte(",}] \n\r\t"), rune(b[j])) {
		j++
	}
	return j
}
