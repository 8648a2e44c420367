package gateway

import (
	"slices"
	"testing"

	"pinpoint/internal/config"
)

func TestRestartOnlyNamesWhatAReloadCannotApply(t *testing.T) {
	parse := func(y string) *config.Config {
		t.Helper()
		c, err := config.Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := `
upstreams: {app: {targets: [{url: "http://127.0.0.1:9"}]}}
routes: [{id: a, path: /a, upstream: app}]
`
	old := parse(`listeners: [{addr: "127.0.0.1:8080"}]
store: {dsn: a.db, retention: {days: 7}}` + base)
	same := parse(`listeners: [{addr: "127.0.0.1:8080"}]
store: {dsn: a.db, retention: {days: 1}}
upstreams: {app: {targets: [{url: "http://127.0.0.1:10"}]}}
routes: [{id: b, path: /b, upstream: app}]`)
	if got := restartOnly(old, same); len(got) != 0 {
		t.Errorf("routes, upstreams and retention reload; got %v", got)
	}
	moved := parse(`listeners: [{addr: "127.0.0.1:9090"}]
store: {dsn: b.db}
server: {shutdown_grace: 1s}` + base)
	want := []string{"listeners", "store (driver, dsn, queue)", "server"}
	if got := restartOnly(old, moved); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
