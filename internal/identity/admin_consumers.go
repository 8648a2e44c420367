package identity

import (
	"net/http"

	"pinpoint/internal/admin"
)

func (a *adminAPI) createConsumer(w http.ResponseWriter, r *http.Request) {
	var in NewConsumer
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	c, err := a.repo.CreateConsumer(r.Context(), in)
	if err != nil {
		a.fail(w, "consumer", err)
		return
	}
	a.changed(r, "consumer.create", "consumer:"+c.ID, map[string]any{"name": c.Name, "tenant": c.Tenant, "roles": c.Roles, "password": c.HasPassword})
	admin.WriteJSON(w, http.StatusCreated, c)
}

func (a *adminAPI) listConsumers(w http.ResponseWriter, r *http.Request) {
	cs, err := a.repo.ListConsumers(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		a.fail(w, "consumers", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, cs)
}

// ConsumerDetail is a consumer with its keys and subscriptions.
type ConsumerDetail struct {
	Consumer      *Consumer       `json:"consumer"`
	Keys          []*Key          `json:"keys"`
	Subscriptions []*Subscription `json:"subscriptions"`
}

func (a *adminAPI) showConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := a.repo.GetConsumer(r.Context(), id)
	if err != nil {
		a.fail(w, "consumer "+id, err)
		return
	}
	ks, err := a.repo.ListKeys(r.Context(), id)
	if err != nil {
		a.fail(w, "keys", err)
		return
	}
	subs, err := a.repo.ListSubscriptions(r.Context(), SubscriptionFilter{ConsumerID: id})
	if err != nil {
		a.fail(w, "subscriptions", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, ConsumerDetail{Consumer: c, Keys: ks, Subscriptions: subs})
}

func (a *adminAPI) updateConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var p ConsumerPatch
	if !admin.DecodeJSON(w, r, &p) {
		return
	}
	c, err := a.repo.UpdateConsumer(r.Context(), id, p)
	if err != nil {
		a.fail(w, "consumer "+id, err)
		return
	}
	changed := []string{}
	for name, set := range map[string]bool{"name": p.Name != nil, "tenant": p.Tenant != nil, "roles": p.Roles != nil, "metadata": p.Metadata != nil, "password": p.Password != nil} {
		if set {
			changed = append(changed, name)
		}
	}
	a.changed(r, "consumer.update", "consumer:"+id, map[string]any{"fields": changed})
	admin.WriteJSON(w, http.StatusOK, c)
}

func (a *adminAPI) deleteConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.repo.DeleteConsumer(r.Context(), id); err != nil {
		a.fail(w, "consumer "+id, err)
		return
	}
	a.changed(r, "consumer.delete", "consumer:"+id, "")
	admin.WriteJSON(w, http.StatusOK, map[string]any{"deleted": id})
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (a *adminAPI) suspendConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in reasonBody
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	c, err := a.repo.SetSuspended(r.Context(), id, true, in.Reason)
	if err != nil {
		a.fail(w, "consumer "+id, err)
		return
	}
	a.changed(r, "consumer.suspend", "consumer:"+id, map[string]any{"reason": c.SuspendedReason})
	admin.WriteJSON(w, http.StatusOK, c)
}

func (a *adminAPI) resumeConsumer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := a.repo.SetSuspended(r.Context(), id, false, "")
	if err != nil {
		a.fail(w, "consumer "+id, err)
		return
	}
	a.changed(r, "consumer.resume", "consumer:"+id, "")
	admin.WriteJSON(w, http.StatusOK, c)
}
