package httpfield

import (
	"net/textproto"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

func TestCanonicalKeyMatchesTextproto(t *testing.T) {
	for _, k := range []string{"Host", "host", "HOST", "content-type", "Content-Type", "X-Foo-Bar", "x-foo_bar", "a", "A-", "-a", "WWW-Authenticate", "Accept-encoding", "x1-y2"} {
		if got, want := CanonicalKey(k), textproto.CanonicalMIMEHeaderKey(k); got != want {
			t.Errorf("%q: %q, textproto says %q", k, got, want)
		}
	}
}

func TestTrimOWSKeepsLineBreaks(t *testing.T) {
	for in, want := range map[string]string{" a ": "a", "\ta b\t": "a b", "": "", " \t ": "", "a\r": "a\r", "\na": "\na"} {
		if got := TrimOWS(in); got != want {
			t.Errorf("TrimOWS(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzFieldSyntax holds the package to the rules net/http applies:
// tokens as httpguts.ValidHeaderFieldName, values as
// httpguts.ValidHeaderFieldValue, keys as textproto.
func FuzzFieldSyntax(f *testing.F) {
	for _, s := range []string{"Content-Type", "x-a", "a b", "é", "v\x7f", "\t x \t", "Key:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsToken(s), httpguts.ValidHeaderFieldName(s); got != want {
			t.Fatalf("IsToken(%q) = %v, httpguts says %v", s, got, want)
		}
		if got, want := ValidValue(s), httpguts.ValidHeaderFieldValue(s); got != want {
			t.Fatalf("ValidValue(%q) = %v, httpguts says %v", s, got, want)
		}
		if IsToken(s) {
			if got, want := CanonicalKey(s), textproto.CanonicalMIMEHeaderKey(s); got != want {
				t.Fatalf("CanonicalKey(%q) = %q, textproto says %q", s, got, want)
			}
		}
		if tr := TrimOWS(s); strings.Trim(s, " \t") != tr {
			t.Fatalf("TrimOWS(%q) = %q", s, tr)
		}
	})
}
