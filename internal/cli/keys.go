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

func init() { register(keysCmd) }

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage API keys (create, list, revoke, rotate, expire, scopes, hash)"}
	cmd.AddCommand(keysCreateCmd(), keysListCmd(), keysRevokeCmd(), keysRotateCmd(), keysExpireCmd(), keysScopesCmd(), keysHashCmd())
	return cmd
}

func printIssued(w io.Writer, k identity.IssuedKey) {
	fmt.Fprintf(w, "key id     %s\nconsumer   %s\nscopes     %s\nexpires    %s\n\n%s\n\n  %s\n",
		k.Key.ID, k.Key.ConsumerID, idDash(strings.Join(k.Key.Scopes, " ")), idTime(k.Key.ExpiresAt), k.Note, k.Plaintext)
	if k.Old != nil {
		fmt.Fprintf(w, "\nthe old key %s keeps working until %s\n", k.Old.ID, idTime(k.Old.ExpiresAt))
	}
}

func keysCreateCmd() *cobra.Command {
	var in identity.CreateKeyRequest
	var consumer, expiresAt string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --consumer <id>",
		Short: "Issue an API key (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expiresAt != "" {
				t, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return fmt.Errorf("--expires-at: want RFC 3339, e.g. 2026-01-31T00:00:00Z")
				}
				in.ExpiresAt = &t
			}
			var k identity.IssuedKey
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/consumers/"+url.PathEscape(consumer)+"/keys", in, &k); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			printIssued(cmd.OutOrStdout(), k)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&consumer, "consumer", "", "consumer the key belongs to (required)")
	fl.StringVar(&in.Name, "name", "", "a label for the key")
	fl.StringSliceVar(&in.Scopes, "scope", nil, "scope (repeat or comma-separate)")
	fl.StringVar(&in.TTL, "ttl", "", "lifetime, e.g. 90d or 36h")
	fl.StringVar(&expiresAt, "expires-at", "", "expiry time (RFC 3339)")
	fl.StringSliceVar(&in.AllowedIPs, "allow-ip", nil, "address or CIDR the key may be used from (repeat)")
	fl.BoolVar(&asJSON, "json", false, "print as JSON")
	_ = cmd.MarkFlagRequired("consumer")
	return cmd
}

func keysListCmd() *cobra.Command {
	var consumer string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/admin/v1/keys"
			if consumer != "" {
				path += "?consumer=" + url.QueryEscape(consumer)
			}
			var ks []*identity.Key
			if err := newAdminClient(cmd).do(cmd.Context(), "GET", path, nil, &ks); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), ks)
			}
			printKeys(cmd.OutOrStdout(), ks, time.Now())
			return nil
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "only this consumer's keys")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// keyState is the one-word state of a key at now.
func keyState(k *identity.Key, now time.Time) string {
	switch {
	case k.Revoked():
		return "revoked"
	case k.ExpiredAt(now):
		return "expired"
	case k.ReplacedBy != "":
		return "grace (→" + k.ReplacedBy + ")"
	}
	return "active"
}

func printKeys(w io.Writer, ks []*identity.Key, now time.Time) {
	rows := make([][]string, 0, len(ks))
	for _, k := range ks {
		ips := make([]string, len(k.AllowedIPs))
		for i, p := range k.AllowedIPs {
			ips[i] = p.String()
		}
		rows = append(rows, []string{k.ID, k.ConsumerID, idDash(strings.Join(k.Scopes, " ")), keyState(k, now), idTime(k.ExpiresAt), idDash(strings.Join(ips, ",")), idTime(k.LastUsedAt)})
	}
	printTable(w, []string{"ID", "CONSUMER", "SCOPES", "STATE", "EXPIRES", "ALLOWED IPS", "LAST USED"}, rows)
}

// keyAction posts to /admin/v1/keys/{id}/{action} and prints the key.
func keyAction(cmd *cobra.Command, method, id, action string, body any, asJSON bool, done string) error {
	var k identity.Key
	if err := newAdminClient(cmd).do(cmd.Context(), method, "/admin/v1/keys/"+url.PathEscape(id)+"/"+action, body, &k); err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), k)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, k.ID)
	printKeys(cmd.OutOrStdout(), []*identity.Key{&k}, time.Now())
	return nil
}

func keysRevokeCmd() *cobra.Command {
	var reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "revoke <key-id>",
		Short: "Revoke a key at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return keyAction(cmd, "POST", args[0], "revoke", map[string]string{"reason": reason}, asJSON, "revoked")
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the audit log and the trace)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func keysRotateCmd() *cobra.Command {
	var grace string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rotate <key-id>",
		Short: "Issue a successor key; the old one keeps working for the grace period",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k identity.IssuedKey
			if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/keys/"+url.PathEscape(args[0])+"/rotate", map[string]string{"grace": grace}, &k); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			printIssued(cmd.OutOrStdout(), k)
			return nil
		},
	}
	cmd.Flags().StringVar(&grace, "grace", "24h", "how long the old key keeps working (e.g. 24h, 7d)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func keysExpireCmd() *cobra.Command {
	var at string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "expire <key-id>",
		Short: "Make a key expire now (or at --at)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body any
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--at: want RFC 3339, e.g. 2026-01-31T00:00:00Z")
				}
				body = map[string]any{"at": t}
			}
			return keyAction(cmd, "POST", args[0], "expire", body, asJSON, "expiry set for")
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "expiry time (RFC 3339); default now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func keysScopesCmd() *cobra.Command {
	var scopes []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scopes <key-id> --scope a --scope b",
		Short: "Replace a key's scopes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if scopes == nil {
				scopes = []string{}
			}
			return keyAction(cmd, "PUT", args[0], "scopes", map[string][]string{"scopes": scopes}, asJSON, "scopes set for")
		},
	}
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "scope (repeat or comma-separate); none clears them")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// keysHashCmd works offline: it issues (or reads) a key and prints the
// config entry holding only its hash, for the `consumers:` section.
func keysHashCmd() *cobra.Command {
	var fromStdin, asJSON bool
	var scopes []string
	cmd := &cobra.Command{
		Use:   "hash [--stdin]",
		Short: "Print the config entry (hash only) for a new key, or for a key read from stdin",
		Long: `Without --stdin, generates a new key, prints it once and prints the
consumers: config entry that holds only its hash. With --stdin, reads an
existing pp_ key from the first line of stdin instead. Nothing is sent to
the gateway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var id, key, hash string
			if fromStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				key = strings.TrimRight(line, "\r\n")
				var secret string
				if id, secret, err = identity.ParseKey(key); err != nil {
					return fmt.Errorf("not a pinpoint key: %w", err)
				}
				hash = identity.HashKeySecret(secret)
			} else {
				var err error
				if id, key, hash, err = identity.NewKey(); err != nil {
					return err
				}
			}
			if asJSON {
				out := map[string]any{"id": id, "hash": hash, "scopes": scopes}
				if !fromStdin {
					out["key"] = key
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			if !fromStdin {
				fmt.Fprintf(w, "key (give it to the consumer; it is not stored anywhere):\n\n  %s\n\n", key)
			}
			fmt.Fprintf(w, "config entry (under consumers[].keys):\n\n  - id: %s\n    hash: %s\n", id, hash)
			if len(scopes) > 0 {
				fmt.Fprintf(w, "    scopes: [%s]\n", strings.Join(scopes, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "stdin", false, "read an existing key from stdin instead of generating one")
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "scopes to put in the entry")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
