package mock

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Recorded is one request the mock received.
type Recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Server is the mock provider.
type Server struct {
	mu   sync.Mutex
	reqs []Recorded
	// Slow is how long "slow" models wait.
	Slow time.Duration
}

// NewServer returns the mock provider as an http.Handler. Paths ending in
// /chat/completions or /embeddings speak OpenAI, /v1/messages Anthropic,
// and models/{model}:generateContent (or :streamGenerateContent,
// :batchEmbedContents) Gemini.
func NewServer() *Server { return &Server{Slow: 300 * time.Millisecond} }

var _ http.Handler = (*Server)(nil)

// Requests returns what the mock received, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.reqs...)
}

// Count is how many requests reached paths containing substr.
func (s *Server) Count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if strings.Contains(r.Path, substr) {
			n++
		}
	}
	return n
}

// Last returns the last request to a path containing substr.
func (s *Server) Last(substr string) (Recorded, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.reqs) - 1; i >= 0; i-- {
		if strings.Contains(s.reqs[i].Path, substr) {
			return s.reqs[i], true
		}
	}
	return Recorded{}, false
}

// Reset forgets recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// ServeHTTP dispatches on the path to the wire format it names.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	s.mu.Lock()
	if len(s.reqs) >= 1000 {
		s.reqs = s.reqs[500:]
	}
	s.reqs = append(s.reqs, Recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()
	p := r.URL.Path
	switch {
	case r.Method != http.MethodPost:
		http.Error(w, "mock: POST only", http.StatusMethodNotAllowed)
	case strings.HasSuffix(p, "/chat/completions"):
		s.openAIChat(w, r, body)
	case strings.HasSuffix(p, "/embeddings"):
		s.openAIEmbeddings(w, r, body)
	case strings.HasSuffix(p, "/v1/messages"):
		s.anthropic(w, r, body)
	case strings.Contains(p, ":generateContent"), strings.Contains(p, ":streamGenerateContent"), strings.Contains(p, ":batchEmbedContents"):
		s.gemini(w, r, body)
	default:
		http.Error(w, "mock: unknown endpoint "+p, http.StatusNotFound)
	}
}

// behaviour is what a model name asks the mock to do.
type behaviour struct {
	status  int
	slow    bool
	cut     bool
	noUsage bool
}

func behaviourOf(model string) behaviour {
	var b behaviour
	for _, code := range []int{400, 429, 500, 503} {
		if strings.Contains(model, "error-"+itoa(code)) {
			b.status = code
		}
	}
	b.slow = strings.Contains(model, "slow")
	b.cut = strings.Contains(model, "cut")
	b.noUsage = strings.Contains(model, "nousage")
	return b
}

func itoa(n int) string {
	var b [12]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

func (s *Server) wait(r *http.Request, b behaviour) bool {
	if !b.slow {
		return true
	}
	select {
	case <-time.After(s.Slow):
		return true
	case <-r.Context().Done():
		return false
	}
}

func badKey(key string) bool { return strings.HasPrefix(key, "sk-bad") }

// words counts whitespace-separated words: the mock's "tokens".
func words(s string) int { return len(strings.Fields(s)) }

// reply is the deterministic answer to the last user text.
func reply(last string) string {
	if len(last) > 200 {
		last = last[:200]
	}
	return "Hello! You said: " + last
}

// pieces splits a reply into stream deltas, one word each (with its
// following space), so concatenating them gives the reply back.
func pieces(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func sse(w http.ResponseWriter) func(event string, data []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	return func(event string, data []byte) {
		var b bytes.Buffer
		if event != "" {
			b.WriteString("event: " + event + "\n")
		}
		b.WriteString("data: ")
		b.Write(data)
		b.WriteString("\n\n")
		_, _ = w.Write(b.Bytes())
		_ = rc.Flush()
	}
}
