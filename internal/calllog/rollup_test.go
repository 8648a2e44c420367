package calllog

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"pinpoint/internal/trace"
)

// TestAggregateMatchesPerTierFold: folding minute rows into the coarser
// tiers gives exactly what adding every record to every tier gives.
func TestAggregateMatchesPerTierFold(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 3, 4, 23, 58, 0, 0, time.UTC) // batches cross an hour and a day
	var recs []*trace.Record
	for i := range 2000 {
		at := base.Add(time.Duration(rng.IntN(300)) * time.Second)
		r := rec(at, fmt.Sprint("r", rng.IntN(3)), []int{200, 200, 403, 429}[rng.IntN(4)], "", "", fmt.Sprint("c", rng.IntN(2)), fmt.Sprint("192.0.2.", rng.IntN(4)))
		if r.Status >= 400 {
			r.Layer, r.Code = "authz", "missing_scope"
		}
		r.Micros, r.BytesIn, r.BytesOut = int64(rng.IntN(5000)), int64(rng.IntN(900)), int64(i)
		r.ShadowHit = i%11 == 0
		r.DryRun = i%97 == 0
		// Runs of equal keys, as under load, exercise the last-key path.
		for range rng.IntN(3) + 1 {
			recs = append(recs, r)
		}
	}
	rows, clients := aggregate(recs)

	wantRows := map[rollKey]rollVal{}
	wantClients := map[clientKey]int64{}
	for _, r := range recs {
		if r.DryRun {
			continue
		}
		for _, tier := range tiers {
			b := tier.Bucket(r.Time)
			k := rollKey{tier.Name, b, r.RouteID, r.Status, r.Layer, r.Code, r.Consumer}
			v := wantRows[k]
			v.n++
			if r.ShadowHit {
				v.shadow++
			}
			v.sumUS += r.Micros
			v.maxUS = max(v.maxUS, r.Micros)
			v.in += r.BytesIn
			v.out += r.BytesOut
			wantRows[k] = v
			if r.Status >= 400 && tier != Minute && r.Client != "" {
				wantClients[clientKey{tier.Name, b, r.Client, r.Code}]++
			}
		}
	}
	got := map[rollKey]rollVal{}
	for k, v := range rows {
		got[k] = *v
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("rollup rows differ: %d rows, want %d", len(got), len(wantRows))
	}
	if !reflect.DeepEqual(clients, wantClients) {
		t.Errorf("client rows differ: %d rows, want %d", len(clients), len(wantClients))
	}
}
