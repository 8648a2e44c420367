package logapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"pinpoint/internal/admin"
	"pinpoint/internal/app"
	"pinpoint/internal/calllog"
	"pinpoint/internal/config"
)

func init() { app.OnStart(start) }

// start applies retention (again after each reload) and adds the
// endpoints.
func start(_ context.Context, a *app.App) error {
	retain := func(cfg *config.Config) {
		a.Log.SetRetention(calllog.Retention{Days: cfg.Store.Retention.Days, MaxSize: int64(cfg.Store.Retention.MaxSize)})
	}
	retain(a.Config)
	a.Gateway.OnSwap(retain)
	if a.Admin == nil {
		return nil
	}
	h := &handlers{log: a.Log, gw: a.Admin.Gateway, now: time.Now}
	a.Admin.HandleFunc("GET /admin/v1/logs", h.search)
	a.Admin.HandleFunc("GET /admin/v1/requests/{id}", h.get)
	a.Admin.HandleFunc("GET /admin/v1/stats", h.stats)
	a.Admin.HandleFunc("GET /admin/v1/shadow", h.shadow)
	a.Admin.HandleFunc("POST /admin/v1/simulate", h.simulate)
	return nil
}

type handlers struct {
	log *calllog.Log
	gw  admin.Gateway
	now func() time.Time
}

func badParam(w http.ResponseWriter, name string, err error) {
	admin.WriteError(w, http.StatusBadRequest, "bad_parameter", name+": "+err.Error())
}

func (h *handlers) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := calllog.Filter{
		Status: q.Get("status"), Code: q.Get("code"), Layer: q.Get("layer"), Route: q.Get("route"),
		Consumer: q.Get("consumer"), Client: q.Get("client"),
		Denied: q.Get("denied") == "true", Shadow: q.Get("shadow") == "true", Oldest: q.Get("oldest") == "true",
	}
	if f.Status != "" {
		if _, _, err := calllog.ParseStatus(f.Status); err != nil {
			badParam(w, "status", err)
			return
		}
	}
	var err error
	now := h.now()
	if f.Since, err = ParseTime(q.Get("since"), now); err != nil {
		badParam(w, "since", err)
		return
	}
	if f.Until, err = ParseTime(q.Get("until"), now); err != nil {
		badParam(w, "until", err)
		return
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 {
			badParam(w, "limit", errors.New("want a positive number"))
			return
		}
	}
	recs, err := h.log.Search(r.Context(), f)
	if err != nil {
		admin.WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, recs)
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	rec, err := h.log.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, calllog.ErrNotFound) {
		admin.WriteError(w, http.StatusNotFound, "request_not_found", err.Error())
		return
	}
	if err != nil {
		admin.WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, rec)
}

func (h *handlers) stats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := h.now()
	sq := calllog.StatsQuery{Route: q.Get("route"), Consumer: q.Get("consumer")}
	var err error
	from := q.Get("from")
	if from == "" {
		from = q.Get("since")
	}
	if sq.From, err = ParseTime(from, now); err != nil {
		badParam(w, "from", err)
		return
	}
	if sq.To, err = ParseTime(q.Get("to"), now); err != nil {
		badParam(w, "to", err)
		return
	}
	if s := q.Get("top"); s != "" {
		if sq.Top, err = strconv.Atoi(s); err != nil || sq.Top < 1 || sq.Top > 1000 {
			badParam(w, "top", errors.New("want a number from 1 to 1000"))
			return
		}
	}
	st, err := h.log.Stats(r.Context(), sq)
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, st)
}

func (h *handlers) shadow(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	if since == "" {
		since = "24h"
	}
	t, err := ParseTime(since, h.now())
	if err != nil {
		badParam(w, "since", err)
		return
	}
	rep, err := h.log.Shadow(r.Context(), t)
	if err != nil {
		admin.WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, rep)
}
