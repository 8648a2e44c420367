package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pinpoint/internal/alerts"
)

func init() {
	register(func() *cobra.Command {
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "alerts",
			Short: "Alert rules and what is firing now",
			Long: `List the alert rules of the running gateway (config section 'alerts:') with
the alerts firing now, and webhook delivery counts.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var st struct {
					Rules     []alerts.State `json:"rules"`
					Delivered uint64         `json:"delivered"`
					Failed    uint64         `json:"failed"`
					Dropped   uint64         `json:"dropped"`
				}
				err := newAdminClient(cmd).do(cmd.Context(), "GET", "/admin/v1/alerts", nil, &st)
				if ae, ok := err.(*apiError); ok && ae.Status == 404 {
					return fmt.Errorf("the gateway has no alert rules (add an 'alerts:' section to its config)")
				}
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return printJSON(out, st)
				}
				var rows [][]string
				for _, r := range st.Rules {
					if len(r.Firing) == 0 {
						rows = append(rows, []string{r.Rule, r.Kind, "ok", "-", "-"})
					}
					for _, n := range r.Firing {
						rows = append(rows, []string{r.Rule, r.Kind, "FIRING since " + n.Since.Format("01-02 15:04:05"), n.Summary, strings.Join(n.Samples, " ")})
					}
				}
				printTable(out, []string{"RULE", "KIND", "STATE", "SUMMARY", "SAMPLE REQUESTS"}, rows)
				fmt.Fprintf(out, "\nwebhook deliveries: %d delivered, %d failed, %d dropped\n", st.Delivered, st.Failed, st.Dropped)
				return nil
			},
		}
		cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
		return cmd
	})
}
