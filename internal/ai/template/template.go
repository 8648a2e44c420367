package template

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"pinpoint/internal/ai/chat"
)

// Spec is a template as written in config.
type Spec struct {
	Model       string        `yaml:"model"`
	Messages    []MessageSpec `yaml:"messages"`
	Temperature *float64      `yaml:"temperature"`
	TopP        *float64      `yaml:"top_p"`
	MaxTokens   *int          `yaml:"max_tokens"`
	Stop        []string      `yaml:"stop"`
	// Defaults give values to optional variables.
	Defaults map[string]string `yaml:"defaults"`
}

// MessageSpec is one templated message.
type MessageSpec struct {
	Role    string `yaml:"role"`
	Content string `yaml:"content"`
}

// segment is literal text or a variable reference.
type segment struct {
	text     string
	variable string
}

type message struct {
	role     string
	segments []segment
}

// Template is a compiled template.
type Template struct {
	Name string
	Spec Spec
	msgs []message
	// Vars are the variable names, sorted.
	Vars []string
	uses map[string]bool
}

// Compile parses every placeholder once, so a broken template is a config
// error and rendering is only concatenation.
func Compile(name string, s Spec) (*Template, error) {
	if s.Model == "" {
		return nil, fmt.Errorf("model is required")
	}
	if len(s.Messages) == 0 {
		return nil, fmt.Errorf("messages: at least one message is required")
	}
	t := &Template{Name: name, Spec: s, uses: map[string]bool{}}
	for i, m := range s.Messages {
		switch m.Role {
		case "system", "user", "assistant", "developer":
		default:
			return nil, fmt.Errorf("messages[%d].role: %q is not one of system, user, assistant", i, m.Role)
		}
		segs, err := parse(m.Content)
		if err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		for _, sg := range segs {
			if sg.variable != "" {
				t.uses[sg.variable] = true
			}
		}
		t.msgs = append(t.msgs, message{role: m.Role, segments: segs})
	}
	for k := range s.Defaults {
		if !t.uses[k] {
			return nil, fmt.Errorf("defaults.%s: the messages use no variable %q", k, k)
		}
	}
	for v := range t.uses {
		t.Vars = append(t.Vars, v)
	}
	sort.Strings(t.Vars)
	return t, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func parse(s string) ([]segment, error) {
	var out []segment
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				out = append(out, segment{text: s})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{text: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q opens a placeholder that is never closed with }}", abbreviate(s[i:]))
		}
		name := strings.TrimSpace(rest[:j])
		if !validName(name) {
			return nil, fmt.Errorf("placeholder {{%s}}: a variable name is letters, digits and _", rest[:j])
		}
		out = append(out, segment{variable: name})
		s = rest[j+2:]
	}
}

func abbreviate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// VarError is a request whose variables do not fit the template.
type VarError struct {
	Missing []string
	Unknown []string
	// Invalid names a variable whose value is not a string, number or
	// boolean, or is not valid.
	Invalid string
	Known   []string
}

func (e *VarError) Error() string {
	switch {
	case len(e.Missing) > 0:
		return fmt.Sprintf("missing template variable(s) %s; the template needs %s", strings.Join(e.Missing, ", "), strings.Join(e.Known, ", "))
	case len(e.Unknown) > 0:
		return fmt.Sprintf("unknown template variable(s) %s; the template uses %s", strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
	}
	return e.Invalid
}

// Render builds the messages from a JSON object of variables. Strings are
// taken as they are; numbers and booleans as their JSON text; objects and
// arrays as compact JSON text.
func (t *Template) Render(vars map[string]json.RawMessage) ([]chat.Message, error) {
	values := make(map[string]string, len(t.Vars))
	var unknown []string
	for k, raw := range vars {
		if !t.uses[k] {
			unknown = append(unknown, k)
			continue
		}
		v, err := value(raw)
		if err != nil {
			return nil, &VarError{Invalid: fmt.Sprintf("variable %q: %v", k, err), Known: t.Vars}
		}
		if v != nil {
			values[k] = *v
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &VarError{Unknown: unknown, Known: t.Vars}
	}
	var missing []string
	for _, name := range t.Vars {
		if _, ok := values[name]; ok {
			continue
		}
		if d, ok := t.Spec.Defaults[name]; ok {
			values[name] = d
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		return nil, &VarError{Missing: missing, Known: t.Vars}
	}
	out := make([]chat.Message, len(t.msgs))
	for i, m := range t.msgs {
		var b strings.Builder
		for _, sg := range m.segments {
			if sg.variable != "" {
				b.WriteString(values[sg.variable])
			} else {
				b.WriteString(sg.text)
			}
		}
		out[i] = chat.Message{Role: m.role, Content: chat.TextContent(b.String())}
	}
	return out, nil
}

// value turns one JSON value into the text inserted; null counts as not
// given.
func value(raw json.RawMessage) (*string, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "null" || s == "":
		return nil, nil
	case s[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return &v, nil
	case s[0] == '{' || s[0] == '[':
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(v)
		str := string(b)
		return &str, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("not a JSON value")
	}
	return &s, nil
}

// Request builds the chat request for rendered messages.
func (t *Template) Request(msgs []chat.Message) *chat.Request {
	return &chat.Request{Model: t.Spec.Model, Messages: msgs, Temperature: t.Spec.Temperature, TopP: t.Spec.TopP, MaxTokens: t.Spec.MaxTokens, Stop: t.Spec.Stop}
}
