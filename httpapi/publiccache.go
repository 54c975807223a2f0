package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"importops/tracking"
)

// publicCache keeps the answers of anonymous publicTracking requests as
// the bytes the normal path wrote, so that a page refreshed by many
// customers costs neither GraphQL execution nor marshalling.
//
// Why serving them is safe — byte for byte what the normal path would
// answer now:
//   - The key is the whole request as far as it can change the answer:
//     the Accept header (gqlgen's content type) and the exact JSON body
//     (query, operationName, variables, extensions — a persisted query's
//     hash included). Only POST application/json requests without an
//     Authorization header are looked up or stored: a staff request never
//     touches it.
//   - Only a success is stored: status 200, no error, a query whose one
//     root field is publicTracking, whose one lookup found an available
//     link. A null (unknown, revoked, expired, locked, deleted) is never
//     stored, so it is never answered from here.
//   - Each answer is tagged with the tracking cache's Entry it was built
//     from (the very link object). An answer is served only while
//     tracking.Service.Current says a lookup would use that same link and
//     Available holds for it now: any invalidation (a write here, NOTIFY
//     from another replica, the listener going down) replaces or drops the
//     link, and expiry is checked on every read. Otherwise the request
//     takes the normal path, which renders and stores a fresh answer.
//   - Rate limits hold: the overall limit runs before this; a client out
//     of failed-lookup budget is not served here but refused by the normal
//     path; a hit is a successful lookup and spends nothing, as there.
//   - Logs and metrics see a hit as the normal path's success
//     (operation publicTracking, outcome ok), and it counts as a hit of
//     the tracking cache.
type publicCache struct {
	mu       sync.Mutex
	answers  map[string]*publicAnswer
	bytes    int
	maxCount int

	hits atomic.Uint64 // requests answered from here
}

type publicAnswer struct {
	entry       tracking.Entry
	contentType []string // shared by every response: never appended to
	opName      string
	body        []byte
	size        int // of key and body
}

const (
	// maxPublicRequest bounds the key (Accept and body) of a cacheable
	// request; the customer page's query is about 500 bytes.
	maxPublicRequest = 4 << 10
	// maxPublicAnswer bounds one stored answer, maxPublicBytes them all.
	maxPublicAnswer = 64 << 10
	maxPublicBytes  = 32 << 20
)

func newPublicCache(maxCount int) *publicCache {
	return &publicCache{answers: make(map[string]*publicAnswer), maxCount: maxCount}
}

// hitsCounter exposes hits as a metric.
func (c *publicCache) hitsCounter() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "importops_public_answer_hits_total",
		Help: "Anonymous publicTracking requests answered with a stored answer (each also counts as a public cache hit).",
	}, func() float64 { return float64(c.hits.Load()) })
}

// keyBufs are the buffers requests' keys are read into.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// publicMiss is a cacheable request on its way through the normal path.
type publicMiss struct {
	key      []byte
	rec      *tracking.Recorder
	approved bool // by noteResponse: a publicTracking query answered without error
	opName   string
}

// servePublic answers r from the cache when it can (served). Otherwise it
// hands back the request to serve normally — its body restored — and,
// for a cacheable one, the miss to store the answer of (storePublic).
func (h *handlers) servePublic(w http.ResponseWriter, r *http.Request) (_ *http.Request, miss *publicMiss, served bool) {
	if r.Method != http.MethodPost || len(r.Header["Authorization"]) != 0 ||
		r.ContentLength <= 0 || r.ContentLength > maxPublicRequest || !isJSON(r.Header.Get("Content-Type")) {
		return r, nil, false
	}
	accept := r.Header.Get("Accept")
	if len(accept)+1+int(r.ContentLength) > maxPublicRequest {
		return r, nil, false
	}
	bp := keyBufs.Get().(*[]byte)
	key := append(append((*bp)[:0], accept...), 0) // no header holds a NUL
	key = append(key, make([]byte, r.ContentLength)...)
	body := key[len(accept)+1:]
	if n, err := io.ReadFull(r.Body, body); err != nil {
		// Let the normal path read the rest and answer the error.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:n]), r.Body))
		return r, nil, false
	}
	info := requestInfo(r.Context())
	if a := h.storedAnswer(key, info.client); a != nil {
		h.public.hits.Add(1)
		h.Opens.Visit(r, info.client).Served(a.entry.LinkID())
		info.setOperation("publicTracking", a.opName, "ok")
		w.Header()["Content-Type"] = a.contentType
		w.Write(a.body)
		*bp = key
		keyBufs.Put(bp)
		return r, nil, true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx, rec := tracking.Record(r.Context())
	miss = &publicMiss{key: key, rec: rec}
	info.setPublicMiss(miss)
	return r.WithContext(ctx), miss, false
}

// storedAnswer is the answer stored for key that may be served to client
// now, or nil: a client out of failed-lookup budget is left to the normal
// path, which refuses it, and the answer's link must still be current and
// available. A stale answer is dropped.
func (h *handlers) storedAnswer(key []byte, client netip.Addr) *publicAnswer {
	c := h.public
	a := c.get(key)
	if a == nil || (h.limits != nil && !h.limits.publicMisses.canSpend(limitKey(client))) {
		return nil
	}
	if !h.Tracking.Current(a.entry) {
		c.drop(string(key), a)
		return nil
	}
	return a
}

// approvePublic marks the request's answer as cacheable when it is a
// query whose one root field is publicTracking, answered without error,
// nothing deferred and no extension; the status and the lookup are
// checked when it is stored.
func approvePublic(ctx context.Context, label, name string, resp *graphql.Response) {
	m := requestInfo(ctx).publicMiss()
	if m == nil || label != "publicTracking" || !graphql.HasOperationContext(ctx) {
		return
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Query || len(resp.Errors) > 0 || len(resp.Extensions) > 0 ||
		resp.HasNext != nil || resp.Label != "" || resp.Path != nil || resp.Data == nil {
		return
	}
	m.approved, m.opName = true, name
}

// storePublic keeps the answer of a miss the normal path wrote (tw), if
// approved, answered 200 in full, from exactly one lookup of an available
// link, while the tracking cache is in use.
func (h *handlers) storePublic(m *publicMiss, tw *teeWriter) {
	e, ok := m.rec.Only()
	if !m.approved || !ok || tw.status != http.StatusOK || tw.over || !h.Tracking.Caching() {
		return
	}
	ct := tw.Header()["Content-Type"]
	a := &publicAnswer{
		entry: e, contentType: ct[:len(ct):len(ct)], opName: m.opName,
		body: tw.buf, size: len(m.key) + len(tw.buf),
	}
	h.public.put(string(m.key), a)
}

// get is the answer stored for key, or nil.
func (c *publicCache) get(key []byte) *publicAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers[string(key)]
}

func (c *publicCache) put(key string, a *publicAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.answers[key]; old != nil {
		c.bytes -= old.size
		delete(c.answers, key)
	}
	// Full: drop answers at random (map order), stale ones went already.
	for k, old := range c.answers {
		if len(c.answers) < c.maxCount && c.bytes+a.size <= maxPublicBytes {
			break
		}
		c.bytes -= old.size
		delete(c.answers, k)
	}
	c.answers[key] = a
	c.bytes += a.size
}

// drop removes a's key if it still holds a.
func (c *publicCache) drop(key string, a *publicAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers[key] == a {
		c.bytes -= a.size
		delete(c.answers, key)
	}
}

func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// teeWriter keeps a copy of what the normal path answers a cacheable
// request, up to maxPublicAnswer bytes.
type teeWriter struct {
	http.ResponseWriter
	status int
	buf    []byte
	over   bool
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf)+len(b) <= maxPublicAnswer {
		w.buf = append(w.buf, b...)
	} else {
		w.over = true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
