// Package httpserver serves a net/http Handler over HTTP/1.1 with
// fasthttp's connection handling.
//
// Why not net/http's own server: on the public hot path (a stored
// publicTracking answer) net/http's per-request work — a goroutine and
// several deadline changes for its background read, a context per request,
// header maps — costs more CPU than the handler itself, and the issue asks
// the API to answer faster than PostgreSQL answers a bare lookup. fasthttp
// reuses its request state and reads and writes each connection from one
// goroutine; measured on the load test's 2-core machine it serves about
// twice as many small responses per second as net/http.
//
// The application stays an http.Handler: each request is converted to an
// *http.Request (the body streamed, never buffered whole) and answered
// through an http.ResponseWriter that collects the response in fasthttp's
// buffer. Tests and production run this same server.
package httpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Config are the server's limits.
type Config struct {
	// ReadHeaderTimeout bounds reading a request's headers, from its first
	// byte; ReadTimeout then bounds reading its body (streamed while the
	// handler runs) and WriteTimeout writing the response. IdleTimeout is
	// how long a keep-alive connection may wait for its next request.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; larger ones are
	// answered 431.
	MaxHeaderBytes int
	// Logger receives the server's own errors (malformed requests and
	// connection errors), never a request's content.
	Logger *slog.Logger
}

// Defaults are the server's limits in production. Uploads of up to
// media.MaxUploadBytes (20 MB) must arrive within ReadTimeout even over a
// slow uplink (20 MB in 5 minutes is about 0.6 Mbit/s).
func Defaults(log *slog.Logger) Config {
	return Config{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10, // as nginx allows (4 × 8 KB); it is also the per-connection read buffer
		Logger:            log,
	}
}

// Server serves one http.Handler.
type Server struct {
	fs       *fasthttp.Server
	handler  http.Handler
	shortcut Shortcutter // the handler, when it is one
	base     context.Context
	stop     context.CancelFunc
}

// A Shortcutter is a handler that answers some requests (its hot path)
// straight from fasthttp's parse of them, without their conversion to
// net/http. Shortcut is offered every request first, with its body when
// that was small enough to read whole (else nil); it returns false,
// having written nothing, to leave the request to ServeHTTP.
type Shortcutter interface {
	Shortcut(ctx *fasthttp.RequestCtx, body []byte) bool
}

// prefetchBytes is how much of a body fasthttp reads before the handler
// runs (at least one byte: 0 means its default); the rest streams as the
// handler reads it. Bodies are never buffered whole, so uploads are
// checked (authentication, size) before they are read.
const prefetchBytes = 1

// New returns a server for h.
func New(h http.Handler, c Config) *Server {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	base, stop := context.WithCancel(context.Background())
	s := &Server{handler: h, base: base, stop: stop}
	s.shortcut, _ = h.(Shortcutter)
	s.fs = &fasthttp.Server{
		Handler:     s.serve,
		ReadTimeout: c.ReadHeaderTimeout,
		IdleTimeout: c.IdleTimeout,
		// Deadlines for the rest of the request, set once its headers
		// are in.
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout}
		},
		ReadBufferSize:               c.MaxHeaderBytes,
		MaxRequestBodySize:           prefetchBytes,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		SecureErrorLogMessage:        true,
		Logger:                       logger{c.Logger},
		ErrorHandler:                 errorResponse,
	}
	return s
}

// Serve accepts connections on ln until Shutdown; it returns nil then.
func (s *Server) Serve(ln net.Listener) error {
	return s.fs.Serve(lingeringListener{ln})
}

// lingerTime is how long a connection the server closes may still receive
// (and discard) what the client was sending, as net/http waits too.
const lingerTime = 500 * time.Millisecond

// lingeringListener's connections close gently. fasthttp closes a
// connection right after a response that refused an unread body (an
// upload too large or unauthenticated); closing a socket with unread data
// makes the kernel send a reset, and the client may lose the response it
// was sent. Instead the write side is shut (the client sees the end of
// the response) and the rest is read and dropped for up to lingerTime, in
// the background, before the socket is closed.
type lingeringListener struct{ net.Listener }

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &lingeringConn{TCPConn: tc, remote: tc.RemoteAddr().String()}, nil
	}
	return c, err
}

type lingeringConn struct {
	*net.TCPConn
	remote string // RemoteAddr().String(), once per connection, not request
	once   sync.Once
}

func (c *lingeringConn) Close() error {
	c.once.Do(func() {
		if c.TCPConn.CloseWrite() != nil {
			c.TCPConn.Close()
			return
		}
		go func() {
			_ = c.TCPConn.SetReadDeadline(time.Now().Add(lingerTime))
			_, _ = io.Copy(io.Discard, c.TCPConn)
			c.TCPConn.Close()
		}()
	})
	return nil
}

// Shutdown stops accepting connections, closes idle ones and waits for the
// requests in flight to finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.fs.ShutdownWithContext(ctx)
	if err != nil {
		// Give up on the stragglers: their requests' contexts end.
		s.stop()
	}
	return err
}

// serve answers one request with the handler.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			// The handler recovers its own panics; this is the last guard,
			// as net/http's is: the request fails, the server lives.
			if p != http.ErrAbortHandler {
				// Not the path: a tracking page's carries its secret slug.
				ctx.Logger().Printf("panic serving a %s request: %v", ctx.Method(), p)
			}
			ctx.Response.Reset()
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
			ctx.SetConnectionClose()
		}
	}()
	body, buf, bodyErr := readSmallBody(ctx)
	if buf != nil {
		defer smallBodies.Put(buf)
	}
	if s.shortcut != nil && bodyErr == nil && s.shortcut.Shortcut(ctx, body) {
		return
	}
	r, err := s.request(ctx, body, bodyErr)
	if err != nil {
		ctx.Error("400 Bad Request", fasthttp.StatusBadRequest)
		ctx.SetConnectionClose()
		return
	}
	rctx, cancel := context.WithCancel(s.base)
	defer cancel()
	defer watchDisconnect(connOf(ctx), cancel)()
	r = r.WithContext(rctx)
	w := &responseWriter{ctx: ctx, header: make(http.Header, 4), declaredLength: -1}
	s.handler.ServeHTTP(w, r)
	w.finish()
}

// smallBody is the largest body read whole before the handler runs (an
// upload, or any body of unknown length, streams instead). It is what
// fasthttp reads ahead at most, so such a body is usually already in the
// connection's buffer.
const smallBody = 8 << 10

// smallBodies are the buffers small bodies are read into, for the time of
// one request.
var smallBodies = sync.Pool{New: func() any { b := make([]byte, smallBody); return &b }}

// readSmallBody reads the body whole when its length is known, at most
// smallBody, and it is not multipart; otherwise body is nil. A read error
// comes with what was read. buf, when not nil, holds body and goes back
// to smallBodies once the request is answered.
func readSmallBody(ctx *fasthttp.RequestCtx) (body []byte, buf *[]byte, err error) {
	rh := &ctx.Request.Header
	n := rh.ContentLength()
	if n <= 0 || n > smallBody || bytes.HasPrefix(rh.ContentType(), []byte("multipart/")) {
		return nil, nil, nil
	}
	stream := ctx.RequestBodyStream()
	if stream == nil {
		return ctx.Request.Body(), nil, nil
	}
	buf = smallBodies.Get().(*[]byte)
	read, err := io.ReadFull(stream, (*buf)[:n])
	return (*buf)[:read], buf, err
}

// request converts ctx's request for the handler, with body when it was
// read whole (and how reading it failed). Its strings are copies: nothing
// the handler keeps points into fasthttp's reused buffers.
func (s *Server) request(ctx *fasthttp.RequestCtx, body []byte, bodyErr error) (*http.Request, error) {
	rh := &ctx.Request.Header
	requestURI := string(ctx.RequestURI())
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method:     string(ctx.Method()),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, rh.Len()),
		Host:       string(ctx.Host()),
		RemoteAddr: remoteAddr(ctx),
		RequestURI: requestURI,
	}
	if !rh.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	for k, v := range rh.All() {
		switch string(k) {
		case "Host":
		case "Transfer-Encoding":
			r.TransferEncoding = append(r.TransferEncoding, strings.ToLower(string(v)))
		default:
			key := string(k)
			r.Header[key] = append(r.Header[key], string(v))
		}
	}
	switch n := rh.ContentLength(); {
	case n >= 0:
		r.ContentLength = int64(n)
	case n == -1: // chunked
		r.ContentLength = -1
	}
	switch stream := ctx.RequestBodyStream(); {
	case bodyErr != nil:
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{bodyErr}))
	case body != nil:
		r.Body = io.NopCloser(bytes.NewReader(body))
	case stream != nil:
		r.Body = io.NopCloser(stream)
	case len(ctx.Request.Body()) > 0:
		r.Body = io.NopCloser(bytes.NewReader(ctx.Request.Body()))
	default:
		r.Body = http.NoBody
	}
	return r, nil
}

// connOf is the request's TCP connection.
func connOf(ctx *fasthttp.RequestCtx) net.Conn {
	if c, ok := ctx.Conn().(*lingeringConn); ok {
		return c.TCPConn
	}
	return ctx.Conn()
}

func remoteAddr(ctx *fasthttp.RequestCtx) string {
	if c, ok := ctx.Conn().(*lingeringConn); ok {
		return c.remote
	}
	return ctx.RemoteAddr().String()
}

// errReader fails as reading the body failed.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// responseWriter collects the handler's response in ctx's, which fasthttp
// writes when the handler returns. Like net/http's, it commits the header
// at the first Write or WriteHeader, sniffs a missing Content-Type and
// discards the body of a HEAD request.
type responseWriter struct {
	ctx            *fasthttp.RequestCtx
	header         http.Header
	status         int   // committed status; 0 before
	typed          bool  // a Content-Type was committed (or suppressed)
	declaredLength int64 // Content-Length the handler set; -1 if none
	headLength     int   // what the handler wrote of a HEAD request's body
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 || (code >= 100 && code < 200) {
		return // superfluous, or an informational status (never sent)
	}
	w.status = code
	rh := &w.ctx.Response.Header
	rh.SetStatusCode(code)
	for k, vv := range w.header {
		switch k {
		case "Content-Type":
			w.typed = true
			if len(vv) > 0 {
				rh.SetContentType(vv[0])
			}
		case "Content-Length":
			if len(vv) > 0 {
				if n, err := strconv.ParseInt(vv[0], 10, 64); err == nil && n >= 0 {
					w.declaredLength = n
				}
			}
		case "Connection":
			if len(vv) > 0 && strings.EqualFold(vv[0], "close") {
				w.ctx.SetConnectionClose()
			}
		case "Transfer-Encoding", "Date":
			// Framing and the date are the server's.
		default:
			for _, v := range vv {
				rh.Add(k, v)
			}
		}
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.ctx.IsHead() {
		w.headLength += len(p)
		return len(p), nil
	}
	w.ctx.Response.AppendBody(p)
	return len(p), nil
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	body := w.ctx.Response.Body()
	if !w.typed && len(body) > 0 {
		w.ctx.Response.Header.SetContentType(http.DetectContentType(body[:min(len(body), 512)]))
	}
	if w.ctx.IsHead() && bodyAllowed(w.status) {
		// A HEAD answer tells the length the GET would have.
		n := int64(w.headLength)
		if w.declaredLength >= 0 {
			n = w.declaredLength
		}
		w.ctx.Response.SkipBody = true
		w.ctx.Response.Header.SetContentLength(int(n))
	}
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && (status < 100 || status >= 200)
}

// errorResponse answers a request fasthttp could not read, in plain text
// and without repeating any of it.
func errorResponse(ctx *fasthttp.RequestCtx, err error) {
	status, text := fasthttp.StatusBadRequest, "400 Bad Request"
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		status, text = fasthttp.StatusRequestHeaderFieldsTooLarge, "431 Request Header Fields Too Large"
	case isTimeout(err):
		status, text = fasthttp.StatusRequestTimeout, "408 Request Timeout"
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(text)
	ctx.SetConnectionClose()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// logger passes fasthttp's own messages to slog, as warnings.
type logger struct{ l *slog.Logger }

func (l logger) Printf(format string, args ...any) {
	l.l.Warn("http server", "error", fmt.Sprintf(format, args...))
}
