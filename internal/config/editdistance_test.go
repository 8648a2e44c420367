package config

import (
	"strings"
	"testing"
)

// Short words are compared with rows on the stack, long ones with rows on
// the heap; both give the Levenshtein distance.
func TestEditDistance(t *testing.T) {
	long := strings.Repeat("abcdefgh", 8) // 64 bytes: past the stack rows
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"orders", "ordrs", 1},
		{"ordrs", "orders", 1},
		{"kitten", "sitting", 3},
		{"", "orders", 6},
		{"orders", "", 6},
		{long, long, 0},
		{long, long[1:], 1},
		{long[1:], long, 1},
		{"x" + long, long + "y", 2},
		{"orders", long, 62}, // "de" lines up
	}
	for _, c := range cases {
		if got := EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
