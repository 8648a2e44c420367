package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"pinpoint/internal/explain"
	"pinpoint/internal/trace"
)

// tryDenied makes `pinpoint try` exit 1 when the request would be denied,
// so scripts can use it as a check; the story is already printed.
type tryDenied struct{}

func (tryDenied) Error() string { return "" }
func (tryDenied) ExitCode() int { return 1 }

func init() {
	register(func() *cobra.Command {
		var method, data, as, from string
		var headers []string
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "try [flags] URL",
			Short: "Dry-run a request against the live config",
			Long: `Evaluate a request against the running gateway's config without sending it
upstream and without side effects (no rate-limit tokens spent, nothing logged
as traffic). Unlike a real request it does not stop at the first denial: every
layer's verdict is shown, then the list of changes that would make it pass.
Flags follow curl:

  pinpoint try -X POST https://api.example.com/orders -H 'X-API-Key: …' -d @order.json
  pinpoint try https://api.example.com/orders --as acme --from 203.0.113.7

Exits 1 when the request would be denied.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				in := map[string]any{"method": method, "url": args[0], "as": as, "from": from}
				h := map[string]string{}
				for _, line := range headers {
					k, v, ok := strings.Cut(line, ":")
					if !ok || strings.TrimSpace(k) == "" {
						return fmt.Errorf("header %q: want 'Name: value'", line)
					}
					h[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
				in["headers"] = h
				if data != "" {
					body, err := readData(data, cmd.InOrStdin())
					if err != nil {
						return err
					}
					in["body"] = body
					if method == "" {
						in["method"] = "POST"
					}
				}
				var sim struct {
					RequestID string       `json:"request_id"`
					Route     string       `json:"route"`
					Client    string       `json:"client"`
					Allowed   bool         `json:"allowed"`
					Steps     []trace.Step `json:"steps"`
					Fixes     []string     `json:"fixes"`
				}
				var raw json.RawMessage
				if err := newAdminClient(cmd).do(cmd.Context(), "POST", "/admin/v1/simulate", in, &raw); err != nil {
					return err
				}
				if err := json.Unmarshal(raw, &sim); err != nil {
					return fmt.Errorf("simulate answer: %w", err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					fmt.Fprintln(out, strings.TrimSpace(string(raw)))
				} else {
					m := in["method"].(string)
					if m == "" {
						m = "GET"
					}
					fmt.Fprintf(out, "Dry run of %s %s from %s (nothing sent upstream, no state changed)\n", strings.ToUpper(m), args[0], sim.Client)
					explain.Simulation(out, sim.Steps, sim.Fixes, sim.Route)
				}
				if !sim.Allowed {
					return tryDenied{}
				}
				return nil
			},
		}
		fl := cmd.Flags()
		fl.StringVarP(&method, "request", "X", "", "method (default GET, or POST with -d)")
		fl.StringArrayVarP(&headers, "header", "H", nil, "header 'Name: value' (repeatable)")
		fl.StringVarP(&data, "data", "d", "", "body: text, @file, or @- for standard input")
		fl.StringVar(&as, "as", "", "simulate this consumer without a credential")
		fl.StringVar(&from, "from", "", "simulate this client address")
		fl.BoolVar(&asJSON, "json", false, "print the simulation as JSON")
		return cmd
	})
}

// readData reads a -d value the way curl does.
func readData(d string, stdin io.Reader) (string, error) {
	name, ok := strings.CutPrefix(d, "@")
	if !ok {
		return d, nil
	}
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", fmt.Errorf("reading the body: %w", err)
	}
	return string(b), nil
}
