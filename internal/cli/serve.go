package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"pinpoint/internal/app"
	"pinpoint/internal/config"
)

func init() {
	register(func() *cobra.Command {
		var file string
		cmd := &cobra.Command{
			Use:   "serve -c FILE",
			Short: "Run the gateway from a config file",
			Long: `Run the gateway. SIGHUP, a change of the file, or POST /admin/v1/reload
reload the config: the new one is built and validated whole, then swapped in;
a bad config keeps the old one running and the log says why. SIGTERM shuts
down gracefully, letting requests in flight finish.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if file == "" {
					return fmt.Errorf("-c FILE is required (see docs/config.md; `pinpoint demo` runs without one)")
				}
				cfg, err := config.Load(file)
				if err != nil {
					return fmt.Errorf("%s:\n%w", file, err)
				}
				tuneGC()
				logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
				a, err := app.Start(cmd.Context(), cfg, app.Options{Logger: logger, Load: func() (*config.Config, error) { return config.Load(file) }})
				if err != nil {
					return err
				}
				rememberStore(cfg)
				if a.AdminToken != "" {
					if err := writeSecretFile(TokenFile(), a.AdminToken); err != nil {
						logger.Warn("could not write the admin token file", "err", err)
					}
					logger.Info("admin token generated (no admin.token in config)", "token_file", TokenFile())
				}
				if a.AdminAddr != "" {
					_ = writeSecretFile(URLFile(), "http://"+a.AdminAddr)
				}
				logger.Info("pinpoint serving", "listeners", a.Server.Addrs(), "admin", a.AdminAddr, "store", cfg.Store.DSN)
				return a.Run(context.Background(), file)
			},
		}
		cmd.Flags().StringVarP(&file, "config", "c", "", "config file (YAML)")
		return cmd
	})
}

// StoreFile remembers the last store a gateway on this machine used, so
// `pinpoint explain` finds it without flags.
func StoreFile() string { return filepath.Join(filepath.Dir(TokenFile()), "store") }

func rememberStore(cfg *config.Config) {
	driver, dsn := cfg.Store.Driver, cfg.Store.DSN
	if driver == "" {
		driver = "sqlite"
	}
	if driver == "sqlite" {
		if dsn == "" {
			dsn = "pinpoint.db"
		}
		if abs, err := filepath.Abs(dsn); err == nil {
			dsn = abs
		}
	}
	_ = writeSecretFile(StoreFile(), driver+" "+dsn)
}

func writeSecretFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content+"\n"), 0o600)
}
