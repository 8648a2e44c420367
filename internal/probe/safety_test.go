package probe

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// countingServer counts what reached it, by method, and denies POSTs
// that carry cookies the way Django does (so replays have something to
// prove).
type countingServer struct {
	mu     sync.Mutex
	counts map[string]int
	srv    *httptest.Server
}

func newCountingServer(t *testing.T) *countingServer {
	cs := &countingServer{counts: map[string]int{}}
	cs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.counts[r.Method]++
		cs.mu.Unlock()
		switch {
		case r.Method == "OPTIONS":
			w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
			w.WriteHeader(200)
		case r.Method == "POST" && r.Header.Get("Cookie") != "":
			w.WriteHeader(403)
			_, _ = w.Write([]byte("<h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p>"))
		default:
			w.WriteHeader(200)
		}
	}))
	t.Cleanup(cs.srv.Close)
	return cs
}

func (cs *countingServer) count(m string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.counts[m]
}

func (cs *countingServer) total() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	n := 0
	for _, v := range cs.counts {
		n += v
	}
	return n
}

func postArgs(url string) []string {
	return []string{"-X", "POST", url + "/api/orders", "-H", "Content-Type: application/json", "-b", "sessionid=abc; csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345",
		"-H", "Origin: http://app.test", "-d", `{"item":1}`}
}

func baseOpts(args []string) Options {
	return Options{Args: args, Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Env: func(string) string { return "" }}
}

func TestSafetyDefaultSendsOnePostAtMost(t *testing.T) {
	cs := newCountingServer(t)
	o := baseOpts(postArgs(cs.srv.URL))
	o.Yes = true
	rep, err := Probe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if n := cs.count("POST"); n != 1 {
		t.Fatalf("POSTs = %d, want 1", n)
	}
	// Safe variations were sent and only those.
	if cs.count("OPTIONS") != 1 || cs.count("GET") != 1 || cs.total() != 3 {
		t.Fatalf("counts = %v", cs.counts)
	}
	if rep.ExitCode != 1 || rep.Diagnosis[0].ID != "django.csrf" {
		t.Fatalf("exit %d, top %+v", rep.ExitCode, rep.Diagnosis)
	}
	// The GET passed while the POST failed: that is recorded as evidence.
	if !strings.Contains(strings.Join(rep.Diagnosis[0].Evidence, "\n"), "only the POST is refused") {
		t.Errorf("isolation evidence missing: %v", rep.Diagnosis[0].Evidence)
	}
}

func TestSafetyNoTerminalNoYesSendsNothing(t *testing.T) {
	cs := newCountingServer(t)
	o := baseOpts(postArgs(cs.srv.URL))
	rep, err := Probe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cs.total() != 0 {
		t.Fatalf("sent %v without consent", cs.counts)
	}
	if !strings.Contains(o.Err.(*bytes.Buffer).String(), "not sent") {
		t.Error("the user is not told the request was not sent")
	}
	if len(rep.Sent) != 0 {
		t.Errorf("report lists sends: %v", rep.Sent)
	}
}

func TestSafetyConfirmAskedAndNoMeansNothing(t *testing.T) {
	cs := newCountingServer(t)
	o := baseOpts(postArgs(cs.srv.URL))
	asked := ""
	o.Confirm = func(p string) bool { asked = p; return false }
	if _, err := Probe(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(asked, "POST") || cs.total() != 0 {
		t.Fatalf("asked %q, counts %v", asked, cs.counts)
	}
	// What was shown before asking has the secrets masked.
	shown := o.Err.(*bytes.Buffer).String()
	if strings.Contains(shown, "AbCdEfGhIjKlMnOpQrStUvWxYz012345") || !strings.Contains(shown, "csrftoken=AbCd…(32 chars)") {
		t.Errorf("cookie not masked: %s", shown)
	}
}

func TestSafetyOfflineSendsNothing(t *testing.T) {
	cs := newCountingServer(t)
	o := baseOpts(postArgs(cs.srv.URL))
	o.Offline, o.Yes, o.AllowReplay = true, true, 5
	rep, err := Probe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cs.total() != 0 {
		t.Fatalf("offline sent %v", cs.counts)
	}
	// Offline checks still found the missing CSRF header.
	if rep.ExitCode != 1 || !hasFinding(rep, "csrf.token_missing") {
		t.Fatalf("exit %d diagnosis %v", rep.ExitCode, rep.Diagnosis)
	}
}

func TestSafetyAllowReplayExactlyN(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		cs := newCountingServer(t)
		o := baseOpts(postArgs(cs.srv.URL))
		o.Yes, o.AllowReplay = true, n
		rep, err := Probe(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if got := cs.count("POST"); got != 1+n {
			t.Fatalf("allow-replay %d: POSTs = %d, want the original plus %d", n, got, n)
		}
		replays := 0
		for _, e := range rep.Sent {
			if e.Kind == "replay" {
				replays++
			}
		}
		if replays != n {
			t.Fatalf("report lists %d replays", replays)
		}
		if !strings.Contains(o.Err.(*bytes.Buffer).String(), "may create data") {
			t.Error("replays are not announced with a warning")
		}
		// The first replay drops the cookies; this server then accepts,
		// which proves the cookie triggers CSRF checking.
		f := findingByID(rep, "isolation.cookie")
		if f == nil || !strings.Contains(f.Title, "session cookie triggers CSRF checking") {
			t.Fatalf("missing isolation conclusion: %+v", rep.Diagnosis)
		}
	}
}

func TestSafetyHARSendsNothing(t *testing.T) {
	cs := newCountingServer(t)
	o := Options{HARFile: "testdata/chromium.har", Yes: true, AllowReplay: 3, Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Env: func(string) string { return "" }}
	rep, err := Probe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cs.total() != 0 || len(rep.Sent) != 0 || !rep.Response.Recorded {
		t.Fatalf("HAR analysis sent something: %v", rep.Sent)
	}
	if rep.Diagnosis[0].ID != "django.csrf" {
		t.Errorf("top = %s", rep.Diagnosis[0].ID)
	}
}

func TestSenderRules(t *testing.T) {
	cs := newCountingServer(t)
	named := &Request{Method: "POST", URL: cs.srv.URL + "/x", Header: http.Header{}}
	s, err := NewSender(named, SenderOptions{Yes: true, AllowReplay: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other := &Request{Method: "GET", URL: "http://127.0.0.2:1/x", Header: http.Header{}}
	if _, err := s.SendSafe(ctx, other, "x"); !errors.Is(err, ErrHost) {
		t.Errorf("another host: %v", err)
	}
	if _, err := s.SendSafe(ctx, &Request{Method: "POST", URL: named.URL, Header: http.Header{}}, "x"); !errors.Is(err, ErrUnsafe) {
		t.Errorf("POST as safe: %v", err)
	}
	if _, err := s.SendSafe(ctx, &Request{Method: "GET", URL: named.URL, Header: http.Header{}, Body: []byte("x")}, "x"); !errors.Is(err, ErrUnsafe) {
		t.Errorf("GET with body as safe: %v", err)
	}
	if _, err := s.SendOriginal(ctx, named); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendOriginal(ctx, named); !errors.Is(err, ErrResent) {
		t.Errorf("second original: %v", err)
	}
	if _, err := s.SendReplay(ctx, named, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendReplay(ctx, named, "r"); !errors.Is(err, ErrBudget) {
		t.Errorf("over budget: %v", err)
	}
	if cs.count("POST") != 2 || cs.total() != 2 {
		t.Fatalf("counts %v", cs.counts)
	}
}

// A 302 on the POST is reported and not followed to another host.
func TestRedirectPostToGetReported(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, "https://elsewhere.invalid/login", http.StatusFound)
	}))
	defer srv.Close()
	o := baseOpts([]string{"-X", "POST", srv.URL + "/submit", "-d", "a=1"})
	o.Yes = true
	rep, err := Probe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if hits != 1 || rep.ExitCode != 1 || !hasFinding(rep, "path.redirect_post_to_get") {
		t.Fatalf("hits %d, report %+v", hits, rep.Diagnosis)
	}
	found := false
	for _, s := range rep.Checklist {
		found = found || (s.Name == "redirects" && s.Status == Fail)
	}
	if !found {
		t.Error("redirect turning POST into GET not flagged")
	}
}

func hasFinding(rep *Report, id string) bool { return findingByID(rep, id) != nil }

func findingByID(rep *Report, id string) *Finding {
	for i := range rep.Diagnosis {
		if rep.Diagnosis[i].ID == id {
			return &rep.Diagnosis[i]
		}
	}
	return nil
}
