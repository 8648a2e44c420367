package calllog

import (
	"context"
	"time"
)

// ShadowGroup is one kind of request a shadowed policy would have denied.
type ShadowGroup struct {
	Layer    string    `json:"layer"`
	Code     string    `json:"code"`
	Rule     string    `json:"rule,omitempty"`
	Route    string    `json:"route"`
	Consumer string    `json:"consumer,omitempty"`
	Count    int64     `json:"count"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	// Samples are recent request ids, for `pinpoint explain`.
	Samples []string `json:"samples"`
}

// ShadowReport is what shadowed policies would have denied since Since.
type ShadowReport struct {
	Since  time.Time     `json:"since"`
	Total  int64         `json:"total"`
	Groups []ShadowGroup `json:"groups"`
	// ByCode, ByRoute and ByConsumer sum the groups.
	ByCode     []Count `json:"by_code"`
	ByRoute    []Count `json:"by_route"`
	ByConsumer []Count `json:"by_consumer"`
}

// maxShadowGroups bounds the report; the rest is in the sums.
const maxShadowGroups = 200

// Shadow reports the shadow denials recorded since since.
func (l *Log) Shadow(ctx context.Context, since time.Time) (*ShadowReport, error) {
	rep := &ShadowReport{Since: since.UTC(), Groups: []ShadowGroup{}}
	ts := since.UnixMicro()
	rows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT layer, code, rule, route, consumer, COUNT(*), MIN(ts), MAX(ts) FROM shadow_hits
WHERE ts >= ? GROUP BY layer, code, rule, route, consumer ORDER BY 6 DESC, 1, 2, 4, 5 LIMIT ?`), ts, maxShadowGroups)
	if err != nil {
		return nil, err
	}
	index := map[[5]string]int{}
	for rows.Next() {
		var g ShadowGroup
		var first, last int64
		if err := rows.Scan(&g.Layer, &g.Code, &g.Rule, &g.Route, &g.Consumer, &g.Count, &first, &last); err != nil {
			rows.Close()
			return nil, err
		}
		g.First, g.Last, g.Samples = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC(), []string{}
		index[[5]string{g.Layer, g.Code, g.Rule, g.Route, g.Consumer}] = len(rep.Groups)
		rep.Groups = append(rep.Groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Three newest request ids per group, in one query.
	srows, err := l.st.DB.QueryContext(ctx, l.st.Rebind(`SELECT layer, code, rule, route, consumer, id FROM (
  SELECT layer, code, rule, route, consumer, id, ROW_NUMBER() OVER (PARTITION BY layer, code, rule, route, consumer ORDER BY ts DESC, id DESC) AS rn
  FROM shadow_hits WHERE ts >= ?) s WHERE rn <= 3 ORDER BY id DESC`), ts)
	if err != nil {
		return nil, err
	}
	defer srows.Close()
	for srows.Next() {
		var k [5]string
		var id string
		if err := srows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &id); err != nil {
			return nil, err
		}
		if i, ok := index[k]; ok {
			rep.Groups[i].Samples = append(rep.Groups[i].Samples, id)
		}
	}
	if err := srows.Err(); err != nil {
		return nil, err
	}
	for _, q := range []struct {
		col string
		dst *[]Count
	}{{"code", &rep.ByCode}, {"route", &rep.ByRoute}, {"consumer", &rep.ByConsumer}} {
		c, err := l.counts(ctx, `SELECT `+q.col+`, COUNT(*) FROM shadow_hits WHERE ts >= ? GROUP BY `+q.col+` ORDER BY 2 DESC, 1 LIMIT 20`, []any{ts}, 2)
		if err != nil {
			return nil, err
		}
		*q.dst = c
	}
	if err := l.st.DB.QueryRowContext(ctx, l.st.Rebind(`SELECT COUNT(*) FROM shadow_hits WHERE ts >= ?`), ts).Scan(&rep.Total); err != nil {
		return nil, err
	}
	return rep, nil
}
