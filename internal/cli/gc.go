package cli

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the collector's target when GOGC is not set. A
// gateway's live heap is small (routes, pools, the trace queue) while
// every request allocates, so Go's default of 100 collects many times a
// second under load; measured on a proxied POST, collection was about 8%
// of the CPU per request at 100. At 300 the heap may grow to four times
// the live data before a collection, a few tens of MB for a busy gateway.
// GOGC (and GOMEMLIMIT) in the environment still decide when set.
const defaultGCPercent = 300

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
