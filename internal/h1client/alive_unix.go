//go:build unix

package h1client

import (
	"net"
	"syscall"
)

// peeker checks a pooled connection before reuse. The raw connection
// and the callback are made once per connection, so a check costs the
// one system call and no allocation.
type peeker struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	ok  bool
	one [1]byte
}

func (p *peeker) init(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	p.rc = rc
	p.fn = func(fd uintptr) bool {
		// Nothing to read (EAGAIN) is the only healthy answer: 0 bytes
		// is the upstream's close, and any byte is unasked-for data.
		_, _, rerr := syscall.Recvfrom(int(fd), p.one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		p.ok = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	}
}

// alive reports whether a pooled connection can carry a request: the
// upstream has neither closed it nor sent anything unasked (a late or
// unsolicited response, such as a 408 before closing). One non-blocking
// peek; it reads nothing.
func (p *peeker) alive() bool {
	if p.rc == nil {
		return true
	}
	p.ok = false
	err := p.rc.Read(p.fn)
	return err == nil && p.ok
}
