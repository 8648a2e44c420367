//go:build !unix

package h1client

import "net"

// peeker cannot peek without blocking on this platform; a connection
// the upstream closed fails on use instead.
type peeker struct{}

func (p *peeker) init(net.Conn) {}

func (p *peeker) alive() bool { return true }
