// Package ratelimit is the "ratelimit" layer: named rate policies (GCRA,
// with bursts) and calendar quotas (per day or month, in a time zone),
// keyed by consumer, API key, route, tenant or client address, counted in
// memory or in Redis (sub-packages memory and redisstore behind
// limit.Store).
//
// Every answer carries the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers), denials also Retry-After, and
// the detail names the policy and when it resets. Policies run in config
// order with rates before quotas, and the first refusal stops: a request
// refused by a rate policy does not spend quota.
package ratelimit
