//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package httpserver

import "syscall"

// peerClosed cannot peek here: a client's going away is not noticed.
func peerClosed(syscall.RawConn) bool { return false }
