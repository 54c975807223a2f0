// Package httpapi is the server's HTTP surface: GraphQL, the customer's
// tracking page, media and health routes, and the middleware around them.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/domain"
	"importops/loaders"
	"importops/media"
	"importops/tracking"
)

// Deps is everything the HTTP layer needs; main builds it once.
type Deps struct {
	Config   config.Config
	Store    *db.Store
	Media    media.Storage
	Signer   *media.Signer
	Tracking *tracking.Service
	Logger   *slog.Logger
}

// New returns the server's root handler.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	h := &handlers{Deps: d}
	gql := newGraphQL(d)

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", h.authenticate(gql))
	mux.Handle("GET /graphql", h.authenticate(gql))
	if !d.Config.Production() {
		mux.Handle("GET /{$}", playground.Handler("ImportOps", "/graphql"))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", h.ready)
	mux.HandleFunc("GET /t/{slug}", h.trackingPage)
	mux.HandleFunc("GET /t/{slug}/photos/{photoID}", h.publicPhoto)
	mux.HandleFunc("GET /media/photos/{photoID}", h.staffPhoto)
	mux.HandleFunc("GET /media/logos/{key}", h.logo)
	return h.logRequests(mux)
}

type handlers struct {
	Deps
}

func (h *handlers) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// authenticate puts the bearer token's owner into the context. A missing,
// unknown or revoked token leaves the request anonymous: it may still call
// login and publicTracking, and every staff field answers UNAUTHENTICATED.
func (h *handlers) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if ok && token != "" && len(token) <= 256 {
			hash := auth.HashToken(token)
			owner, err := h.Store.TokenOwner(r.Context(), hash)
			if err != nil {
				h.Logger.ErrorContext(r.Context(), "authenticate", "error", err)
				http.Error(w, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, http.StatusInternalServerError)
				return
			}
			if owner != nil {
				ctx := auth.WithViewer(r.Context(), &auth.Viewer{
					UserID: owner.UserID, OrganizationID: owner.OrganizationID,
					Role: domain.Role(owner.Role), TokenHash: hash,
				})
				r = r.WithContext(loaders.With(ctx, loaders.New(h.Store, owner.OrganizationID)))
			}
		}
		next.ServeHTTP(w, r)
	})
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

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request. The path of /t/ and media
// routes carries a secret, so only the route's pattern is logged.
func (h *handlers) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		h.Logger.InfoContext(r.Context(), "request",
			"id", id, "method", r.Method, "route", r.Pattern,
			"status", sw.status, "duration_ms", time.Since(start).Milliseconds())
	})
}
