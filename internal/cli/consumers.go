package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pinpoint/internal/identity"
)

func init() { register(consumersCmd) }

func consumersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "consumers", Short: "Manage API consumers (create, list, show, suspend, resume)"}
	cmd.AddCommand(consumersCreateCmd(), consumersListCmd(), consumersShowCmd(), consumersSuspendCmd(), consumersResumeCmd())
	return cmd
}

func consumersCreateCmd() *cobra.Command {
	var in identity.NewConsumer
	var meta []string
	var pwStdin, asJSON bool
	cmd := &cobra.Command{
		Use:   "create <id>",
		Short: "Create a consumer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.ID = args[0]
			if len(meta) > 0 {
				in.Metadata = map[string]any{}
				for _, kv := range meta {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return fmt.Errorf("--meta %q: want key=value", kv)
					}
					in.Metadata[k] = v
				}
			}
			if pwStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				in.Password = strings.TrimRight(line, "\r\n")
			}
			var c identity.Consumer
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/consumers", in, &c); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			printConsumers(cmd.OutOrStdout(), []identity.Consumer{c})
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Name, "name", "", "display name (default: the id)")
	fl.StringVar(&in.Tenant, "tenant", "", "tenant the consumer belongs to")
	fl.StringSliceVar(&in.Roles, "role", nil, "role (repeat or comma-separate)")
	fl.StringArrayVar(&meta, "meta", nil, "metadata key=value (repeat), e.g. --meta plan=pro")
	fl.BoolVar(&pwStdin, "password-stdin", false, "read a Basic-auth password from the first line of stdin")
	fl.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func consumersListCmd() *cobra.Command {
	var tenant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List consumers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/admin/v1/consumers"
			if tenant != "" {
				path += "?tenant=" + url.QueryEscape(tenant)
			}
			var cs []identity.Consumer
			if err := newAdminClient(cmd).do(cmd.Context(), "GET", path, nil, &cs); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), cs)
			}
			printConsumers(cmd.OutOrStdout(), cs)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's consumers")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func printConsumers(w io.Writer, cs []identity.Consumer) {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		status := c.Status
		if c.Suspended() {
			status += " (" + c.SuspendedReason + ")"
		}
		rows = append(rows, []string{c.ID, c.Name, idDash(c.Tenant), idDash(strings.Join(c.Roles, ",")), status, idTime(c.CreatedAt)})
	}
	printTable(w, []string{"ID", "NAME", "TENANT", "ROLES", "STATUS", "CREATED"}, rows)
}

func consumersShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show <id>",
		Short: "Show a consumer with its keys and subscriptions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var d identity.ConsumerDetail
			if err := newAdminClient(cmd).do(cmd.Context(), "GET", "/admin/v1/consumers/"+url.PathEscape(args[0]), nil, &d); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), d)
			}
			w := cmd.OutOrStdout()
			c := d.Consumer
			fmt.Fprintf(w, "Consumer  %s (%s)\nTenant    %s\nRoles     %s\nStatus    %s\n", c.ID, c.Name, idDash(c.Tenant), idDash(strings.Join(c.Roles, ",")), c.Status)
			if c.Suspended() {
				fmt.Fprintf(w, "Suspended %s: %s\n", idTime(c.SuspendedAt), c.SuspendedReason)
			}
			if len(c.Metadata) > 0 {
				fmt.Fprintf(w, "Metadata  %v\n", c.Metadata)
			}
			fmt.Fprintf(w, "Password  %v\n\nKeys\n", c.HasPassword)
			printKeys(w, d.Keys, time.Now())
			fmt.Fprintln(w, "\nSubscriptions")
			printSubs(w, d.Subscriptions)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func consumersSuspendCmd() *cobra.Command {
	var reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "suspend <id> --reason <text>",
		Short: "Suspend a consumer (every request is refused with the reason)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c identity.Consumer
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/consumers/"+url.PathEscape(args[0])+"/suspend", map[string]string{"reason": reason}, &c); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "suspended %s: %s\n", c.ID, c.SuspendedReason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "reason shown to the consumer (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func consumersResumeCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resume <id>",
		Short: "Lift a consumer's suspension",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c identity.Consumer
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/consumers/"+url.PathEscape(args[0])+"/resume", nil, &c); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "resumed %s\n", c.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func idDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// idTime formats a record time for the identity tables.
func idTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
