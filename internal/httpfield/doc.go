// Package httpfield holds the HTTP/1 header-field syntax that the
// gateway's own server (h1server) and upstream client (h1client) share:
// which bytes make a field name, how a value's optional white space is
// trimmed, and the canonical form of a key. Both sides must agree on
// these byte for byte, or a request the server takes could be written
// upstream differently from how it was read.
package httpfield
