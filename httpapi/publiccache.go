package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"hash/maphash"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"importops/page"
	"importops/tracking"
)

// The stored-answer layer: warm public answers — the customer page
// GET /t/{slug} and anonymous publicTracking queries (POST and GET) — are
// served as the bytes the normal path wrote for the same request, so a
// page refreshed by many customers costs neither a lookup, GraphQL
// execution nor rendering. It is a route's middleware like any other:
// request ids, logging, rate limits and metrics see a hit exactly as a
// miss, before and after it.
//
// Why serving them is safe — byte for byte what the normal path would
// answer now:
//   - The bytes live on the tracking cache's entry of the link they were
//     rendered from (tracking.Service.Keep), so whatever drops or replaces
//     that link (a write here, NOTIFY from another replica, the listener
//     going down, eviction) drops them; Stored checks availability
//     (expiry) on every read.
//   - The key is the whole request as far as it can change the answer:
//     for GraphQL the method, the Accept header (gqlgen's content type)
//     and the exact body or query string (query, operationName,
//     variables, extensions — a persisted query's hash included); for
//     the page, which depends on its slug alone, the route. Only
//     requests without an Authorization header are looked up or stored:
//     a staff request never touches it.
//   - Only a success is stored: status 200 from exactly one lookup of an
//     available link, and for GraphQL a query whose one root field is
//     publicTracking answered without error. A null (unknown, revoked,
//     expired, locked, deleted) is never stored.
//   - A client out of failed-lookup budget is not served (Stored asks the
//     budget) and the normal path refuses it; a hit spends nothing, as a
//     successful lookup there.

const (
	// maxPublicRequest bounds the key (Accept and body or query string)
	// of a cacheable GraphQL request; the customer page's query is about
	// 500 bytes.
	maxPublicRequest = 4 << 10
	// pageKey is the page's answer on a link's entry.
	pageKey = "page"
)

var pageKeyBytes = []byte(pageKey)

// publicAnswers is the layer's own state: the slug each GraphQL request
// key was answered for (the request names it in its body, which is not
// parsed on a hit) and the count of hits.
type publicAnswers struct {
	// slugs is keyed by the request key's hash: a collision only makes a
	// miss, as the answers on a link's entry are keyed by the whole key.
	slugs *lru.Cache[uint64, string]
	seed  maphash.Seed
	hits  atomic.Uint64
	// onServed is Deps.OnServed, or nil.
	onServed func(linkID string, r *http.Request)
}

func newPublicAnswers(size int, onServed func(string, *http.Request)) *publicAnswers {
	slugs, _ := lru.New[uint64, string](2 * size) // only a size below 1 fails; New passes none
	return &publicAnswers{slugs: slugs, seed: maphash.MakeSeed(), onServed: onServed}
}

// hitsCounter exposes hits as a metric.
func (p *publicAnswers) hitsCounter() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "importops_public_answer_hits_total",
		Help: "Public answers (the tracking page, anonymous publicTracking) served from the stored answers (each also counts as a public cache hit).",
	}, func() float64 { return float64(p.hits.Load()) })
}

// served is THE place where a public answer for a link was served to r,
// from the stored answers or not: the page, or an anonymous publicTracking
// query (see storedAnswer). It runs on the request's goroutine after the
// answer was written; keep it cheap.
func (p *publicAnswers) served(linkID string, r *http.Request) {
	if p.onServed != nil {
		p.onServed(linkID, r)
	}
}

// storedPage serves the page's stored answer for its slug, or has next
// render it and keeps what it rendered.
func (h *handlers) storedPage(next http.Handler) http.Handler {
	if h.public == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.storedAnswer(w, r, r.PathValue("slug"), pageKeyBytes, false, next)
	})
}

// storedGraphQL serves a stored answer for an anonymous GraphQL request
// that may be publicTracking, or has next answer it and keeps the answer.
func (h *handlers) storedGraphQL(next http.Handler) http.Handler {
	if h.public == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := graphQLKey(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		slug, _ := h.public.slugs.Get(maphash.Bytes(h.public.seed, key))
		h.storedAnswer(w, r, slug, key, true, next)
	})
}

// graphQLKey is the key of an anonymous GraphQL request that may be
// answered from the stored answers; ok is false for any other. A POST's
// body is read, and put back for the handlers after this. The key is
// bytes: a hit looks it up without making a string of it.
func graphQLKey(r *http.Request) (key []byte, ok bool) {
	if len(r.Header["Authorization"]) != 0 || len(r.Header["Upgrade"]) != 0 {
		return nil, false
	}
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "text/event-stream") {
		return nil, false // a stream, never one stored answer
	}
	switch r.Method {
	case http.MethodGet:
		if len(accept)+1+len(r.URL.RawQuery) > maxPublicRequest {
			return nil, false
		}
		// No header holds a NUL, so the parts cannot run together.
		key := make([]byte, 0, 2+len(accept)+len(r.URL.RawQuery))
		return append(append(append(append(key, 'G'), accept...), 0), r.URL.RawQuery...), true
	case http.MethodPost:
		n := r.ContentLength
		if n <= 0 || int64(len(accept))+1+n > maxPublicRequest || !isJSON(r.Header.Get("Content-Type")) {
			return nil, false
		}
		buf := make([]byte, 0, 2+len(accept)+int(n))
		buf = append(append(append(buf, 'P'), accept...), 0)
		body := buf[len(buf) : len(buf)+int(n)]
		read, err := io.ReadFull(r.Body, body)
		if err == nil {
			// Read on to the body's end, which lifts its read deadline and
			// lets net/http watch the connection for a client going away.
			var end [1]byte
			if _, err = r.Body.Read(end[:]); err == io.EOF {
				err = nil
			}
		}
		if err != nil {
			// Let the normal path read the rest and answer the error.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:read]), r.Body))
			return nil, false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return buf[:len(buf)+int(n)], true
	}
	return nil, false
}

// storedAnswer serves the answer stored under key for slug's link when
// there is one to serve now; otherwise next answers r, and its answer is
// kept when it is a public answer of one available link.
func (h *handlers) storedAnswer(w http.ResponseWriter, r *http.Request, slug string, key []byte, graphQL bool, next http.Handler) {
	info := requestInfo(r.Context())
	if slug != "" {
		if a, linkID, ok := h.Tracking.Stored(r.Context(), slug, key); ok {
			h.public.hits.Add(1)
			if graphQL {
				info.setOperation("publicTracking", a.Name, "ok")
			}
			writeAnswer(w, a)
			h.public.served(linkID, r)
			return
		}
	}
	ctx, rec := tracking.Record(r.Context())
	miss := &publicMiss{}
	if graphQL {
		info.setPublicMiss(miss)
	}
	// The copy is made in a pooled buffer and kept, if at all, as a
	// fresh slice of its exact size: a miss allocates the answer once.
	bp := answerBufs.Get().(*[]byte)
	tw := &teeWriter{ResponseWriter: w, buf: (*bp)[:0]}
	defer func() {
		*bp = tw.buf[:0]
		answerBufs.Put(bp)
	}()
	next.ServeHTTP(tw, r.WithContext(ctx))

	e, ok := rec.Only()
	if !ok || tw.status != http.StatusOK || (graphQL && !miss.isApproved()) {
		return
	}
	h.public.served(e.LinkID(), r)
	if tw.over {
		return
	}
	a := &tracking.Answer{ContentType: tw.Header().Get("Content-Type"), Name: miss.name()}
	if i := bytes.Index(tw.buf, pageStyle); !graphQL && i >= 0 {
		a.Body = append(append(make([]byte, 0, len(tw.buf)-len(pageStyle)), tw.buf[:i]...), tw.buf[i+len(pageStyle):]...)
		a.Shared, a.SharedAt = pageStyle, i
	} else {
		a.Body = bytes.Clone(tw.buf) // the pooled buffer goes back
	}
	if h.Tracking.Keep(e, string(key), a) && graphQL {
		h.public.slugs.Add(maphash.Bytes(h.public.seed, key), e.Slug())
	}
}

// pageStyle is the part every page shares, stored once (tracking.Answer).
var pageStyle = []byte(page.Style())

// writeAnswer sends a stored answer; it was a 200.
func writeAnswer(w http.ResponseWriter, a *tracking.Answer) {
	hdr := w.Header()
	hdr["Content-Type"] = []string{a.ContentType}
	// What a GET would send, also for HEAD.
	hdr["Content-Length"] = []string{strconv.Itoa(a.Len())}
	if a.Shared == nil {
		w.Write(a.Body)
		return
	}
	// One write, not three: net/http sends each write of more than its
	// small buffer at once, a system call each.
	bp := answerBufs.Get().(*[]byte)
	b := append(append(append((*bp)[:0], a.Body[:a.SharedAt]...), a.Shared...), a.Body[a.SharedAt:]...)
	w.Write(b)
	*bp = b
	answerBufs.Put(bp)
}

// answerBufs are the buffers stored answers are put together in.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// publicMiss is a GraphQL request the stored answers may keep the answer
// of, on its way through the normal path; noteResponse approves it.
type publicMiss struct {
	approved atomic.Bool // a publicTracking query answered without error
	opName   atomic.Pointer[string]
}

func (m *publicMiss) isApproved() bool { return m.approved.Load() }

func (m *publicMiss) name() string {
	if p := m.opName.Load(); p != nil {
		return *p
	}
	return ""
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
	m.opName.Store(&name)
	m.approved.Store(true)
}

func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// maxPublicAnswer bounds the copy teeWriter keeps; the tracking cache
// keeps no larger answer either.
const maxPublicAnswer = 64 << 10

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
	if !w.over && len(w.buf)+len(b) <= maxPublicAnswer {
		w.buf = append(w.buf, b...)
	} else {
		w.over = true
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far: the answer is a stream, not one
// to keep.
func (w *teeWriter) Flush() {
	w.over = true
	flush(w.ResponseWriter)
}

// Hijack hands the connection over: nothing to keep either.
func (w *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.over = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
