package httpapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"importops/domain"
	"importops/tracking"
)

// reqInfo is what the layers of one request learn about it, for its log
// line, its metrics and its headers. The GraphQL layer fills in the
// operation from several goroutines, hence the lock.
type reqInfo struct {
	id     string
	client netip.Addr

	mu         sync.Mutex
	operation  string // a bounded label: a root field of the schema, "multiple", ...
	opName     string // the operation's name in the document, capped
	outcome    string // "ok" or an error code
	retryAfter time.Duration
	public     *publicMiss // a request the public cache may keep the answer of
}

type reqInfoKey struct{}

// requestInfo is the request's reqInfo; a throwaway one outside
// logRequests (tests of single handlers).
func requestInfo(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

func (i *reqInfo) setOperation(label, name, outcome string) {
	if len(name) > 64 {
		name = name[:64]
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.operation, i.opName, i.outcome = label, name, outcome
}

func (i *reqInfo) setOutcome(outcome string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.outcome = outcome
}

// setRetryAfter keeps the longest wait asked for.
func (i *reqInfo) setRetryAfter(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.retryAfter = max(i.retryAfter, d)
}

func (i *reqInfo) setPublicMiss(m *publicMiss) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.public = m
}

func (i *reqInfo) publicMiss() *publicMiss {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.public
}

func (i *reqInfo) snapshot() (operation, opName, outcome string, retryAfter time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.operation, i.opName, i.outcome, i.retryAfter
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush and Hijack are the real writer's: gqlgen's transports assert
// http.Flusher (Server-Sent Events) and http.Hijacker (WebSocket) on the
// writer they are given, and every wrapper in the chain passes them on.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	flush(w.ResponseWriter)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flush flushes w, or the writer it wraps; a writer that cannot flush
// sends everything when the handler returns anyway.
func flush(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() }

// logRequests writes one line per request and records its metrics. The
// line names the route's pattern, never its path: the path of /t/ and
// media routes carries a secret. Nothing of the body, the query string or
// the headers but the request id is logged.
func (h *handlers) logRequests(next http.Handler) http.Handler {
	next = h.recoverPanics(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Request-Id", id)
		info := &reqInfo{id: id, client: clientIP(r, h.Config.TrustedProxies)}
		if len(r.Header["X-Forwarded-For"]) > 0 && !h.warnedProxy.Load() {
			h.warnUntrustedProxy(parseHost(r.RemoteAddr))
		}
		ctx, endSpan := h.startSpan(r)
		r = r.WithContext(context.WithValue(ctx, reqInfoKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)

		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if endSpan != nil {
			endSpan(r.Pattern, status)
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		operation, opName, outcome, _ := info.snapshot()
		if operation == "" {
			operation = route
		}
		if outcome == "" {
			outcome = outcomeForStatus(status)
		}
		h.logRequest(r.Context(), requestLine{
			start: start, id: id, method: r.Method, route: route, status: status, client: info.client,
			operation: operation, opName: opName, outcome: outcome,
			graphQL: r.Pattern == "POST /graphql" || r.Pattern == "GET /graphql",
		})
	})
}

// requestID is the client's X-Request-Id when it is a sensible one (at
// most 64 printable ASCII characters), otherwise a new random one.
func requestID(given string) string {
	if given != "" && len(given) <= 64 && printableASCII(given) {
		return given
	}
	// Ids tell requests apart, they guard nothing: math/rand's generator
	// (seeded from the system's) costs no system call.
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// requestLine is what a request's log line and metrics say of it.
type requestLine struct {
	start                      time.Time
	id, method, route          string
	status                     int
	client                     netip.Addr
	operation, opName, outcome string
	graphQL                    bool
}

// customerFacing: the customer page, its photos, a preview page, and
// publicTracking.
func (l requestLine) customerFacing() bool {
	return l.operation == "publicTracking" || strings.HasPrefix(l.route, "GET /t/") ||
		strings.HasPrefix(l.route, "GET "+tracking.PreviewPrefix)
}

// logRequest records a finished request: its metrics and its log line.
func (h *handlers) logRequest(ctx context.Context, l requestLine) {
	end := time.Now()
	elapsed := end.Sub(l.start)
	s := h.metrics.observe(l.route, l.status, l.operation, l.outcome, elapsed, l.graphQL)
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	// The series' logger holds route, status, operation and outcome.
	// A record without a source position: Logger.LogAttrs would walk the
	// stack for one on every request, and the line never shows it.
	rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
	rec.AddAttrs(
		slog.String("id", l.id), slog.String("method", l.method),
		slog.Int64("duration_ms", elapsed.Milliseconds()),
	)
	// Who opened a tracking link is never written anywhere (issue 11):
	// the customer-facing requests' lines carry no client address.
	if !l.customerFacing() {
		rec.AddAttrs(slog.String("client_ip", l.client.String()))
	}
	if l.opName != "" {
		rec.AddAttrs(slog.String("operation_name", l.opName))
	}
	_ = s.log.Handler().Handle(ctx, rec)
}

func outcomeForStatus(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusNotFound:
		return string(domain.NotFound)
	case status == http.StatusTooManyRequests:
		return string(domain.RateLimited)
	case status < 500:
		return string(domain.BadInput)
	default:
		return string(domain.Internal)
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic outside a resolver (gqlgen recovers those
// itself) into a 500 for that one request; the server keeps serving.
func (h *handlers) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil || p == http.ErrAbortHandler {
				if p != nil {
					panic(p)
				}
				return
			}
			h.Logger.ErrorContext(r.Context(), "panic", "panic", p, "stack", string(debug.Stack()))
			requestInfo(r.Context()).setOutcome(string(domain.Internal))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}
