package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pinpoint/internal/admin"
	"pinpoint/internal/identity"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

const token = "test-admin-token"

func adminServer(t *testing.T, dsn string) (*httptest.Server, *pipeline.Env) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := pipeline.NewEnv(nil, st)
	s, err := admin.New(env, nil, token, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, env
}

func call(t *testing.T, srv *httptest.Server, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// TestStoreHoldsNoSecrets creates keys and a password through the admin
// API, then reads the raw SQLite files (database and WAL) and checks that
// neither the key secrets nor the password appear, while their hashes do.
func TestStoreHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	dsn := filepath.Join(t.TempDir(), "pinpoint.db")
	srv, env := adminServer(t, dsn)
	const password = "correct-horse-battery-staple"
	if code := call(t, srv, "POST", "/admin/v1/consumers", map[string]any{"id": "acme", "tenant": "t1", "password": password}, nil); code != 201 {
		t.Fatalf("create consumer: %d", code)
	}
	var secrets []string
	var hashes []string
	for i := 0; i < 3; i++ {
		var k identity.IssuedKey
		if code := call(t, srv, "POST", "/admin/v1/consumers/acme/keys", map[string]any{"scopes": []string{"orders:read"}, "ttl": "90d"}, &k); code != 201 {
			t.Fatalf("create key: %d", code)
		}
		if !strings.HasPrefix(k.Plaintext, "pp_"+k.Key.ID+"_") {
			t.Fatalf("plaintext %q does not carry the key id %q", k.Plaintext, k.Key.ID)
		}
		_, secret, err := identity.ParseKey(k.Plaintext)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret)
		hashes = append(hashes, identity.HashKeySecret(secret))
	}
	var rotated identity.IssuedKey
	if code := call(t, srv, "POST", "/admin/v1/keys/"+firstKeyID(t, srv)+"/rotate", map[string]any{"grace": "1h"}, &rotated); code != 201 {
		t.Fatalf("rotate: %d", code)
	}
	_, rsecret, _ := identity.ParseKey(rotated.Plaintext)
	secrets = append(secrets, rsecret)
	// The keys are usable at once through the shared snapshot.
	live, _ := identity.SharedLive(env)
	if live.Snapshot().Keys[rotated.Key.ID] == nil {
		t.Fatal("the rotated key is not in the snapshot right after the admin write")
	}
	var raw []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(dsn + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	for _, s := range append(secrets, password) {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the store files contain the secret %q in plaintext", s)
		}
	}
	for _, h := range hashes {
		if !bytes.Contains(raw, []byte(h)) {
			t.Fatalf("the store files do not contain the hash %q: the check above proves nothing", h)
		}
	}
	// The audit log names every change and no secret.
	var audit []struct{ Action, Target, Detail string }
	call(t, srv, "GET", "/admin/v1/audit", nil, &audit)
	actions := map[string]bool{}
	for _, a := range audit {
		actions[a.Action] = true
		for _, s := range append(secrets, password) {
			if strings.Contains(a.Detail, s) {
				t.Fatalf("audit detail %q holds a secret", a.Detail)
			}
		}
	}
	for _, a := range []string{"consumer.create", "key.create", "key.rotate"} {
		if !actions[a] {
			t.Errorf("audit log lacks %s: %v", a, actions)
		}
	}
}

func firstKeyID(t *testing.T, srv *httptest.Server) string {
	var ks []identity.Key
	call(t, srv, "GET", "/admin/v1/keys?consumer=acme", nil, &ks)
	if len(ks) == 0 {
		t.Fatal("no keys listed")
	}
	return ks[0].ID
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	srv, _ := adminServer(t, filepath.Join(t.TempDir(), "p.db"))
	call(t, srv, "POST", "/admin/v1/consumers", map[string]any{"id": "acme"}, nil)
	for _, tc := range []struct {
		method, path string
		in           any
		want         int
	}{
		{"POST", "/admin/v1/consumers", map[string]any{"id": "acme"}, 409},
		{"POST", "/admin/v1/consumers", map[string]any{"id": "bad id!"}, 400},
		{"POST", "/admin/v1/consumers", map[string]any{"id": "x", "nmae": "typo"}, 400},
		{"GET", "/admin/v1/consumers/nobody", nil, 404},
		{"POST", "/admin/v1/consumers/acme/suspend", map[string]any{"reason": ""}, 400},
		{"POST", "/admin/v1/consumers/acme/resume", nil, 409},
		{"POST", "/admin/v1/consumers/nobody/keys", map[string]any{}, 404},
		{"POST", "/admin/v1/consumers/acme/keys", map[string]any{"scopes": []string{"has space"}}, 400},
		{"POST", "/admin/v1/consumers/acme/keys", map[string]any{"allowed_ips": []string{"10.0.0.999"}}, 400},
		{"POST", "/admin/v1/consumers/acme/keys", map[string]any{"expires_at": time.Now().Add(-time.Hour)}, 400},
		{"POST", "/admin/v1/keys/nokey/revoke", nil, 404},
		{"POST", "/admin/v1/subscriptions", map[string]any{"consumer": "acme", "service": "orders"}, 201},
		{"POST", "/admin/v1/subscriptions", map[string]any{"consumer": "acme", "service": "orders"}, 409},
		{"POST", "/admin/v1/tenants", map[string]any{"id": "t1"}, 201},
		{"POST", "/admin/v1/roles", map[string]any{"name": "writer"}, 201},
		{"DELETE", "/admin/v1/roles/writer", nil, 200},
		{"DELETE", "/admin/v1/roles/writer", nil, 404},
	} {
		if got := call(t, srv, tc.method, tc.path, tc.in, nil); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestOtherNodeSeesChangeWithinASecond runs two "nodes" on one database:
// a write through one is picked up by the other's poller.
func TestOtherNodeSeesChangeWithinASecond(t *testing.T) {
	t.Parallel()
	dsn := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	open := func() *store.Store {
		st, err := store.Open(ctx, "sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	writer, reader := open(), open()
	live, err := identity.NewLive(ctx, reader, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	live.Acquire()
	defer live.Release()
	repo := identity.NewRepo(writer, nil)
	start := time.Now()
	if _, err := repo.CreateConsumer(ctx, identity.NewConsumer{ID: "late"}); err != nil {
		t.Fatal(err)
	}
	for live.Snapshot().Consumers["late"] == nil {
		if time.Since(start) > time.Second {
			t.Fatal("the other node did not see the change within a second")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
