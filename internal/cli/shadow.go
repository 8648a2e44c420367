package cli

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"pinpoint/internal/calllog"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "shadow",
			Short: "What shadow-mode policies would have denied",
			Long: `Any policy can run with 'mode: shadow': it is evaluated and recorded but not
enforced. 'pinpoint shadow report' shows what it would have denied, so a new
rule's 403s are seen before anyone gets one.`,
		}
		var since string
		var asJSON bool
		report := &cobra.Command{
			Use:   "report",
			Short: "Shadow denials by code, route and consumer, with sample request ids",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var rep calllog.ShadowReport
				if err := newAdminClient(cmd).do(cmd.Context(), "GET", "/admin/v1/shadow?since="+url.QueryEscape(since), nil, &rep); err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return printJSON(out, rep)
				}
				if rep.Total == 0 {
					fmt.Fprintf(out, "No shadow denials since %s.\n", rep.Since.Format("2006-01-02 15:04:05 MST"))
					return nil
				}
				fmt.Fprintf(out, "Shadow policies would have denied %d requests since %s.\n\n", rep.Total, rep.Since.Format("2006-01-02 15:04:05 MST"))
				var rows [][]string
				for _, g := range rep.Groups {
					rows = append(rows, []string{strconv.FormatInt(g.Count, 10), g.Layer, g.Code, dash(g.Rule), dash(g.Route), dash(g.Consumer),
						g.Last.Format("01-02 15:04:05"), strings.Join(g.Samples, " ")})
				}
				printTable(out, []string{"COUNT", "LAYER", "CODE", "RULE", "ROUTE", "CONSUMER", "LAST", "SAMPLE REQUESTS"}, rows)
				for _, b := range []struct {
					title string
					c     []calllog.Count
				}{{"By code", rep.ByCode}, {"By route", rep.ByRoute}, {"By consumer", rep.ByConsumer}} {
					fmt.Fprintf(out, "\n%s: %s\n", b.title, joinCounts(b.c))
				}
				fmt.Fprintln(out, "\nSee one: pinpoint explain <request id>")
				return nil
			},
		}
		report.Flags().StringVar(&since, "since", "24h", "from this time: a duration back (15m, 24h, 7d) or RFC 3339")
		report.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
		cmd.AddCommand(report)
		return cmd
	})
}

func joinCounts(cs []calllog.Count) string {
	if len(cs) == 0 {
		return "-"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", dash(c.Key), c.N)
	}
	return strings.Join(parts, ", ")
}
