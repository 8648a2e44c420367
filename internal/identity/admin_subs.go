package identity

import (
	"net/http"

	"pinpoint/internal/admin"
)

type applyBody struct {
	Consumer string `json:"consumer"`
	Service  string `json:"service"`
}

func (a *adminAPI) apply(w http.ResponseWriter, r *http.Request) {
	var in applyBody
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	s, err := a.repo.Apply(r.Context(), in.Consumer, in.Service)
	if err != nil {
		a.fail(w, "consumer "+in.Consumer, err)
		return
	}
	a.changed(r, "subscription.apply", "subscription:"+s.ID, map[string]any{"consumer": s.ConsumerID, "service": s.Service})
	admin.WriteJSON(w, http.StatusCreated, s)
}

func (a *adminAPI) listSubs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	subs, err := a.repo.ListSubscriptions(r.Context(), SubscriptionFilter{ConsumerID: q.Get("consumer"), Service: q.Get("service"), Status: q.Get("status")})
	if err != nil {
		a.fail(w, "subscriptions", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, subs)
}

func (a *adminAPI) decide(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var in reasonBody
		if !optionalBody(w, r, &in) {
			return
		}
		s, err := a.repo.Decide(r.Context(), id, status, admin.Actor(r), in.Reason)
		if err != nil {
			a.fail(w, "subscription "+id, err)
			return
		}
		a.changed(r, "subscription."+status, "subscription:"+id, map[string]any{"consumer": s.ConsumerID, "service": s.Service, "reason": s.Reason})
		admin.WriteJSON(w, http.StatusOK, s)
	}
}

type tenantBody struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (a *adminAPI) createTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantBody
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	t, err := a.repo.CreateTenant(r.Context(), in.ID, in.Name)
	if err != nil {
		a.fail(w, "tenant "+in.ID, err)
		return
	}
	a.changed(r, "tenant.create", "tenant:"+t.ID, map[string]any{"name": t.Name})
	admin.WriteJSON(w, http.StatusCreated, t)
}

func (a *adminAPI) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := a.repo.ListTenants(r.Context())
	if err != nil {
		a.fail(w, "tenants", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, ts)
}

func (a *adminAPI) deleteTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.repo.DeleteTenant(r.Context(), id); err != nil {
		a.fail(w, "tenant "+id, err)
		return
	}
	a.changed(r, "tenant.delete", "tenant:"+id, "")
	admin.WriteJSON(w, http.StatusOK, map[string]any{"deleted": id})
}

type roleBody struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

func (a *adminAPI) createRole(w http.ResponseWriter, r *http.Request) {
	var in roleBody
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	ro, err := a.repo.CreateRole(r.Context(), in.Name, in.Description)
	if err != nil {
		a.fail(w, "role "+in.Name, err)
		return
	}
	a.changed(r, "role.create", "role:"+ro.Name, map[string]any{"description": ro.Description})
	admin.WriteJSON(w, http.StatusCreated, ro)
}

func (a *adminAPI) listRoles(w http.ResponseWriter, r *http.Request) {
	rs, err := a.repo.ListRoles(r.Context())
	if err != nil {
		a.fail(w, "roles", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, rs)
}

func (a *adminAPI) deleteRole(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.repo.DeleteRole(r.Context(), name); err != nil {
		a.fail(w, "role "+name, err)
		return
	}
	a.changed(r, "role.delete", "role:"+name, "")
	admin.WriteJSON(w, http.StatusOK, map[string]any{"deleted": name})
}
