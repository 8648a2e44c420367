package cli

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"pinpoint/internal/config"
	"pinpoint/internal/gateway"
	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{Use: "config", Short: "Work with config files"}
		cmd.AddCommand(&cobra.Command{
			Use:   "validate FILE",
			Short: "Check a config file: every error with its path and line",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := config.Load(args[0])
				if err == nil {
					// Build every layer too (without a store or listeners),
					// so layer sections are checked the way serve checks them.
					var st *store.Store
					st, err = store.Open(cmd.Context(), "sqlite", ":memory:")
					if err != nil {
						return err
					}
					defer st.Close()
					env := pipeline.NewEnv(slog.New(slog.NewTextHandler(io.Discard, nil)), st)
					err = gateway.Validate(cfg, env)
				}
				if err != nil {
					return fmt.Errorf("%s is not valid:\n%w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s is valid: %d routes, %d upstreams.\n", args[0], len(cfg.Routes), len(cfg.Upstreams))
				return nil
			},
		})
		return cmd
	})
}
