package cli

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"pinpoint/internal/calllog"
)

// maxSeriesRows keeps the printed trend readable; --json has all of it.
const maxSeriesRows = 48

func init() {
	register(func() *cobra.Command {
		var since, from, to, route, consumer string
		var top int
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "stats",
			Short: "Requests and denials over time, by status, layer, code, route, consumer and client",
			Long: `Analytics of the running gateway, computed from per-minute, hourly and daily
rollups (fast at any age, and still there after raw log rows are pruned):
totals, the 403 rate trend, denials by layer and code, top denied routes,
consumers and client addresses.

  pinpoint stats --since 24h
  pinpoint stats --from 2025-01-01T00:00:00Z --to 2025-01-31T00:00:00Z --route orders`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				q := url.Values{}
				if from == "" {
					from = since
				}
				for k, v := range map[string]string{"from": from, "to": to, "route": route, "consumer": consumer} {
					if v != "" {
						q.Set(k, v)
					}
				}
				q.Set("top", strconv.Itoa(top))
				var st calllog.Stats
				if err := newAdminClient(cmd).do(cmd.Context(), "GET", "/admin/v1/stats?"+q.Encode(), nil, &st); err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return printJSON(out, st)
				}
				fmt.Fprintf(out, "%s → %s (per %s)\n", st.From.Format("2006-01-02 15:04"), st.To.Format("2006-01-02 15:04 MST"), st.Resolution)
				fmt.Fprintf(out, "requests %d   denied %d (%s)   403 %d (%s)   shadow %d   avg %dµs   max %dµs\n\n",
					st.Total, st.Denied, pct(st.Denied, st.Total), st.S403, pct(st.S403, st.Total), st.Shadow, st.AvgMicros, st.MaxMicros)
				var rows [][]string
				for _, p := range st.Series {
					if p.Total > 0 {
						rows = append(rows, []string{p.Time.Format("2006-01-02 15:04"), strconv.FormatInt(p.Total, 10), strconv.FormatInt(p.Denied, 10),
							strconv.FormatInt(p.S4xx, 10), strconv.FormatInt(p.S5xx, 10), pct(p.S403, p.Total)})
					}
				}
				if len(rows) > maxSeriesRows {
					rows = rows[len(rows)-maxSeriesRows:]
				}
				if len(rows) > 0 {
					printTable(out, []string{"TIME", "REQUESTS", "DENIED", "4XX", "5XX", "403 RATE"}, rows)
					fmt.Fprintln(out)
				}
				for _, b := range []struct {
					title string
					c     []calllog.Count
				}{{"By status", st.ByStatus}, {"By layer", st.ByLayer}, {"By code", st.ByCode}} {
					fmt.Fprintf(out, "%-20s %s\n", b.title+":", joinCounts(b.c))
				}
				for _, b := range []struct {
					title string
					c     []calllog.Count
				}{{"Top denied routes", st.ByRoute}, {"Top denied consumers", st.ByConsumer}, {"Top denied clients", st.TopDeniedClients}} {
					if len(b.c) == 0 {
						continue
					}
					fmt.Fprintf(out, "\n%s:\n", b.title)
					var rows [][]string
					for _, c := range b.c {
						rows = append(rows, []string{"  " + dash(c.Key), strconv.FormatInt(c.Denied, 10), strconv.FormatInt(c.N, 10)})
					}
					printTable(out, []string{"  NAME", "DENIED", "OF"}, rows)
				}
				return nil
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&since, "since", "24h", "from this long ago (15m, 24h, 30d)")
		fl.StringVar(&from, "from", "", "from this time (RFC 3339 or a duration back); overrides --since")
		fl.StringVar(&to, "to", "", "until this time (default now)")
		fl.StringVar(&route, "route", "", "only this route")
		fl.StringVar(&consumer, "consumer", "", "only this consumer")
		fl.IntVar(&top, "top", 10, "length of the ranked lists")
		fl.BoolVar(&asJSON, "json", false, "print the whole answer as JSON")
		return cmd
	})
}

func pct(n, of int64) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(of))
}
