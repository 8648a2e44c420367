package cli

import (
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"pinpoint/internal/identity"
)

func init() { register(subscriptionsCmd) }

func subscriptionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subscriptions", Short: "Manage service subscriptions (apply, approve, reject, revoke, list)"}
	cmd.AddCommand(subsApplyCmd(), subsDecideCmd("approve", "Approve a pending (or rejected) subscription"),
		subsDecideCmd("reject", "Reject a pending subscription"), subsDecideCmd("revoke", "Revoke a subscription"), subsListCmd())
	return cmd
}

func subsApplyCmd() *cobra.Command {
	var consumer, service string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "apply --consumer <id> --service <name>",
		Short: "Apply for a consumer's subscription to a service (starts pending)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s identity.Subscription
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/subscriptions", map[string]string{"consumer": consumer, "service": service}, &s); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "subscription %s: %s → %s is %s\napprove with: pinpoint subscriptions approve %s\n", s.ID, s.ConsumerID, s.Service, s.Status, s.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "consumer id (required)")
	cmd.Flags().StringVar(&service, "service", "", "service name, as in the routes' service field (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	_ = cmd.MarkFlagRequired("consumer")
	_ = cmd.MarkFlagRequired("service")
	return cmd
}

func subsDecideCmd(action, short string) *cobra.Command {
	var reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   action + " <subscription-id>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body any
			if reason != "" {
				body = map[string]string{"reason": reason}
			}
			var s identity.Subscription
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/subscriptions/"+url.PathEscape(args[0])+"/"+action, body, &s); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "subscription %s: %s → %s is %s\n", s.ID, s.ConsumerID, s.Service, s.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "reason (shown to the consumer on rejection or revocation)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func subsListCmd() *cobra.Command {
	var consumer, service, status string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List subscriptions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"consumer": consumer, "service": service, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			path := "/admin/v1/subscriptions"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var subs []identity.Subscription
			if err := newAdminClient(cmd).do(cmd.Context(), "GET", path, nil, &subs); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), subs)
			}
			ptrs := make([]*identity.Subscription, len(subs))
			for i := range subs {
				ptrs[i] = &subs[i]
			}
			printSubs(cmd.OutOrStdout(), ptrs)
			return nil
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "only this consumer")
	cmd.Flags().StringVar(&service, "service", "", "only this service")
	cmd.Flags().StringVar(&status, "status", "", "only this status (pending, approved, rejected, revoked)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func printSubs(w io.Writer, subs []*identity.Subscription) {
	rows := make([][]string, 0, len(subs))
	for _, s := range subs {
		rows = append(rows, []string{s.ID, s.ConsumerID, s.Service, s.Status, idTime(s.AppliedAt), idTime(s.DecidedAt), idDash(s.Reason)})
	}
	printTable(w, []string{"ID", "CONSUMER", "SERVICE", "STATUS", "APPLIED", "DECIDED", "REASON"}, rows)
}
