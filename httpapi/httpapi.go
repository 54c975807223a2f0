// Package httpapi is the server's HTTP surface: GraphQL, the customer's
// tracking page, media and health routes, and the middleware around them.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"importops/config"
	"importops/db"
	"importops/media"
	"importops/page"
	"importops/playground"
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
	// Tracer, when not nil, traces every request, GraphQL operation and
	// (through the pool db.Open made with it) SQL statement.
	Tracer trace.TracerProvider
	// OnServed, when set, is called for every public answer served for a
	// link — the tracking page, or an anonymous publicTracking query that
	// found an available link — from the stored answers or not, after it
	// was written, on the request's goroutine: keep it cheap.
	OnServed func(linkID string, r *http.Request)
}

// Handler is the server's root handler.
type Handler struct {
	http.Handler
	h *handlers
}

// Drain makes /readyz answer 503 from now on, so that load balancers stop
// sending requests before the server shuts down; it serves on as before.
func (x *Handler) Drain() { x.h.draining.Store(true) }

// EndStreams completes every subscription stream, at shutdown after the
// drain: the server's Shutdown waits for requests to finish, and a
// stream would not. Clients reconnect, to another replica.
func (x *Handler) EndStreams() {
	if x.h.Tracking != nil {
		x.h.Tracking.StopWatching()
	}
}

// OpenStreams is the number of subscription streams open now.
func (x *Handler) OpenStreams() int { return x.h.streams.Open() }

// New returns the server's root handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	h := &handlers{Deps: d, rootFields: map[string]bool{},
		uploads: newUploadSlots(maxConcurrentUploads, maxUploadsPerOrg, maxUploadsPerUser)}
	if d.Config.RateLimits {
		h.limits = newLimits()
		if d.Tracking != nil {
			d.Tracking.LimitLookups(lookupBudget{h})
		}
		h.streams = newStreams(maxStreamsPerClient, maxStreams)
	} else {
		h.streams = newStreams(0, maxStreams)
	}
	if d.Tracking != nil {
		// Even without a cache (nothing is stored then): OnServed still
		// sees every public answer.
		h.public = newPublicAnswers(max(d.Config.PublicCacheSize, 1), d.OnServed)
	}
	if d.Tracer != nil {
		h.tracer = d.Tracer.Tracer(tracerName)
	}
	h.metrics = newMetrics(d)
	if h.public != nil {
		h.metrics.registry.MustRegister(h.public.hitsCounter())
	}
	gql := h.storedGraphQL(h.guardGraphQL(newGraphQL(h)))

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", gql)
	mux.Handle("GET /graphql", gql)
	if !d.Config.Production() {
		playground.Routes(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", h.ready)
	mux.Handle("GET /metrics", h.serveMetrics())
	mux.Handle("GET /t/{slug}", pageHeaders(h.storedPage(http.HandlerFunc(h.trackingPage))))
	mux.HandleFunc("GET "+page.ScriptPath, pageScript)
	mux.HandleFunc("GET /t/{slug}/photos/{photoID}", h.publicPhoto)
	mux.Handle("GET "+tracking.PreviewPrefix+"{payload}", pageHeaders(http.HandlerFunc(h.previewPage)))
	mux.HandleFunc("GET /media/photos/{photoID}", h.staffPhoto)
	mux.HandleFunc("GET /media/logos/{key}", h.logo)
	return &Handler{Handler: h.chain(mux), h: h}
}

// chain is the one chain of middleware every request takes, around the
// routes.
func (h *handlers) chain(routes http.Handler) http.Handler {
	return h.logRequests(h.limitOverall(bodyDeadlines(routes)))
}

type handlers struct {
	Deps
	tracer     trace.Tracer // nil: tracing is off
	limits     *limits      // nil when RATE_LIMITS=off
	streams    *streams
	metrics    *metrics
	public     *publicAnswers  // nil without a tracking service
	rootFields map[string]bool // the schema's Query and Mutation fields
	draining   atomic.Bool
	uploads    *uploadSlots // the upload bodies being read
	readiness  readiness
	// warnedProxy: the untrusted-proxy warning is logged once.
	warnedProxy atomic.Bool
}

// readiness remembers the last database check for a second: /readyz is
// open to anyone and not rate limited, so however often it is asked it
// costs at most one round trip a second.
type readiness struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

func (c *readiness) check(ctx context.Context, ping func(context.Context) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < time.Second {
		return c.err
	}
	// Not the caller's context: a client hanging up must not be remembered
	// as a database outage.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	c.err, c.at = ping(ctx), time.Now()
	return c.err
}

// ready is 200 while the database answers and the server is not shutting
// down. The ping is bounded: an unreachable database turns it 503 within
// seconds.
func (h *handlers) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if err := h.readiness.check(r.Context(), h.Store.Ping); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}
