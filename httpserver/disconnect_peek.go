//go:build linux || darwin || freebsd || netbsd || openbsd

package httpserver

import "syscall"

// peerClosed tells whether the peer has closed the connection (or reset
// it) with nothing left unread, without reading anything.
func peerClosed(rc syscall.RawConn) bool {
	closed := false
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && err == nil) || err == syscall.ECONNRESET
	})
	return closed
}
