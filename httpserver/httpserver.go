// Package httpserver is the server's http.Server: the connection limits
// that production and the end-to-end tests share. Per-request deadlines
// (a request body's read deadline, an upload's longer one) are set by the
// handler through http.ResponseController (httpapi), not here: a global
// ReadTimeout or WriteTimeout would also cut long-lived streams
// (Server-Sent Events, WebSocket).
package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

const (
	// ReadHeaderTimeout bounds reading a request's line and headers.
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds the request line and headers, as nginx does
	// (4 × 8 KB); larger ones are answered 431.
	MaxHeaderBytes = 16 << 10
)

// New returns the server for h. The server's own errors (malformed
// requests, TLS handshakes, a handler's panic) go to log as warnings;
// net/http never puts a request's path or content in them.
func New(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Shutdown stops accepting connections, closes idle ones and waits for
// the requests in flight to finish, or for ctx to end; then it closes the
// rest, which cancels their requests' contexts.
func Shutdown(ctx context.Context, srv *http.Server) error {
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	return err
}
