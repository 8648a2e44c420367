package h1server

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateValue is a formatted Date header value and the second it is for.
type dateValue struct {
	sec int64
	b   [len(http.TimeFormat)]byte
}

var cachedDate atomic.Pointer[dateValue]

// appendDate appends now as an HTTP date, formatting it at most once a
// second for the whole process.
func appendDate(b []byte, now time.Time) []byte {
	sec := now.Unix()
	d := cachedDate.Load()
	if d == nil || d.sec != sec {
		d = &dateValue{sec: sec}
		now.UTC().AppendFormat(d.b[:0], http.TimeFormat)
		cachedDate.Store(d)
	}
	return append(b, d.b[:]...)
}
