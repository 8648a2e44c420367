package gateway

import (
	"testing"

	"pinpoint/internal/config"
)

func mustParse(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}
