package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pinpoint/internal/calllog"
	"pinpoint/internal/config"
	"pinpoint/internal/explain"
	"pinpoint/internal/store"
	"pinpoint/internal/trace"
)

func init() {
	register(func() *cobra.Command {
		var so storeFlags
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "explain REQUEST_ID",
			Short: "Show the whole decision behind one request",
			Long: `Print the story of a request: what was asked, each layer's outcome in
order, the deciding rule with its evidence, and the fix. The request id is in
every response's Pinpoint-Request-Id header and in every denial's body.
Reads the store directly, so it works whether the gateway runs or not.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				st, err := so.open(cmd.Context())
				if err != nil {
					return err
				}
				defer st.Close()
				rec, err := getWithRetry(cmd.Context(), calllog.New(st), strings.TrimSpace(args[0]))
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), rec)
				}
				explain.Write(cmd.OutOrStdout(), rec)
				return nil
			},
		}
		so.bind(cmd)
		cmd.Flags().BoolVar(&asJSON, "json", false, "print the record as JSON")
		return cmd
	})
}

// getWithRetry waits briefly for a record: the gateway writes the call log
// in batches, so a request made a moment ago may not be stored yet.
func getWithRetry(ctx context.Context, l *calllog.Log, id string) (*trace.Record, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		rec, err := l.Get(ctx, id)
		if err == nil || !errors.Is(err, calllog.ErrNotFound) || time.Now().After(deadline) {
			if errors.Is(err, calllog.ErrNotFound) {
				return nil, fmt.Errorf("request %s is not in the call log (wrong store? see --store / -c; records past retention are pruned)", id)
			}
			return rec, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storeFlags locate a store: a config file, a SQLite path, a PostgreSQL
// DSN, or the store the last gateway on this machine used.
type storeFlags struct {
	config   string
	path     string
	postgres string
}

func (s *storeFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&s.config, "config", "c", "", "read the store location from this config file")
	cmd.Flags().StringVar(&s.path, "store", "", "SQLite store file")
	cmd.Flags().StringVar(&s.postgres, "postgres", "", "PostgreSQL store DSN")
}

func (s *storeFlags) open(ctx context.Context) (*store.Store, error) {
	driver, dsn := "", ""
	switch {
	case s.postgres != "":
		driver, dsn = "postgres", s.postgres
	case s.path != "":
		driver, dsn = "sqlite", s.path
	case s.config != "":
		cfg, err := config.Load(s.config)
		if err != nil {
			return nil, err
		}
		driver, dsn = cfg.Store.Driver, cfg.Store.DSN
		if dsn == "" {
			dsn = "pinpoint.db"
		}
	default:
		b, err := os.ReadFile(StoreFile())
		if err != nil {
			driver, dsn = "sqlite", "pinpoint.db"
		} else {
			driver, dsn, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
		}
	}
	if driver == "" || driver == "sqlite" {
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("no store at %s (start a gateway first, or name one with --store, --postgres or -c)", dsn)
		}
	}
	return store.Open(ctx, driver, dsn)
}
