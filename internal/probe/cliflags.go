package probe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrHelp is returned by SplitFlags for -h/--help.
var ErrHelp = errors.New("help requested")

// SplitFlags separates probe's own flags from the curl-style ones. The
// CLI cannot let a generic flag parser see curl's flags (-d, -b, -u, -F
// and -H mean curl things), so probe's flags are taken out by name and
// everything else is the request. "--" ends probe's flags.
func SplitFlags(args []string) (Options, error) {
	var o Options
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, inline, hasInline := a, "", false
		if strings.HasPrefix(a, "--") {
			if k, v, ok := strings.Cut(a, "="); ok {
				name, inline, hasInline = k, v, true
			}
		}
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "-h", "--help":
			return o, ErrHelp
		case "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case "--curl":
			o.Curl, err = value()
		case "--har":
			o.HARFile, err = value()
		case "--entry":
			if v, err = value(); err == nil {
				o.HAREntry, err = strconv.Atoi(v)
			}
		case "--response":
			o.ResponseFile, err = value()
		case "--log":
			if v, err = value(); err == nil {
				o.LogFiles = append(o.LogFiles, v)
			}
		case "--allow-replay":
			if v, err = value(); err == nil {
				o.AllowReplay, err = strconv.Atoi(v)
				if err == nil && o.AllowReplay < 0 {
					err = errors.New("--allow-replay must be >= 0")
				}
			}
		case "--offline":
			o.Offline = true
		case "--yes", "-y":
			o.Yes = true
		case "--json":
			o.JSON = true
		case "--no-color":
			o.NoColor = true
		default:
			rest = append(rest, a)
		}
		if err != nil {
			return o, fmt.Errorf("%s: %w", name, err)
		}
	}
	o.Args = rest
	return o, nil
}

// Usage is the help text of `pinpoint probe`.
const Usage = `Usage:
  pinpoint probe [probe flags] [curl flags] URL
  pinpoint probe --curl "curl 'https://…' -X POST -H …"
  pinpoint probe --har session.har [--entry N]

Diagnoses why a server denied a request (403, 401, 419, 429 …): checks the
request, the credentials, what the server says, isolates by changing one thing
at a time, checks the network path and reads server logs.

Curl flags: -X -H -d --data-raw --data-binary @file --data-urlencode --json
            -F -u -b -A -e -G -I -k -L --url

Probe flags:
  --curl CMD          a pasted curl command (bash or Windows cmd quoting)
  --har FILE          a HAR export; the failing POST by default, nothing is sent
  --entry N           the HAR entry to analyse (1-based)
  --response FILE     a saved raw response (curl -i output); nothing is sent
  --log FILE          a server log to match the request in (repeatable)
  --offline           send nothing
  --yes, -y           send the original request without asking
  --allow-replay N    allow up to N variations of the request (they may create data)
  --json              JSON output for tools
  --no-color          no colour even on a terminal

Safety: the original request is sent at most once, after it is shown and, on a
terminal, confirmed. Automatic checks only use OPTIONS, HEAD and GET on the
same URL, DNS and TLS. Nothing is sent to another host.

Exit codes: 0 the request succeeds, 1 a cause was found, 2 no cause was found.
`
