package origins

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	s, err := Parse([]string{"https://app.example.com", "http://localhost:3000", "https://*.example.org", "HTTPS://Shop.Example.NET:443", "http://[::1]:8080"})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]string{
		"https://app.example.com":     "https://app.example.com",
		"https://APP.example.com":     "https://app.example.com",
		"https://app.example.com:443": "https://app.example.com",
		"http://localhost:3000":       "http://localhost:3000",
		"https://a.example.org":       "https://*.example.org",
		"https://a.b.example.org":     "https://*.example.org",
		"https://shop.example.net":    "HTTPS://Shop.Example.NET:443",
		"http://[::1]:8080":           "http://[::1]:8080",
	} {
		if got, ok := s.Match(origin); !ok || got != want {
			t.Errorf("Match(%q) = %q, %v; want %q", origin, got, ok, want)
		}
	}
	for _, origin := range []string{
		"", "null", "http://app.example.com", "https://app.example.com:8443", "https://example.org",
		"https://evil-example.org", "https://a.example.org.evil.com", "http://a.example.org",
		"https://a.example.org:444", "http://localhost:3001", "https://*.example.org", "not an origin",
	} {
		if got, ok := s.Match(origin); ok {
			t.Errorf("Match(%q) = %q, want no match", origin, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"app.example.com":             "is not an origin",
		"https://app.example.com/":    "no path",
		"https://app.example.com/x":   "no path",
		"https://u@app.example.com":   "no path, query or user",
		"https://*.com":               "must be like https://*.example.com",
		"https://a.*.example.com":     "* is allowed only as the first label",
		"https://app.example.com:":    "empty port",
		"https://app.example.com?x=1": "no path",
	} {
		_, err := Parse([]string{in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error %v, want %q", in, err, want)
		}
	}
	s, err := Parse([]string{"*"})
	if err != nil || !s.Any() {
		t.Fatalf("* not parsed as any: %v", err)
	}
	if _, ok := s.Match("null"); ok {
		t.Error("* must not match the null origin")
	}
	if !(&Set{}).Empty() || s.Empty() {
		t.Error("Empty is wrong")
	}
}
