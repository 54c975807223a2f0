package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (never the global default, so two handlers in one process do not
// collide). Every label has a bounded set of values: route patterns,
// status codes, the schema's root fields and the error codes.
type metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	operations   *prometheus.CounterVec
	opDuration   *prometheus.HistogramVec
	rateLimited  *prometheus.CounterVec

	// The series of each label combination seen, so that a request costs
	// one map lookup rather than four label hashes (the labels are
	// bounded, so is this).
	mu     sync.RWMutex
	series map[seriesKey]*series
	logger *slog.Logger
}

type seriesKey struct {
	route              string
	status             int
	operation, outcome string
	graphQL            bool
}

type series struct {
	httpRequests prometheus.Counter
	httpDuration prometheus.Observer
	operations   prometheus.Counter
	opDuration   prometheus.Observer
	// log writes request lines with the series' labels as attributes,
	// formatted once (slog.Logger.With) rather than on every line.
	log *slog.Logger
}

// cacheStats is tracking.Service's count of public-cache hits and misses.
type cacheStats interface {
	CacheStats() (hits, misses uint64)
}

func newMetrics(d Deps) *metrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		series:   make(map[seriesKey]*series),
		logger:   d.Logger,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "importops_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "importops_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: buckets,
		}, []string{"route"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "importops_graphql_operations_total",
			Help: `GraphQL requests by operation (the root field, "multiple", "introspection", "typename", "invalid" or "refused") and outcome ("ok" or the first error code).`,
		}, []string{"operation", "outcome"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "importops_graphql_operation_duration_seconds",
			Help:    "GraphQL request latency by operation.",
			Buckets: buckets,
		}, []string{"operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "importops_rate_limited_total",
			Help: "Requests and fields refused by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	m.registry.MustRegister(m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.rateLimited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if d.Store != nil {
		m.registry.MustRegister(collectors.NewDBStatsCollector(d.Store.DB().DB, "importops"))
	}
	if cs, ok := any(d.Tracking).(cacheStats); ok && d.Tracking != nil {
		m.registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "importops_public_cache_hits_total",
				Help: "Public tracking lookups answered from the cache.",
			}, func() float64 { hits, _ := cs.CacheStats(); return float64(hits) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "importops_public_cache_misses_total",
				Help: "Public tracking lookups that went to the database.",
			}, func() float64 { _, misses := cs.CacheStats(); return float64(misses) }),
		)
	}
	for _, name := range []string{overallBudget.name, publicMissBudget.name, loginAccountBudget.name,
		loginKnownBudget.name, loginIPBudget.name, uploadsLimit} {
		m.rateLimited.WithLabelValues(name) // present at 0 from the start
	}
	return m
}

func (m *metrics) observe(route string, status int, operation, outcome string, elapsed time.Duration, graphQL bool) *series {
	key := seriesKey{route, status, operation, outcome, graphQL}
	m.mu.RLock()
	s := m.series[key]
	m.mu.RUnlock()
	if s == nil {
		s = &series{
			httpRequests: m.httpRequests.WithLabelValues(route, strconv.Itoa(status)),
			httpDuration: m.httpDuration.WithLabelValues(route),
			log: m.logger.With(slog.String("route", route), slog.Int("status", status),
				slog.String("operation", operation), slog.String("outcome", outcome)),
		}
		if graphQL {
			s.operations = m.operations.WithLabelValues(operation, outcome)
			s.opDuration = m.opDuration.WithLabelValues(operation)
		}
		m.mu.Lock()
		m.series[key] = s
		m.mu.Unlock()
	}
	seconds := elapsed.Seconds()
	s.httpRequests.Inc()
	s.httpDuration.Observe(seconds)
	if graphQL {
		s.operations.Inc()
		s.opDuration.Observe(seconds)
	}
	return s
}

// serveMetrics answers GET /metrics to clients on a loopback or private
// network (a Prometheus next to the server) and 404 to everyone else:
// the server faces the internet, its counters are nobody else's business.
func (h *handlers) serveMetrics() http.Handler {
	inner := promhttp.HandlerFor(h.metrics.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !privateAddr(requestInfo(r.Context()).client) {
			http.NotFound(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

func privateAddr(a netip.Addr) bool {
	return a.IsValid() && (a.IsLoopback() || a.IsPrivate())
}
