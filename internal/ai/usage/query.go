package usage

import (
	"context"
	"fmt"
	"time"

	"pinpoint/internal/store"
)

// Row is one group of a usage summary.
type Row struct {
	Key              string  `json:"key"`
	Requests         int64   `json:"requests"`
	Errors           int64   `json:"errors"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	AvgLatencyMS     float64 `json:"avg_latency_ms"`
}

// groupColumns whitelists what a summary may group by; the value goes into
// SQL, so it never comes from the caller directly.
var groupColumns = map[string]string{
	"consumer": "consumer",
	"model":    "model",
	"provider": "provider",
	"key":      "key_id",
	"route":    "route",
}

// GroupNames lists the accepted "by" values.
func GroupNames() []string { return []string{"consumer", "model", "provider", "key", "route"} }

// Summarize totals ai_usage rows in [since, until) grouped by one
// dimension, most expensive first.
func Summarize(ctx context.Context, st *store.Store, since, until time.Time, by string) ([]Row, error) {
	col, ok := groupColumns[by]
	if !ok {
		return nil, fmt.Errorf("by %q: want one of consumer, model, provider, key, route", by)
	}
	q := `SELECT ` + col + `, COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micros), AVG(latency_us)
FROM ai_usage WHERE ts >= ? AND ts < ? GROUP BY ` + col + ` ORDER BY SUM(cost_micros) DESC, COUNT(*) DESC`
	rows, err := st.DB.QueryContext(ctx, st.Rebind(q), since.UnixMicro(), until.UnixMicro())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Row{}
	for rows.Next() {
		var r Row
		var cost int64
		var lat float64
		if err := rows.Scan(&r.Key, &r.Requests, &r.Errors, &r.PromptTokens, &r.CompletionTokens, &cost, &lat); err != nil {
			return nil, err
		}
		r.CostUSD = Micros(cost).USD()
		r.AvgLatencyMS = lat / 1000
		out = append(out, r)
	}
	return out, rows.Err()
}
