//go:build unix

package h1client

import (
	"net"
	"syscall"
)

// alive reports whether a pooled connection can carry a request: the
// upstream has neither closed it nor sent anything unasked (a late or
// unsolicited response, such as a 408 before closing). One non-blocking
// peek; it reads nothing.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var one [1]byte
	err = rc.Read(func(fd uintptr) bool {
		// Nothing to read (EAGAIN) is the only healthy answer: 0 bytes
		// is the upstream's close, and any byte is unasked-for data.
		_, _, rerr := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && ok
}
