package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"pinpoint/internal/admin"
	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

// TestIdentityCommandsEndToEnd drives consumers, keys and subscriptions
// through the real admin API.
func TestIdentityCommandsEndToEnd(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := admin.New(pipeline.NewEnv(nil, st), nil, "tok", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	run := func(stdin string, args ...string) string {
		t.Helper()
		root := NewRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetIn(strings.NewReader(stdin))
		root.SetArgs(append(args, "--admin", srv.URL, "--admin-token", "tok"))
		if err := root.Execute(); err != nil {
			t.Fatalf("pinpoint %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	out := run("", "consumers", "create", "acme", "--tenant", "t1", "--role", "writer", "--meta", "plan=pro")
	if !strings.Contains(out, "ID") || !strings.Contains(out, "acme") || !strings.Contains(out, "writer") {
		t.Fatalf("create table:\n%s", out)
	}
	run("hunter2\n", "consumers", "create", "bob", "--password-stdin")

	var issued identity.IssuedKey
	if err := json.Unmarshal([]byte(run("", "keys", "create", "--consumer", "acme", "--scope", "orders:read", "--ttl", "30d", "--json")), &issued); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(issued.Plaintext, "pp_"+issued.Key.ID+"_") {
		t.Fatalf("issued key %+v", issued)
	}
	human := run("", "keys", "create", "--consumer", "acme", "--scope", "orders:write")
	if !strings.Contains(human, "store this key now") || !strings.Contains(human, "pp_") {
		t.Fatalf("human key output:\n%s", human)
	}
	out = run("", "keys", "scopes", issued.Key.ID, "--scope", "orders:read,orders:write")
	if !strings.Contains(out, "orders:read orders:write") {
		t.Fatalf("scopes:\n%s", out)
	}
	out = run("", "keys", "rotate", issued.Key.ID, "--grace", "2h")
	if !strings.Contains(out, "the old key "+issued.Key.ID+" keeps working until") {
		t.Fatalf("rotate:\n%s", out)
	}
	out = run("", "keys", "list", "--consumer", "acme")
	if !strings.Contains(out, "grace") || strings.Count(out, "\n") != 4 {
		t.Fatalf("list after rotate:\n%s", out)
	}
	if strings.Contains(out, issued.Plaintext[len(issued.Plaintext)-52:]) {
		t.Fatal("keys list shows a secret")
	}
	run("", "keys", "revoke", issued.Key.ID, "--reason", "leaked")
	out = run("", "keys", "expire", issued.Key.ID)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("expire on revoked key:\n%s", out)
	}

	out = run("", "consumers", "suspend", "acme", "--reason", "invoice overdue")
	if !strings.Contains(out, "suspended acme: invoice overdue") {
		t.Fatalf("suspend:\n%s", out)
	}
	out = run("", "consumers", "list")
	if !strings.Contains(out, "suspended (invoice overdue)") || !strings.Contains(out, "bob") {
		t.Fatalf("list:\n%s", out)
	}
	run("", "consumers", "resume", "acme")

	var sub identity.Subscription
	if err := json.Unmarshal([]byte(run("", "subscriptions", "apply", "--consumer", "acme", "--service", "orders", "--json")), &sub); err != nil {
		t.Fatal(err)
	}
	if sub.Status != identity.SubPending {
		t.Fatalf("applied subscription %+v", sub)
	}
	out = run("", "subscriptions", "approve", sub.ID)
	if !strings.Contains(out, "is approved") {
		t.Fatalf("approve:\n%s", out)
	}
	out = run("", "subscriptions", "revoke", sub.ID, "--reason", "contract ended")
	if !strings.Contains(out, "is revoked") {
		t.Fatalf("revoke:\n%s", out)
	}
	out = run("", "subscriptions", "list", "--status", "revoked")
	if !strings.Contains(out, "contract ended") || !strings.Contains(out, "orders") {
		t.Fatalf("subscriptions list:\n%s", out)
	}
	out = run("", "consumers", "show", "acme")
	for _, want := range []string{"Consumer  acme", "Tenant    t1", "Status    active", "revoked", "contract ended"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	var cs []identity.Consumer
	if err := json.Unmarshal([]byte(run("", "consumers", "list", "--json")), &cs); err != nil || len(cs) != 2 || !cs[1].HasPassword {
		t.Fatalf("consumers list --json: %v %+v", err, cs)
	}
}

func TestKeysHashOffline(t *testing.T) {
	t.Parallel()
	id, key, hash, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetIn(strings.NewReader(key + "\n"))
	root.SetArgs([]string{"keys", "hash", "--stdin", "--scope", "orders:read"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "  - id: " + id + "\n    hash: " + hash + "\n    scopes: [orders:read]\n"
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), key) {
		t.Fatalf("keys hash output:\n%s\nwant entry:\n%s", out.String(), want)
	}
}
