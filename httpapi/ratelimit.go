package httpapi

import (
	"context"
	"encoding/hex"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"

	"importops/auth"
	"importops/domain"
)

// The budgets. Each is a token bucket per key: burst units at first, one
// more every "every". RATE_LIMITS=off turns them all off.
var (
	// Every request but /healthz, /readyz and /metrics, per client IP: a
	// tracking page with its photos is about a dozen requests.
	overallBudget = budget{name: "overall", every: 50 * time.Millisecond, burst: 400}
	// publicTracking and /t/ lookups that find no available link, per
	// client IP: slug guessing. A customer who mistypes a link a few times
	// never notices.
	publicMissBudget = budget{name: "public_lookup", every: 10 * time.Second, burst: 20}
	// Failed logins per account (lower-cased email) from addresses that
	// never signed in to it, and per client IP: password guessing and
	// credential stuffing (see limitSignIn).
	loginAccountBudget = budget{name: "login_account", every: time.Minute, burst: 10}
	loginIPBudget      = budget{name: "login_ip", every: 10 * time.Second, burst: 30}
)

// maxLimitKeys bounds each limiter's memory: past it the least recently
// seen key is forgotten (about 200 bytes each).
const maxLimitKeys = 100_000

type budget struct {
	name  string // the metrics label
	every time.Duration
	burst int
}

// limits are the server's rate limiters; nil when RATE_LIMITS=off.
type limits struct {
	overall, publicMisses, loginIP *keyedLimiter[netip.Addr] // by limitKey
	loginAccount                   *keyedLimiter[string]     // by lower-cased email
	loginKnown                     *keyedLimiter[origin]     // by account and known address
	origins                        *signInOrigins
}

func newLimits() *limits {
	return &limits{
		overall:      newKeyedLimiter[netip.Addr](overallBudget, maxLimitKeys),
		publicMisses: newKeyedLimiter[netip.Addr](publicMissBudget, maxLimitKeys),
		loginAccount: newKeyedLimiter[string](loginAccountBudget, maxLimitKeys),
		loginIP:      newKeyedLimiter[netip.Addr](loginIPBudget, maxLimitKeys),
		loginKnown:   newKeyedLimiter[origin](loginKnownBudget, maxLimitKeys),
		origins:      newSignInOrigins(maxLimitKeys),
	}
}

// keyedLimiter is one token bucket per key (golang.org/x/time/rate) in a
// bounded LRU. A key whose bucket has refilled is idle, as good as new,
// and dropped when a new key arrives, so the map holds only recent keys.
type keyedLimiter[K comparable] struct {
	budget
	mu   sync.Mutex
	keys *simplelru.LRU[K, *bucket]
}

type bucket struct {
	lim *rate.Limiter
	// inFlight counts attempts begun and not yet ended: each holds one
	// unit, so concurrent attempts cannot overdraw the budget.
	inFlight int
}

func newKeyedLimiter[K comparable](b budget, size int) *keyedLimiter[K] {
	keys, err := simplelru.NewLRU[K, *bucket](size, nil)
	if err != nil {
		panic(err) // only for size <= 0
	}
	return &keyedLimiter[K]{budget: b, keys: keys}
}

// get returns key's bucket; k.mu is held.
func (k *keyedLimiter[K]) get(key K, now time.Time) *bucket {
	if b, ok := k.keys.Get(key); ok {
		return b
	}
	for range 2 { // amortised: drop idle keys as new ones come
		_, oldest, ok := k.keys.GetOldest()
		if !ok || oldest.inFlight > 0 || oldest.lim.TokensAt(now) < float64(k.burst) {
			break
		}
		k.keys.RemoveOldest()
	}
	b := &bucket{lim: rate.NewLimiter(rate.Every(k.every), k.burst)}
	k.keys.Add(key, b)
	return b
}

// allow spends one unit of key's budget; when none is left it returns
// false and how long until one is.
func (k *keyedLimiter[K]) allow(key K) (retryAfter time.Duration, ok bool) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	if b.lim.TokensAt(now)-float64(b.inFlight) >= 1 && b.lim.AllowN(now, 1) {
		return 0, true
	}
	return k.wait(b, now), false
}

// canSpend reports whether key has a unit to spend now, spending none.
func (k *keyedLimiter[K]) canSpend(key K) bool {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.keys.Peek(key)
	return !ok || b.lim.TokensAt(now)-float64(b.inFlight) >= 1
}

// begin starts an attempt that spends a unit of key's budget only if it
// fails: end(true) spends it, end(false) gives it back. With no unit left
// it returns false and how long until one is.
func (k *keyedLimiter[K]) begin(key K) (end func(failed bool), retryAfter time.Duration, ok bool) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, now)
	if b.lim.TokensAt(now)-float64(b.inFlight) < 1 {
		return nil, k.wait(b, now), false
	}
	b.inFlight++
	var once sync.Once
	return func(failed bool) {
		once.Do(func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			b.inFlight--
			if failed {
				b.lim.AllowN(time.Now(), 1)
			}
		})
	}, 0, true
}

// wait is how long until key has a unit to spend; k.mu is held.
func (k *keyedLimiter[K]) wait(b *bucket, now time.Time) time.Duration {
	missing := 1 + float64(b.inFlight) - b.lim.TokensAt(now)
	return time.Duration(math.Max(missing, 0) * float64(k.every))
}

// retryAfterSeconds is the Retry-After value for d: whole seconds, at
// least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

func rateLimitedError(d time.Duration) error {
	return domain.Errorf(domain.RateLimited, "too many attempts: try again in %d seconds", retryAfterSeconds(d))
}

// exemptFromOverall are the operators' routes: probes and scrapes must not
// be refused because of the traffic they watch.
var exemptFromOverall = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// limitOverall spends one unit of the client's overall budget per request.
func (h *handlers) limitOverall(next http.Handler) http.Handler {
	if h.limits == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exemptFromOverall[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if wait, ok := h.limits.overall.allow(limitKey(requestInfo(r.Context()).client)); !ok {
			h.refuseRate(w, r, overallBudget.name, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// lookupBudget is the failed-lookup budget tracking.Service charges
// (publicTracking and the /t/ routes alike), per client.
type lookupBudget struct{ h *handlers }

func (b lookupBudget) Begin(ctx context.Context) (func(failed bool), error) {
	end, wait, ok := b.h.limits.publicMisses.begin(limitKey(requestInfo(ctx).client))
	if !ok {
		return nil, b.h.rateLimited(ctx, publicMissBudget.name, wait)
	}
	return end, nil
}

func (b lookupBudget) Allows(ctx context.Context) bool {
	return b.h.limits.publicMisses.canSpend(limitKey(requestInfo(ctx).client))
}

// refuseRate answers 429 with Retry-After: a GraphQL error on /graphql,
// plain text elsewhere.
func (h *handlers) refuseRate(w http.ResponseWriter, r *http.Request, limit string, wait time.Duration) {
	h.metrics.rateLimited.WithLabelValues(limit).Inc()
	writeRateLimited(w, r, wait)
}

// writeRateLimited is refuseRate's answer, for a refusal already counted.
func writeRateLimited(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	w.Header().Set("Cache-Control", "no-store")
	info := requestInfo(r.Context())
	if r.URL.Path == "/graphql" {
		info.setOperation(opRefused, "", string(domain.RateLimited))
		refusal{http.StatusTooManyRequests, domain.RateLimited, "too many requests: slow down"}.write(w)
		return
	}
	info.setOutcome(string(domain.RateLimited)) // the route is the operation
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusTooManyRequests)
	w.Write([]byte("too many requests: try again later\n"))
}

// limitFields is the GraphQL side of failed sign-ins (limitSignIn), per
// account and per client IP. (Failed public lookups are charged by
// tracking.Service: lookupBudget.)
func (h *handlers) limitFields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	switch {
	case fc.Object == "Mutation" && fc.Field.Name == "login":
		email, _ := fc.Args["email"].(string)
		return h.limitSignIn(ctx, loginAccountKey(email), next)
	case fc.Object == "Mutation" && fc.Field.Name == "acceptInvite":
		// Guessing invite tokens is guessing passwords: login's budget,
		// per address and per token (kept as its hash).
		token, _ := fc.Args["token"].(string)
		return h.limitSignIn(ctx, "invite:"+hex.EncodeToString(auth.HashToken(token)), next)
	case fc.Object == "Mutation" && fc.Field.Name == "changePassword":
		// A stolen session must not become a way to guess the password.
		if v := auth.ViewerFrom(ctx); v != nil {
			return h.limitSignIn(ctx, "user:"+v.UserID, next)
		}
	}
	return next(ctx)
}

// rateLimited counts a refusal by limit and is its error; the request's
// answer carries Retry-After.
func (h *handlers) rateLimited(ctx context.Context, limit string, wait time.Duration) error {
	h.metrics.rateLimited.WithLabelValues(limit).Inc()
	requestInfo(ctx).setRetryAfter(wait)
	return rateLimitedError(wait)
}
