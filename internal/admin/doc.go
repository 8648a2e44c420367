// Package admin serves the admin API: JSON over HTTP on its own listener
// (loopback by default), protected by a bearer token that is kept only as a
// hash and compared in constant time. Feature packages add their endpoints
// as modules; every change they make is written to the audit log.
package admin
