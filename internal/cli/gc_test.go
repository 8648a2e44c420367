package cli

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGCRespectsGOGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	t.Setenv("GOGC", "150")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: collector target changed to %d", got)
	}

	os.Unsetenv("GOGC") // t.Setenv restores it afterwards
	tuneGC()
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GOGC unset: collector target %d, want %d", got, defaultGCPercent)
	}
}
