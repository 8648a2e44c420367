// Package logapi wires the call log into a running gateway: it applies the
// configured retention, and adds the admin API endpoints behind
// `pinpoint logs`, `stats`, `shadow report` and `try`:
//
//	GET  /admin/v1/logs           search (status, code, layer, route, consumer, client, since, until, denied, shadow, limit, oldest)
//	GET  /admin/v1/requests/{id}  one record with its decision trace
//	GET  /admin/v1/stats          analytics from rollups (from|since, to, route, consumer, top)
//	GET  /admin/v1/shadow         shadow report (since)
//	POST /admin/v1/simulate       dry run: {method, url, headers, body, as, from}
package logapi
