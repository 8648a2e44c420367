package identity

import (
	"net/http"
	"time"

	"pinpoint/internal/admin"
)

// CreateKeyRequest is the body of POST /admin/v1/consumers/{id}/keys.
type CreateKeyRequest struct {
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresAt or TTL ("90d", "36h") bound the key's life; neither means
	// no expiry.
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	TTL        string     `json:"ttl,omitempty"`
	AllowedIPs []string   `json:"allowed_ips,omitempty"`
}

// IssuedKey is the answer to creating or rotating a key. Plaintext is the
// only time the key is ever shown.
type IssuedKey struct {
	Key       *Key   `json:"key"`
	Plaintext string `json:"plaintext"`
	Note      string `json:"note"`
	// Old is the rotated key, when this is a rotation.
	Old *Key `json:"old,omitempty"`
}

const shownOnce = "store this key now: the gateway keeps only its hash and cannot show it again"

func (a *adminAPI) createKey(w http.ResponseWriter, r *http.Request) {
	cid := r.PathValue("id")
	var in CreateKeyRequest
	if !optionalBody(w, r, &in) {
		return
	}
	spec := NewKeySpec{ConsumerID: cid, Name: in.Name, Scopes: in.Scopes}
	switch {
	case in.ExpiresAt != nil && in.TTL != "":
		admin.WriteError(w, http.StatusBadRequest, "bad_request", "give expires_at or ttl, not both")
		return
	case in.ExpiresAt != nil:
		spec.ExpiresAt = *in.ExpiresAt
	case in.TTL != "":
		d, err := ParseDuration(in.TTL)
		if err != nil || d <= 0 {
			admin.WriteError(w, http.StatusBadRequest, "bad_request", "ttl: want a positive duration like 90d or 36h")
			return
		}
		spec.ExpiresAt = a.s.Env.Now().Add(d)
	}
	ips, err := ParsePrefixes(in.AllowedIPs)
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, "bad_request", "allowed_ips: "+err.Error())
		return
	}
	spec.AllowedIPs = ips
	k, plain, err := a.repo.CreateKey(r.Context(), spec)
	if err != nil {
		a.fail(w, "consumer "+cid, err)
		return
	}
	a.changed(r, "key.create", "key:"+k.ID, map[string]any{"consumer": cid, "scopes": k.Scopes, "expires_at": k.ExpiresAt, "allowed_ips": in.AllowedIPs})
	admin.WriteJSON(w, http.StatusCreated, IssuedKey{Key: k, Plaintext: plain, Note: shownOnce})
}

func (a *adminAPI) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := a.repo.ListKeys(r.Context(), r.URL.Query().Get("consumer"))
	if err != nil {
		a.fail(w, "keys", err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, ks)
}

func (a *adminAPI) showKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k, err := a.repo.GetKey(r.Context(), id)
	if err != nil {
		a.fail(w, "key "+id, err)
		return
	}
	admin.WriteJSON(w, http.StatusOK, k)
}

func (a *adminAPI) revokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in reasonBody
	if !optionalBody(w, r, &in) {
		return
	}
	k, err := a.repo.RevokeKey(r.Context(), id, admin.Actor(r), in.Reason)
	if err != nil {
		a.fail(w, "key "+id, err)
		return
	}
	a.changed(r, "key.revoke", "key:"+id, map[string]any{"consumer": k.ConsumerID, "reason": k.RevokedReason})
	admin.WriteJSON(w, http.StatusOK, k)
}

type rotateBody struct {
	// Grace is how long the old key keeps working ("24h", "7d"); default
	// 24h.
	Grace string `json:"grace,omitempty"`
}

// DefaultGrace is how long a rotated key keeps working by default.
const DefaultGrace = 24 * time.Hour

func (a *adminAPI) rotateKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in rotateBody
	if !optionalBody(w, r, &in) {
		return
	}
	grace := DefaultGrace
	if in.Grace != "" {
		d, err := ParseDuration(in.Grace)
		if err != nil {
			admin.WriteError(w, http.StatusBadRequest, "bad_request", "grace: "+err.Error())
			return
		}
		grace = d
	}
	nk, plain, old, err := a.repo.RotateKey(r.Context(), id, grace)
	if err != nil {
		a.fail(w, "key "+id, err)
		return
	}
	a.changed(r, "key.rotate", "key:"+id, map[string]any{"consumer": old.ConsumerID, "new_key": nk.ID, "old_expires_at": old.ExpiresAt})
	admin.WriteJSON(w, http.StatusCreated, IssuedKey{Key: nk, Plaintext: plain, Note: shownOnce, Old: old})
}

type expireBody struct {
	// At is when the key stops working; empty means now.
	At *time.Time `json:"at,omitempty"`
}

func (a *adminAPI) expireKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in expireBody
	if !optionalBody(w, r, &in) {
		return
	}
	var at time.Time
	if in.At != nil {
		at = *in.At
	}
	k, err := a.repo.ExpireKey(r.Context(), id, at)
	if err != nil {
		a.fail(w, "key "+id, err)
		return
	}
	a.changed(r, "key.expire", "key:"+id, map[string]any{"consumer": k.ConsumerID, "expires_at": k.ExpiresAt})
	admin.WriteJSON(w, http.StatusOK, k)
}

type scopesBody struct {
	Scopes []string `json:"scopes"`
}

func (a *adminAPI) setScopes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in scopesBody
	if !admin.DecodeJSON(w, r, &in) {
		return
	}
	k, err := a.repo.SetKeyScopes(r.Context(), id, in.Scopes)
	if err != nil {
		a.fail(w, "key "+id, err)
		return
	}
	a.changed(r, "key.scopes", "key:"+id, map[string]any{"consumer": k.ConsumerID, "scopes": k.Scopes})
	admin.WriteJSON(w, http.StatusOK, k)
}
