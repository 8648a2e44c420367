package ai

import (
	"net/http"
	"strings"
	"time"

	"pinpoint/internal/admin"
	"pinpoint/internal/ai/usage"
)

func init() {
	admin.RegisterModule(func(s *admin.Server) error {
		s.HandleFunc("GET /admin/v1/ai/usage", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			now := time.Now()
			since, err := parseSince(q.Get("since"), now, 24*time.Hour)
			if err != nil {
				admin.WriteError(w, http.StatusBadRequest, "bad_since", err.Error())
				return
			}
			until := now
			if u := q.Get("until"); u != "" {
				if until, err = parseSince(u, now, 0); err != nil {
					admin.WriteError(w, http.StatusBadRequest, "bad_until", err.Error())
					return
				}
			}
			by := q.Get("by")
			if by == "" {
				by = "consumer"
			}
			rows, err := usage.Summarize(r.Context(), s.Store, since, until, by)
			if err != nil {
				if strings.HasPrefix(err.Error(), "by ") {
					admin.WriteError(w, http.StatusBadRequest, "bad_by", err.Error())
					return
				}
				admin.WriteError(w, http.StatusInternalServerError, "store_error", err.Error())
				return
			}
			var total usage.Row
			total.Key = "total"
			var lat float64
			for _, row := range rows {
				total.Requests += row.Requests
				total.Errors += row.Errors
				total.PromptTokens += row.PromptTokens
				total.CompletionTokens += row.CompletionTokens
				total.CostUSD += row.CostUSD
				lat += row.AvgLatencyMS * float64(row.Requests)
			}
			if total.Requests > 0 {
				total.AvgLatencyMS = lat / float64(total.Requests)
			}
			admin.WriteJSON(w, http.StatusOK, map[string]any{
				"since": since.UTC().Format(time.RFC3339), "until": until.UTC().Format(time.RFC3339),
				"by": by, "rows": rows, "total": total,
			})
		})
		return nil
	})
}

// parseSince reads "24h", "7d" (a duration back from now) or an RFC 3339
// time; "" is def back from now.
func parseSince(s string, now time.Time, def time.Duration) (time.Time, error) {
	if s == "" {
		return now.Add(-def), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := time.ParseDuration(d + "h"); err == nil {
			return now.Add(-24 * n), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, &sinceError{s}
	}
	return now.Add(-d), nil
}

type sinceError struct{ s string }

func (e *sinceError) Error() string {
	return "since/until " + `"` + e.s + `"` + ": want a duration back from now (24h, 7d, 90m) or an RFC 3339 time"
}
