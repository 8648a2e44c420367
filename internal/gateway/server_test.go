package gateway

import (
	"net/http"
	"testing"

	"pinpoint/internal/config"
	"pinpoint/internal/h1server"
)

// TestListenerEngines: plain HTTP/1.1 listeners run on the builtin server
// unless the config asks for net/http; h2c listeners always run on
// net/http, which speaks HTTP/2.
func TestListenerEngines(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte(`
listeners:
  - {addr: "127.0.0.1:0"}
  - {addr: "127.0.0.1:0", engine: stdlib}
  - {addr: "127.0.0.1:0", h2c: true}
  - {addr: "127.0.0.1:0", engine: builtin}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen(cfg, http.NotFoundHandler(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.closeListeners()
	want := []bool{true, false, false, true}
	for i, srv := range s.servers {
		_, builtin := srv.(*h1server.Server)
		if builtin != want[i] {
			t.Errorf("listeners[%d]: builtin %v, want %v", i, builtin, want[i])
		}
	}
}
