package authz

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/ext"
)

// Request is what a policy sees as `request`. The variables are Go structs
// exposed as CEL object types, so the checker knows their fields and a
// typo such as request.bdy is rejected at config load.
type Request struct {
	Method  string            `cel:"method"`
	Path    string            `cel:"path"`
	Host    string            `cel:"host"`
	Headers map[string]string `cel:"headers"`
	Query   map[string]string `cel:"query"`
	Params  map[string]string `cel:"params"`
	IP      string            `cel:"ip"`
	// Body is the parsed JSON body (dyn): its fields are only known at
	// run time, so a missing one is a policy_error naming it.
	Body any `cel:"body"`
}

// Consumer is what a policy sees as `consumer`.
type Consumer struct {
	ID       string         `cel:"id"`
	Name     string         `cel:"name"`
	Tenant   string         `cel:"tenant"`
	Roles    []string       `cel:"roles"`
	Scopes   []string       `cel:"scopes"`
	Metadata map[string]any `cel:"metadata"`
	Method   string         `cel:"method"`
	Subject  string         `cel:"subject"`
	KeyID    string         `cel:"key_id"`
	Claims   map[string]any `cel:"claims"`
}

// Route is what a policy sees as `route`.
type Route struct {
	ID      string `cel:"id"`
	Tenant  string `cel:"tenant"`
	Service string `cel:"service"`
}

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeOf(Request{}), reflect.TypeOf(Consumer{}), reflect.TypeOf(Route{}), ext.ParseStructTags(true)),
		cel.Variable("request", cel.ObjectType("authz.Request")),
		cel.Variable("consumer", cel.ObjectType("authz.Consumer")),
		cel.Variable("route", cel.ObjectType("authz.Route")),
		ext.Strings(),
	)
}

// policy is a compiled policy.
type policy struct {
	name    string
	src     string
	prg     cel.Program
	traced  cel.Program
	methods map[string]bool
	shadow  bool
	message string
	// paths are the field paths the expression reads (request.body.x,
	// consumer.id), with the AST ids whose values the trace reports.
	paths []fieldPath
	// needs says which costly inputs to build.
	needsBody, needsHeaders, needsQuery bool
}

type fieldPath struct {
	id   int64
	text string
}

func compile(env *cel.Env, src string) (cel.Program, cel.Program, []fieldPath, error) {
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, nil, nil, iss.Err()
	}
	if checked.OutputType() != cel.BoolType && checked.OutputType() != cel.DynType {
		return nil, nil, nil, fmt.Errorf("the expression yields %s; a policy must yield bool", checked.OutputType())
	}
	prg, err := env.Program(checked)
	if err != nil {
		return nil, nil, nil, err
	}
	// A second program tracks every intermediate value; it only runs
	// after a denial, to fill the trace, so passing requests do not pay.
	traced, err := env.Program(checked, cel.EvalOptions(cel.OptTrackState))
	if err != nil {
		return nil, nil, nil, err
	}
	return prg, traced, selectPaths(checked.NativeRep().Expr()), nil
}

// selectPaths lists the longest field chains rooted at a variable, e.g.
// request.body.owner_id and consumer.id.
func selectPaths(root ast.Expr) []fieldPath {
	var all []fieldPath
	ast.PostOrderVisit(root, ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.SelectKind {
			return
		}
		if s, ok := chain(e); ok {
			all = append(all, fieldPath{id: e.ID(), text: s})
		}
	}))
	var out []fieldPath
	seen := map[string]bool{}
	for _, p := range all {
		longer := false
		for _, q := range all {
			if strings.HasPrefix(q.text, p.text+".") {
				longer = true
				break
			}
		}
		if !longer && !seen[p.text] {
			seen[p.text] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].text < out[j].text })
	return out
}

func chain(e ast.Expr) (string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent(), true
	case ast.SelectKind:
		s := e.AsSelect()
		base, ok := chain(s.Operand())
		if !ok {
			return "", false
		}
		return base + "." + s.FieldName(), true
	}
	return "", false
}

// celValue converts decoded JSON (numbers as json.Number) to values CEL
// adapts: integers as int64, others as float64.
func celValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = celValue(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = celValue(e)
		}
		return t
	}
	return v
}

// shortValue renders an evaluated value for the trace, cut short.
func shortValue(v any) string {
	s := fmt.Sprintf("%v", v)
	if b, err := json.Marshal(v); err == nil {
		s = string(b)
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
