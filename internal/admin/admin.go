package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/store"
)

func init() {
	store.Register(store.Migration{Feature: "admin", ID: 1, SQL: `
CREATE TABLE IF NOT EXISTS audit_log (
  ts BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts)`})
}

// Gateway is what the admin API may ask of the running gateway.
type Gateway interface {
	// Reload re-reads the config file and swaps the pipeline atomically;
	// a bad config keeps the old one and returns why.
	Reload(ctx context.Context) error
	// Simulate evaluates a request against the live config without an
	// upstream call or side effects, reporting every layer's verdict.
	Simulate(ctx context.Context, r *http.Request, opts SimulateOptions) (any, error)
}

// SimulateOptions are the dry-run knobs of `pinpoint try`.
type SimulateOptions struct {
	AsConsumer string
	From       string
}

// Module adds endpoints to the admin API.
type Module func(s *Server) error

var (
	modMu   sync.Mutex
	modules []Module
)

// RegisterModule adds a module; feature packages call it from init.
func RegisterModule(m Module) {
	modMu.Lock()
	defer modMu.Unlock()
	modules = append(modules, m)
}

// Server is the admin API.
type Server struct {
	Env     *pipeline.Env
	Store   *store.Store
	Gateway Gateway
	Logger  *slog.Logger

	mux       *http.ServeMux
	tokenHash [32]byte
	// Extra holds objects modules share (the trace writer, metrics).
	Extra map[string]any
}

// HashToken returns the "sha256:<hex>" form of a token, for configs.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(h[:])
}

// NewToken makes a random admin token.
func NewToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "ppadm_" + hex.EncodeToString(b)
}

// New builds the admin API. tokenHash is "sha256:<hex>"; token, when set,
// is hashed at once and not kept.
func New(env *pipeline.Env, gw Gateway, token, tokenHash string) (*Server, error) {
	s := &Server{Env: env, Store: env.Store, Gateway: gw, Logger: env.Logger, mux: http.NewServeMux(), Extra: map[string]any{}}
	switch {
	case token != "":
		s.tokenHash = sha256.Sum256([]byte(token))
	case tokenHash != "":
		hexPart, ok := strings.CutPrefix(tokenHash, "sha256:")
		b, err := hex.DecodeString(hexPart)
		if !ok || err != nil || len(b) != 32 {
			return nil, errors.New(`admin.token_hash: want "sha256:<64 hex digits>"`)
		}
		copy(s.tokenHash[:], b)
	default:
		return nil, errors.New("admin: a token or token_hash is required")
	}
	s.HandleFunc("GET /admin/v1/health", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	s.HandleFunc("POST /admin/v1/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Gateway.Reload(r.Context()); err != nil {
			s.Audit(r, "config.reload.failed", "config", err.Error())
			WriteError(w, http.StatusUnprocessableEntity, "config_invalid", err.Error())
			return
		}
		s.Audit(r, "config.reload", "config", "")
		WriteJSON(w, http.StatusOK, map[string]any{"reloaded": true})
	})
	s.HandleFunc("GET /admin/v1/audit", s.listAudit)
	modMu.Lock()
	ms := append([]Module(nil), modules...)
	modMu.Unlock()
	for _, m := range ms {
		if err := m(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Handle registers an authenticated endpoint (Go 1.22 pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.auth(h))
}

// HandleFunc registers an authenticated endpoint.
func (s *Server) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.Handle(pattern, http.HandlerFunc(h))
}

// HandlePublic registers an endpoint without authentication (metrics,
// the dashboard's static files).
func (s *Server) HandlePublic(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves the admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type actorKey struct{}

func (s *Server) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pinpoint-admin"`)
			WriteError(w, http.StatusUnauthorized, "admin_token_missing", "send the admin token as Authorization: Bearer <token> (PINPOINT_ADMIN_TOKEN for the CLI)")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pinpoint-admin", error="invalid_token"`)
			WriteError(w, http.StatusUnauthorized, "admin_token_invalid", "the admin token does not match the gateway's")
			return
		}
		actor := r.Header.Get("Pinpoint-Actor")
		if actor == "" {
			actor = "admin"
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

// Actor is who made an admin request (the Pinpoint-Actor header, or
// "admin").
func Actor(r *http.Request) string {
	if a, ok := r.Context().Value(actorKey{}).(string); ok {
		return a
	}
	return "admin"
}

// Audit records a change. detail must not contain secrets.
func (s *Server) Audit(r *http.Request, action, target string, detail any) {
	var d string
	switch v := detail.(type) {
	case string:
		d = v
	case nil:
	default:
		b, _ := json.Marshal(v)
		d = string(b)
	}
	_, err := s.Store.DB.ExecContext(r.Context(), s.Store.Rebind(`INSERT INTO audit_log (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`),
		time.Now().UnixMicro(), Actor(r), action, target, d)
	if err != nil {
		s.Logger.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	rows, err := s.Store.DB.QueryContext(r.Context(), `SELECT ts, actor, action, target, detail FROM audit_log ORDER BY ts DESC LIMIT 200`)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
		return
	}
	defer rows.Close()
	type entry struct {
		Time   time.Time `json:"time"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Target string    `json:"target"`
		Detail string    `json:"detail,omitempty"`
	}
	out := []entry{}
	for rows.Next() {
		var e entry
		var ts int64
		if err := rows.Scan(&ts, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
			return
		}
		e.Time = time.UnixMicro(ts).UTC()
		out = append(out, e)
	}
	WriteJSON(w, http.StatusOK, out)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes an admin API error: {"error": {"code", "message"}}.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// DecodeJSON reads a JSON request body strictly into v; on failure it
// writes a 400 naming the problem and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("request body: %v", err))
		return false
	}
	return true
}
