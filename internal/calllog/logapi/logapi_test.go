package logapi

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSimulateRequestBuild(t *testing.T) {
	t.Parallel()
	ok := SimulateRequest{URL: "http://api.test/orders?x=1", Body: `{"a":1}`, Headers: map[string]string{"X-API-Key": "k", "Host": "other.test"}}
	r, err := ok.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.Host != "other.test" || r.URL.Path != "/orders" || r.Header.Get("X-API-Key") != "k" || r.ContentLength != 7 {
		t.Errorf("built %s %s %s %v %d", r.Method, r.Host, r.URL, r.Header, r.ContentLength)
	}
	for _, c := range []struct {
		in   SimulateRequest
		want string
	}{
		{SimulateRequest{}, "url is required"},
		{SimulateRequest{URL: "/orders"}, "needs a scheme and host"},
		{SimulateRequest{URL: "http://a/", Method: "GE T"}, "not a valid HTTP method"},
		{SimulateRequest{URL: "http://a/", From: "nope"}, "not an IP address"},
	} {
		if _, err := c.in.Build(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"15m":                  now.Add(-15 * time.Minute),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2025-03-01T00:00:00Z": time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		"":                     {},
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", "xd"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
