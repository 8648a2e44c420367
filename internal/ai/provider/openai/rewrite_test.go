package openai

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestRewrite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		set  []field
		del  []string
		want string
	}{
		{`{"model":"a/b","messages":[{"role":"user","content":"x \"model\": {}"}],"seed":7}`, []field{{"model", []byte(`"b"`)}}, nil,
			`{"messages":[{"role":"user","content":"x \"model\": {}"}],"seed":7,"model":"b"}`},
		{` { "stream" : true , "stream_options" : {"include_usage":false}, "n": null } `, []field{{"stream_options", []byte(`{"include_usage":true}`)}}, nil,
			`{"stream":true,"n":null,"stream_options":{"include_usage":true}}`},
		{`{"a":[1,{"b":"}"}],"stream_options":{}}`, nil, []string{"stream_options"}, `{"a":[1,{"b":"}"}]}`},
		{`{}`, []field{{"model", []byte(`"m"`)}}, nil, `{"model":"m"}`},
	}
	for _, tc := range cases {
		got, err := rewrite([]byte(tc.in), tc.set, tc.del...)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		var a, b any
		if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(tc.want), &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	if _, err := rewrite([]byte(`["not","an","object"]`), nil); err == nil {
		t.Error("array accepted as an object")
	}
}
