package httpserver

import (
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

// disconnectPoll is how often a request still running checks whether its
// client has gone; a request done sooner never checks.
const disconnectPoll = 100 * time.Millisecond

// watchDisconnect cancels a request's context when its client closes the
// connection, as net/http's server does, so that the queries of a request
// nobody waits for any more stop. fasthttp does not read a connection
// while its handler runs; the check peeks at the socket without consuming
// anything (a pipelined request stays where it is). stop ends the watch.
func watchDisconnect(c net.Conn, cancel context.CancelFunc) (stop func()) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if peerClosed(rc) {
			cancel()
			return
		}
		t.Reset(disconnectPoll)
	}
	mu.Lock()
	t = time.AfterFunc(disconnectPoll, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
