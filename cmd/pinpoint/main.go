// Command pinpoint is the gateway's single binary; the CLI lives in
// internal/cli.
package main

import (
	"os"

	"pinpoint/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
