package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"pinpoint/internal/trace"
)

func init() {
	register(func() *cobra.Command {
		var f struct {
			status, code, layer, route, consumer, client, since, until string
			denied, shadow, follow, asJSON                             bool
			limit                                                      int
		}
		cmd := &cobra.Command{
			Use:   "logs",
			Short: "Search and tail the call log",
			Long: `Search the call log of the running gateway (through the admin API), newest
first, or follow it as requests arrive. Every filter narrows the search:

  pinpoint logs --status 403 --since 1h
  pinpoint logs --code body_too_large --route orders
  pinpoint logs --denied --consumer acme --follow

Then 'pinpoint explain <id>' shows one request's whole decision.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c := newAdminClient(cmd)
				q := url.Values{}
				for k, v := range map[string]string{"status": f.status, "code": f.code, "layer": f.layer, "route": f.route,
					"consumer": f.consumer, "client": f.client, "since": f.since, "until": f.until} {
					if v != "" {
						q.Set(k, v)
					}
				}
				if f.denied {
					q.Set("denied", "true")
				}
				if f.shadow {
					q.Set("shadow", "true")
				}
				q.Set("limit", strconv.Itoa(f.limit))
				var recs []*trace.Record
				if err := c.do(cmd.Context(), "GET", "/admin/v1/logs?"+q.Encode(), nil, &recs); err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.asJSON && !f.follow {
					return printJSON(out, recs)
				}
				// Oldest first on screen, like a log.
				for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
					recs[i], recs[j] = recs[j], recs[i]
				}
				if !f.asJSON {
					fmt.Fprintln(out, logHeader)
				}
				printRecords(out, recs, f.asJSON)
				if !f.follow {
					if len(recs) == 0 {
						fmt.Fprintln(cmd.ErrOrStderr(), "no matching requests")
					}
					return nil
				}
				return follow(cmd.Context(), c, q, recs, out, f.asJSON)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&f.status, "status", "", "status (403) or class (4xx)")
		fl.StringVar(&f.code, "code", "", "denial code (e.g. key_expired)")
		fl.StringVar(&f.layer, "layer", "", "layer that denied (e.g. authn)")
		fl.StringVar(&f.route, "route", "", "route id")
		fl.StringVar(&f.consumer, "consumer", "", "consumer id")
		fl.StringVar(&f.client, "client", "", "client address")
		fl.StringVar(&f.since, "since", "", "from this time: a duration back (15m, 24h, 7d) or RFC 3339")
		fl.StringVar(&f.until, "until", "", "until this time: a duration back or RFC 3339")
		fl.BoolVar(&f.denied, "denied", false, "only requests the gateway denied")
		fl.BoolVar(&f.shadow, "shadow", false, "only requests a shadowed policy would have denied")
		fl.IntVarP(&f.limit, "limit", "n", 50, "at most this many requests (max 1000)")
		fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new requests as they are logged")
		fl.BoolVar(&f.asJSON, "json", false, "print records as JSON (one per line with --follow)")
		return cmd
	})
}

const logHeader = "TIME                     ID                          METHOD  STATUS  ROUTE             LAYER/CODE                 CONSUMER      CLIENT           LATENCY  PATH"

func printRecords(w io.Writer, recs []*trace.Record, asJSON bool) {
	for _, r := range recs {
		if asJSON {
			b, _ := jsonLine(r)
			fmt.Fprintln(w, string(b))
			continue
		}
		why := "-"
		switch {
		case r.Code != "":
			why = r.Layer + "/" + r.Code
		case r.DeniedBy == "upstream":
			why = "upstream"
		}
		if r.ShadowHit {
			why += " (shadow)"
		}
		fmt.Fprintf(w, "%-24s %-27s %-7s %-7d %-17s %-26s %-13s %-16s %-8s %s\n",
			r.Time.UTC().Format("2006-01-02 15:04:05.000"), r.ID, r.Method, r.Status, dash(r.RouteID), why, dash(r.Consumer), r.Client,
			(time.Duration(r.Micros) * time.Microsecond).String(), r.Path)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// follow polls for records newer than the last seen. It looks back a few
// seconds on every poll because records arrive in batches, possibly from
// several gateway nodes, and may land slightly out of order; ids already
// printed are skipped.
func follow(ctx context.Context, c *adminClient, q url.Values, seen []*trace.Record, w io.Writer, asJSON bool) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	printed := map[string]time.Time{}
	cursor := time.Now().Add(-5 * time.Second)
	for _, r := range seen {
		printed[r.ID] = r.Time
		if r.Time.After(cursor) {
			cursor = r.Time
		}
	}
	const lookBack = 5 * time.Second
	q.Set("oldest", "true")
	q.Set("limit", "1000")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		from := cursor.Add(-lookBack)
		q.Set("since", from.UTC().Format(time.RFC3339Nano))
		var recs []*trace.Record
		if err := c.do(ctx, "GET", "/admin/v1/logs?"+q.Encode(), nil, &recs); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var fresh []*trace.Record
		for _, r := range recs {
			if _, ok := printed[r.ID]; ok {
				continue
			}
			printed[r.ID] = r.Time
			fresh = append(fresh, r)
			if r.Time.After(cursor) {
				cursor = r.Time
			}
		}
		printRecords(w, fresh, asJSON)
		for id, t := range printed {
			if t.Before(from.Add(-lookBack)) {
				delete(printed, id)
			}
		}
	}
}

func jsonLine(r *trace.Record) ([]byte, error) { return json.Marshal(r) }
