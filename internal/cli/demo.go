package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pinpoint/internal/ai/mock"
	"pinpoint/internal/app"
	"pinpoint/internal/config"
	"pinpoint/internal/demo"
	"pinpoint/internal/store"
)

func init() {
	register(func() *cobra.Command {
		var addr, adminAddr, dir string
		var check, verbose bool
		cmd := &cobra.Command{
			Use:   "demo",
			Short: "Run a gateway with an example config, a demo upstream and the embedded store",
			Long: `Start a gateway on loopback with an embedded example config, a built-in demo
upstream and a fresh embedded store, then print ready-to-paste curl commands:
one request that succeeds and one for each denial the gateway can produce,
with the explain command for each. --check sends them all, verifies each
answer, and exits (non-zero if any is wrong).`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runDemo(cmd, addr, adminAddr, dir, check, verbose)
			},
		}
		cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "gateway address (a free port is chosen if it is taken)")
		cmd.Flags().StringVar(&adminAddr, "admin-addr", "127.0.0.1:9901", "admin API address (a free port is chosen if it is taken)")
		cmd.Flags().StringVar(&dir, "dir", filepath.Join(os.TempDir(), "pinpoint-demo"), "directory for the demo's store (emptied at start)")
		cmd.Flags().BoolVar(&check, "check", false, "send every example, verify the answers, and exit")
		cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every reload and warning to stderr")
		return cmd
	})
}

// freeAddr returns want if it can be bound, else a free loopback port.
func freeAddr(want string) (string, error) {
	if ln, err := net.Listen("tcp", want); err == nil {
		ln.Close()
		return want, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// selfCommand is how the printed commands should call this binary.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil || strings.Contains(exe, "go-build") {
		if _, err := exec.LookPath("pinpoint"); err == nil {
			return "pinpoint"
		}
		return "go run ./cmd/pinpoint"
	}
	if p, err := exec.LookPath("pinpoint"); err == nil && p == exe {
		return "pinpoint"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "./" + rel
		}
	}
	return exe
}

func runDemo(cmd *cobra.Command, addr, adminAddr, dir string, check, verbose bool) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	out := cmd.OutOrStdout()
	var p demo.Ports
	var err error
	if p.Gateway, err = freeAddr(addr); err != nil {
		return err
	}
	if p.Admin, err = freeAddr(adminAddr); err != nil {
		return err
	}
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	upstream := &http.Server{Handler: demo.Upstream(), ReadHeaderTimeout: 5 * time.Second}
	go upstream.Serve(upLn)
	defer upstream.Close()
	p.Upstream = "http://" + upLn.Addr().String()
	aiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	aiMock := &http.Server{Handler: mock.NewServer(), ReadHeaderTimeout: 5 * time.Second}
	go aiMock.Serve(aiLn)
	defer aiMock.Close()
	p.AIMock = "http://" + aiLn.Addr().String()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p.Dead = "http://" + dead.Addr().String()
	dead.Close()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	p.Store = filepath.Join(dir, "pinpoint.db")

	// Seed the store first: the config embeds what the seed made (the
	// demo issuer's public keys).
	st, err := store.Open(ctx, "sqlite", p.Store)
	if err != nil {
		return err
	}
	err = demo.Prepare(ctx, st, p)
	st.Close()
	if err != nil {
		return err
	}
	cfg, err := config.Parse([]byte(demo.Config(p)))
	if err != nil {
		return fmt.Errorf("the demo's config is invalid (a bug): %w", err)
	}
	level := slog.LevelError
	if verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	a, err := app.Start(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		return err
	}
	// Report the addresses actually bound (port 0 picks one).
	p.Gateway, p.Admin = a.Server.Addrs()[0], a.AdminAddr
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, "") }()
	rememberStore(cfg)
	if a.AdminToken != "" {
		_ = writeSecretFile(TokenFile(), a.AdminToken)
	}
	_ = writeSecretFile(URLFile(), "http://"+a.AdminAddr)

	results := demo.RunAll(ctx, p)
	a.Writer.Flush()
	if check {
		failed := 0
		for _, r := range results {
			status, why := "ok  ", ""
			if p := r.Problem(); p != "" {
				status, why = "FAIL", "("+p+")"
				failed++
			}
			fmt.Fprintf(out, "%s %-60s want %d %-24s got %d %s %s\n", status, r.Example.Title, r.Example.Status, r.Example.Code, r.Status, r.Code, why)
		}
		cancel()
		<-runErr
		if failed > 0 {
			return fmt.Errorf("%d of %d demo requests did not answer as expected", failed, len(results))
		}
		fmt.Fprintf(out, "%d passed, 0 failed\n", len(results))
		return nil
	}
	demo.Print(out, p, results, selfCommand())
	return <-runErr
}
