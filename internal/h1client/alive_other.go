//go:build !unix

package h1client

import "net"

// alive cannot peek without blocking on this platform; a connection the
// upstream closed fails on use instead.
func alive(net.Conn) bool { return true }
