package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a config error at a path and line.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is several config errors, reported together so that one run of
// `config validate` shows every problem.
type Errors []error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// NodeError builds an Error located at node.
func NodeError(node *yaml.Node, path, msg string) error {
	line := 0
	if node != nil {
		line = node.Line
	}
	return &Error{Path: path, Line: line, Msg: msg}
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// DecodeNode decodes node into out and rejects unknown fields. path is the
// config path of node (e.g. "routes[2].waf") used in error messages.
func DecodeNode(node *yaml.Node, out any, path string) error {
	if node == nil || node.Kind == 0 {
		return nil
	}
	if err := node.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var es Errors
			for _, m := range te.Errors {
				if g := yamlLine.FindStringSubmatch(m); g != nil {
					var line int
					fmt.Sscanf(g[1], "%d", &line)
					es = append(es, &Error{Path: path, Line: line, Msg: g[2]})
				} else {
					es = append(es, &Error{Path: path, Msg: m})
				}
			}
			if len(es) == 1 {
				return es[0]
			}
			return es
		}
		return &Error{Path: path, Line: node.Line, Msg: err.Error()}
	}
	var es Errors
	checkUnknown(node, reflect.TypeOf(out), path, &es)
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return es
}

var (
	nodeType        = reflect.TypeOf(yaml.Node{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// checkUnknown walks node alongside type t and reports mapping keys that no
// struct field takes. yaml.v3's Node.Decode has no strict mode, so this is
// done here, with exact lines from the node.
func checkUnknown(node *yaml.Node, t reflect.Type, path string, es *Errors) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || node == nil {
		return
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		checkUnknown(node.Content[0], t, path, es)
		return
	}
	if node.Kind == yaml.AliasNode {
		checkUnknown(node.Alias, t, path, es)
		return
	}
	if t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return
		}
		fields, inlineMap := structFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				if inlineMap {
					continue
				}
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				msg := fmt.Sprintf("unknown field %q", k.Value)
				if s := Suggest(k.Value, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				*es = append(*es, &Error{Path: path, Line: k.Line, Msg: msg})
				continue
			}
			checkUnknown(v, ft, join(path, k.Value), es)
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range node.Content {
			checkUnknown(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), es)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			checkUnknown(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value), es)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// structFields maps yaml keys to field types, following inline structs, and
// reports whether an inline map takes any other key.
func structFields(t reflect.Type) (map[string]reflect.Type, bool) {
	fields := map[string]reflect.Type{}
	inlineMap := false
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				inlineMap = true
				continue
			}
			sub, subMap := structFields(ft)
			for k, v := range sub {
				fields[k] = v
			}
			inlineMap = inlineMap || subMap
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields, inlineMap
}

// Suggest returns the candidate closest to s when it is close enough to be
// a likely typo, or "".
func Suggest(s string, candidates []string) string {
	sort.Strings(candidates)
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) > 8 {
		limit = 3
	}
	if bestD <= limit && bestD < len(s) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	// Rows on the stack for the usual short words (path segments, field
	// names): a no_route denial compares the path with every route.
	var prevRow, curRow [48]int
	prev, cur := prevRow[:], curRow[:]
	if len(b)+1 > len(prevRow) {
		prev, cur = make([]int, len(b)+1), make([]int, len(b)+1)
	}
	prev, cur = prev[:len(b)+1], cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// EditDistance is the Levenshtein distance between a and b.
func EditDistance(a, b string) int { return levenshtein(a, b) }
