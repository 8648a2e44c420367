package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"pinpoint/internal/admin"
)

func init() { admin.RegisterModule(registerAdmin) }

// adminAPI serves /admin/v1/{consumers,keys,subscriptions,tenants,roles}.
type adminAPI struct {
	s    *admin.Server
	repo *Repo
	live *Live
}

func registerAdmin(s *admin.Server) error {
	if s.Store == nil {
		return nil
	}
	live, err := SharedLive(s.Env)
	if err != nil {
		return err
	}
	a := &adminAPI{s: s, repo: NewRepo(s.Store, func() time.Time { return s.Env.Now() }), live: live}
	for pattern, h := range map[string]http.HandlerFunc{
		"POST /admin/v1/consumers":                  a.createConsumer,
		"GET /admin/v1/consumers":                   a.listConsumers,
		"GET /admin/v1/consumers/{id}":              a.showConsumer,
		"PATCH /admin/v1/consumers/{id}":            a.updateConsumer,
		"DELETE /admin/v1/consumers/{id}":           a.deleteConsumer,
		"POST /admin/v1/consumers/{id}/suspend":     a.suspendConsumer,
		"POST /admin/v1/consumers/{id}/resume":      a.resumeConsumer,
		"POST /admin/v1/consumers/{id}/keys":        a.createKey,
		"GET /admin/v1/keys":                        a.listKeys,
		"GET /admin/v1/keys/{id}":                   a.showKey,
		"POST /admin/v1/keys/{id}/revoke":           a.revokeKey,
		"POST /admin/v1/keys/{id}/rotate":           a.rotateKey,
		"POST /admin/v1/keys/{id}/expire":           a.expireKey,
		"PUT /admin/v1/keys/{id}/scopes":            a.setScopes,
		"POST /admin/v1/subscriptions":              a.apply,
		"GET /admin/v1/subscriptions":               a.listSubs,
		"POST /admin/v1/subscriptions/{id}/approve": a.decide(SubApproved),
		"POST /admin/v1/subscriptions/{id}/reject":  a.decide(SubRejected),
		"POST /admin/v1/subscriptions/{id}/revoke":  a.decide(SubRevoked),
		"POST /admin/v1/tenants":                    a.createTenant,
		"GET /admin/v1/tenants":                     a.listTenants,
		"DELETE /admin/v1/tenants/{id}":             a.deleteTenant,
		"POST /admin/v1/roles":                      a.createRole,
		"GET /admin/v1/roles":                       a.listRoles,
		"DELETE /admin/v1/roles/{name}":             a.deleteRole,
	} {
		s.HandleFunc(pattern, h)
	}
	return nil
}

// changed applies a write to this node's snapshot at once (other nodes
// pick it up from the version counter) and records it in the audit log.
func (a *adminAPI) changed(r *http.Request, action, target string, detail any) {
	if err := a.live.Refresh(context.WithoutCancel(r.Context())); err != nil {
		a.s.Logger.Warn("identity: refreshing the snapshot after a change failed; the poller will retry", "err", err)
	}
	a.s.Audit(r, action, target, detail)
}

// fail maps repository errors to admin API errors.
func (a *adminAPI) fail(w http.ResponseWriter, what string, err error) {
	var in *InputError
	switch {
	case errors.Is(err, ErrNotFound):
		admin.WriteError(w, http.StatusNotFound, "not_found", what+" not found")
	case errors.As(err, &in) && in.Conflict:
		admin.WriteError(w, http.StatusConflict, "conflict", in.Msg)
	case errors.As(err, &in):
		admin.WriteError(w, http.StatusBadRequest, "bad_request", in.Msg)
	default:
		a.s.Logger.Error("identity admin: store error", "what", what, "err", err)
		admin.WriteError(w, http.StatusInternalServerError, "store_error", "the identity store failed; see the gateway log")
	}
}

// optionalBody decodes a JSON body when there is one; actions such as
// resume or approve may be sent without a body.
func optionalBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return true
	}
	return admin.DecodeJSON(w, r, v)
}
