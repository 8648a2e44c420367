package cli

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/spf13/cobra"

	_ "pinpoint/internal/layers" // every layer and handler registers itself.
)

// Version is set at build time with -ldflags "-X pinpoint/internal/cli.Version=…".
var Version = "0.1.0-dev"

var (
	cmdMu    sync.Mutex
	commands []func() *cobra.Command
)

// register adds a top-level command; each command file calls it from init.
func register(f func() *cobra.Command) {
	cmdMu.Lock()
	defer cmdMu.Unlock()
	commands = append(commands, f)
}

// ExitCoder is an error that asks for a specific exit code (probe uses 1
// and 2 for "cause found" and "no cause found").
type ExitCoder interface {
	error
	ExitCode() int
}

// NewRoot builds the command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "pinpoint",
		Short: "An API gateway that says exactly why it denied a request",
		Long: `pinpoint is an API and AI gateway. Every request it denies names the layer,
the code, the rule and the fix, carries a request id, and
'pinpoint explain <id>' shows the whole decision.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("admin", "", "admin API URL (default $PINPOINT_ADMIN_URL or http://127.0.0.1:9901)")
	root.PersistentFlags().String("admin-token", "", "admin API token (default $PINPOINT_ADMIN_TOKEN or the token file written by serve/demo)")
	cmdMu.Lock()
	fs := append([]func() *cobra.Command(nil), commands...)
	cmdMu.Unlock()
	for _, f := range fs {
		root.AddCommand(f())
	}
	return root
}

// Main runs the CLI and returns the process exit code.
func Main(args []string) int {
	root := NewRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ec ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "pinpoint:", err)
	return 1
}
