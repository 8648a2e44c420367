package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"pinpoint/internal/probe"
)

func init() { register(newProbeCommand) }

// newProbeCommand wires `pinpoint probe`. Flag parsing is disabled because
// the request is given with curl's own flags (-d, -b, -u, -F, -H), which a
// generic parser would take for ours; probe.SplitFlags separates them.
func newProbeCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "probe [flags] [curl flags] URL",
		Short:              "Diagnose a 403 (or other denial) from any server, pinpoint or not",
		Long:               probe.Usage,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := probe.SplitFlags(args)
			if errors.Is(err, probe.ErrHelp) {
				fmt.Fprint(cmd.OutOrStdout(), probe.Usage)
				return nil
			}
			if err != nil {
				return err
			}
			o.Out = cmd.OutOrStdout()
			o.Err = cmd.ErrOrStderr()
			o.Color = !o.NoColor && !o.JSON && isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""
			if isTerminal(os.Stdin) && isTerminal(os.Stderr) {
				o.Confirm = askYesNo
			}
			return probe.Run(cmd.Context(), o)
		},
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// askYesNo asks on stderr and reads one line from stdin; anything but
// y/yes is no.
func askYesNo(prompt string) bool {
	fmt.Fprint(os.Stderr, prompt)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}
