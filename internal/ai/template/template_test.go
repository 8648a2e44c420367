package template

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRenderInsertsValuesAsData(t *testing.T) {
	t.Parallel()
	tm, err := Compile("t", Spec{Model: "m", Messages: []MessageSpec{{Role: "system", Content: "S"}, {Role: "user", Content: "A {{a}} B {{ b }}"}}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := tm.Render(map[string]json.RawMessage{"a": json.RawMessage(`"{{b}}\"}]"`), "b": json.RawMessage(`{"x":[1, 2]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[1].Content.Text != `A {{b}}"}] B {"x":[1,2]}` {
		t.Errorf("got %q", msgs[1].Content.Text)
	}
	var ve *VarError
	if _, err := tm.Render(map[string]json.RawMessage{"a": json.RawMessage(`1`)}); !errors.As(err, &ve) || len(ve.Missing) != 1 || ve.Missing[0] != "b" {
		t.Errorf("missing: %v", err)
	}
	if _, err := tm.Render(map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`true`), "c": json.RawMessage(`1`)}); !errors.As(err, &ve) || len(ve.Unknown) != 1 {
		t.Errorf("unknown: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec Spec
		want string
	}{
		{Spec{Messages: []MessageSpec{{Role: "user", Content: "x"}}}, "model is required"},
		{Spec{Model: "m"}, "at least one message"},
		{Spec{Model: "m", Messages: []MessageSpec{{Role: "tool", Content: "x"}}}, "role"},
		{Spec{Model: "m", Messages: []MessageSpec{{Role: "user", Content: "{{a-b}}"}}}, "variable name"},
		{Spec{Model: "m", Messages: []MessageSpec{{Role: "user", Content: "{{a"}}}, "never closed"},
		{Spec{Model: "m", Messages: []MessageSpec{{Role: "user", Content: "x"}}, Defaults: map[string]string{"y": "1"}}, "no variable"},
	}
	for _, tc := range cases {
		if _, err := Compile("t", tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
}
