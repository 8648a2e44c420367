package request

import (
	"mime"
	"testing"
)

// FuzzMediaType: the fast path answers exactly what mime.ParseMediaType
// answers, for any header value.
func FuzzMediaType(f *testing.F) {
	for _, s := range []string{"", "application/json", "text/plain; charset=utf-8", "Application/JSON", " text/plain", "text", "a/b/c", "/json", "json/",
		"application/vnd.api+json", "multipart/form-data; boundary=x", "text/plain;", "tëxt/plain", "text/pl ain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		got, ok := mediaType(ct)
		want, _, err := mime.ParseMediaType(ct)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("mediaType(%q) = %q, %v; mime.ParseMediaType gives %q, %v", ct, got, ok, want, err)
		}
	})
}
