package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pinpoint")
	cmd := exec.Command("go", "build", "-o", bin, "pinpoint/cmd/pinpoint")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Two gateway processes share one rate-limit count through Redis: across
// both, exactly the limit is admitted.
func TestTwoGatewayProcessesShareOneRedisCount(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis is not reachable at 127.0.0.1:6379: %v", err)
		}
		t.Skip("Redis not reachable")
	} else {
		c.Close()
	}
	bin := buildBinary(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	prefix := fmt.Sprintf("pinpoint:test:%d:", time.Now().UnixNano())
	const limit = 20
	var addrs []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 2; i++ {
		addr := freePort(t)
		addrs = append(addrs, addr)
		dir := t.TempDir()
		cfg := fmt.Sprintf(`
listeners: [{addr: %q}]
admin: {addr: "off"}
store: {dsn: %q}
upstreams:
  app: {targets: [{url: %q}]}
routes:
  - id: api
    path: /api/*
    upstream: app
    ratelimit:
      backend: redis
      redis: {url: "redis://127.0.0.1:6379/0", prefix: %q}
      policies:
        - {name: shared, key: [route], limit: %d, window: 1h}
`, addr, filepath.Join(dir, "p.db"), up.URL, prefix, limit)
		file := filepath.Join(dir, "gw.yaml")
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, bin, "serve", "-c", file)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "HOME="+dir)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, bufio.NewReader(stderr))
		t.Cleanup(func() { cancel(); cmd.Wait() })
	}
	for _, a := range addrs {
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := net.Dial("tcp", a)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("gateway at %s did not start", a)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var admitted, limited, other atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				resp, err := http.Get("http://" + addrs[(w+i)%2] + "/api/x")
				if err != nil {
					other.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == 200:
					admitted.Add(1)
				case resp.StatusCode == 429 && strings.Contains(string(body), `"code":"rate_limited"`) && resp.Header.Get("Retry-After") != "":
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if admitted.Load() != limit || limited.Load() != 80-limit || other.Load() != 0 {
		t.Fatalf("admitted %d, limited %d, other %d; want exactly %d admitted across both processes", admitted.Load(), limited.Load(), other.Load(), limit)
	}
}
