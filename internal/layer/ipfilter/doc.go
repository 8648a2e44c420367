// Package ipfilter is the "ip" layer: allow and deny lists of CIDRs
// (IPv4 and IPv6) checked against the client address the trusted-proxy
// strategy resolved. Lists compile into sorted, non-overlapping address
// ranges, so a lookup is one binary search whatever the list size, and
// every range remembers the most specific list entry that covers it so
// the trace can name it.
package ipfilter
