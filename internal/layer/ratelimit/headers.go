package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Header names of draft-ietf-httpapi-ratelimit-headers and the gateway's
// own marker for fail-open answers.
const (
	HeaderPolicy   = "RateLimit-Policy"
	HeaderLimit    = "RateLimit"
	HeaderFailOpen = "Pinpoint-RateLimit"
)

// The same names as Go canonicalizes them, for setting map keys directly.
var (
	canonPolicy      = http.CanonicalHeaderKey(HeaderPolicy)
	canonLimit       = http.CanonicalHeaderKey(HeaderLimit)
	canonFailOpen    = http.CanonicalHeaderKey(HeaderFailOpen)
	headerRetryAfter = http.CanonicalHeaderKey("Retry-After")
)

// policyMember is one RateLimit-Policy list member: "name";q=100;w=60.
func policyMember(name string, q, w int64) string {
	b := make([]byte, 0, len(name)+24)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";q=`...)
	b = strconv.AppendInt(b, q, 10)
	b = append(b, ";w="...)
	b = strconv.AppendInt(b, w, 10)
	return string(b)
}

// ceilSeconds rounds up: telling a client to come back a fraction of a
// second too early only earns it another refusal.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
