package h1server

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// The fast path for request targets must give exactly what
// url.ParseRequestURI gives.
func TestParseTargetMatchesURL(t *testing.T) {
	const alphabet = "/?%&=+;:@$,.-_~!*'()[]#aZ09 \x01\x7f\xe9"
	rng := rand.New(rand.NewPCG(1, 2))
	targets := []string{"/", "/a", "/a?b", "/a?", "/?", "/a??b", "//x", "/a#b", "/%41", "/caf\xe9", "/a b", "*"}
	for range 20000 {
		b := []byte{'/'}
		for n := rng.IntN(12); n > 0; n-- {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		targets = append(targets, string(b))
	}
	for _, target := range targets {
		var u url.URL
		got, gotErr := parseTarget("GET", target, &u)
		want, wantErr := url.ParseRequestURI(target)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, url says %v", target, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(*got, *want) {
			t.Fatalf("%q: got %#v, url says %#v", target, *got, *want)
		}
	}
}

func TestHasToken(t *testing.T) {
	for _, tc := range []struct {
		v, tok string
		want   bool
	}{
		{"close", "close", true},
		{"Keep-Alive, Close", "close", true},
		{"closed", "close", false},
		{"unclose", "close", false},
		{"foo,\tclose", "close", true},
		{"clo\u017fe", "close", false}, // Unicode folding must not apply
		{"", "close", false},
	} {
		if got := hasToken(tc.v, tc.tok); got != tc.want {
			t.Errorf("hasToken(%q, %q) = %v", tc.v, tc.tok, got)
		}
	}
}

func TestDeadlineReuse(t *testing.T) {
	now := time.Now()
	var d deadline
	if _, set := d.next(time.Time{}, 0); !set {
		t.Error("unknown deadline must be set")
	}
	d = deadline{known: true}
	if _, set := d.next(time.Time{}, 0); set {
		t.Error("no deadline wanted, none set: nothing to do")
	}
	at, set := d.next(now.Add(time.Minute), time.Second)
	if !set || !at.Equal(now.Add(time.Minute+time.Second)) {
		t.Fatalf("set %v at %v", set, at)
	}
	d = deadline{at: at, known: true}
	if _, set := d.next(now.Add(time.Minute+500*time.Millisecond), time.Second); set {
		t.Error("a deadline within the slack must be kept")
	}
	if _, set := d.next(now.Add(time.Minute+2*time.Second), time.Second); !set {
		t.Error("a deadline earlier than wanted must be moved")
	}
	if _, set := d.next(now.Add(time.Second), time.Second); !set {
		t.Error("a deadline later than want+slack must be moved")
	}
}

func TestAppendDate(t *testing.T) {
	now := time.Date(2026, 11, 25, 5, 6, 7, 800, time.FixedZone("X", 3600))
	if got, want := string(appendDate(nil, now)), now.UTC().Format(http.TimeFormat); got != want {
		t.Errorf("%q, want %q", got, want)
	}
	later := now.Add(1500 * time.Millisecond)
	if got, want := string(appendDate([]byte("Date: "), later)), "Date: "+later.UTC().Format(http.TimeFormat); got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
