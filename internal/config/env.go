package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandEnv replaces ${NAME} and ${NAME:-default} in every scalar value of
// the tree, so secrets can stay out of the file. "$${" is a literal "${".
// An unset variable without a default is an error naming its line: a
// missing secret must not silently become an empty string.
func expandEnv(node *yaml.Node, lookup func(string) (string, bool), es *Errors) {
	if node == nil {
		return
	}
	if node.Kind == yaml.ScalarNode && strings.Contains(node.Value, "${") {
		out, err := expandString(node.Value, lookup)
		if err != nil {
			*es = append(*es, &Error{Line: node.Line, Msg: err.Error()})
		} else {
			node.Value = out
		}
	}
	for _, c := range node.Content {
		expandEnv(c, lookup, es)
	}
}

func expandString(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		expr := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if name == "" {
			return "", fmt.Errorf("empty variable name in ${%s}", expr)
		}
		v, ok := lookup(name)
		switch {
		case ok && v != "":
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		case ok:
			// Set but empty: keep it empty, the user chose it.
		default:
			return "", fmt.Errorf("environment variable %s is not set (use ${%s:-default} for an optional value)", name, name)
		}
		s = s[i+end+1:]
	}
}

func osLookup(name string) (string, bool) { return os.LookupEnv(name) }
