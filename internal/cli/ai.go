package cli

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

func init() { register(newAICmd) }

func newAICmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ai", Short: "AI gateway: usage, tokens and cost"}
	cmd.AddCommand(newAIUsageCmd())
	return cmd
}

// aiUsageRow mirrors a row of GET /admin/v1/ai/usage.
type aiUsageRow struct {
	Key              string  `json:"key"`
	Requests         int64   `json:"requests"`
	Errors           int64   `json:"errors"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	AvgLatencyMS     float64 `json:"avg_latency_ms"`
}

func newAIUsageCmd() *cobra.Command {
	var since, until, by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "AI usage by consumer, model, provider, key or route over a time range",
		Example: `  pinpoint ai usage --since 24h --by model
  pinpoint ai usage --since 7d --by consumer --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"since": {since}, "by": {by}}
			if until != "" {
				q.Set("until", until)
			}
			var out struct {
				Since string       `json:"since"`
				Until string       `json:"until"`
				By    string       `json:"by"`
				Rows  []aiUsageRow `json:"rows"`
				Total aiUsageRow   `json:"total"`
			}
			if err := newAdminClient(cmd).do(cmd.Context(), "GET", "/admin/v1/ai/usage?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, out)
			}
			fmt.Fprintf(w, "AI usage by %s, %s to %s\n\n", out.By, out.Since, out.Until)
			rows := make([][]string, 0, len(out.Rows)+1)
			for _, r := range append(out.Rows, out.Total) {
				key := r.Key
				if key == "" {
					key = "(none)"
				}
				rows = append(rows, []string{key, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Errors, 10),
					strconv.FormatInt(r.PromptTokens, 10), strconv.FormatInt(r.CompletionTokens, 10),
					fmt.Sprintf("$%.4f", r.CostUSD), fmt.Sprintf("%.0f", r.AvgLatencyMS)})
			}
			printTable(w, []string{by, "REQUESTS", "ERRORS", "PROMPT", "COMPLETION", "COST", "AVG MS"}, rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "24h", "start of the range: a duration back from now (24h, 7d) or an RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "end of the range (default now)")
	cmd.Flags().StringVar(&by, "by", "consumer", "group by consumer, model, provider, key or route")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
