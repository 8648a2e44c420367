package cli

import (
	"bytes"
	"strings"
	"testing"
)

// The demo's every printed request answers what it promises, from a
// fresh store, and explain tells the story of the demo's own runs.
func TestDemoCheckPasses(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	var out bytes.Buffer
	root := NewRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"demo", "--check", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--dir", t.TempDir()})
	if err := root.Execute(); err != nil {
		t.Fatalf("demo --check: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), " passed, 0 failed") {
		t.Fatalf("demo output:\n%s", out.String())
	}
}
