package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"importops/domain"
)

// Subscription streams (publicTrackingUpdated) hold a connection and a
// goroutine each for as long as a customer keeps the page open, so they
// are counted: at most maxStreamsPerClient per client address (unless
// RATE_LIMITS=off) and maxStreams in all per replica.
const (
	maxStreamsPerClient = 16
	maxStreams          = 20000
	// streamKeepAlive is how often an idle stream sends a comment (SSE) or
	// a ping (WebSocket), so proxies do not close it and dead peers are
	// noticed.
	streamKeepAlive = 25 * time.Second
)

// streamTransports are the subscription transports, in the order gqlgen
// must try them: WebSocket upgrades and Accept: text/event-stream come
// before the plain GET and POST transports, which would take them too.
func streamTransports() []graphql.Transport {
	return []graphql.Transport{
		transport.Websocket{
			KeepAlivePingInterval: streamKeepAlive,
			InitTimeout:           10 * time.Second,
		},
		sseGET{transport.SSE{KeepAlivePingInterval: streamKeepAlive}},
		transport.SSE{KeepAlivePingInterval: streamKeepAlive},
	}
}

// sseGET is graphql-sse over GET (the protocol allows it, and a browser's
// EventSource can only GET): the parameters come from the query string,
// as for transport.GET, and only a subscription is run, so GET still
// never changes anything. Everything else is gqlgen's SSE transport.
type sseGET struct{ transport.SSE }

var errStreamGETNotSubscription = refusal{http.StatusMethodNotAllowed, domain.BadInput,
	"GET with Accept: text/event-stream runs subscriptions only; send other operations with POST"}

func (t sseGET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" &&
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func (t sseGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q := r.URL.Query()
	params := map[string]any{"query": q.Get("query")}
	if name := q.Get("operationName"); name != "" {
		params["operationName"] = name
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" {
			params[k] = json.RawMessage(v) // admitGraphQL checked it is a JSON object
		}
	}
	if !onlySubscriptions(q.Get("query"), q.Get("operationName")) {
		errStreamGETNotSubscription.write(w)
		return
	}
	body, err := json.Marshal(params)
	if err != nil {
		errBadQueryString.write(w)
		return
	}
	post := r.Clone(r.Context())
	post.Body = io.NopCloser(bytes.NewReader(body))
	post.ContentLength = int64(len(body))
	post.Header.Set("Content-Type", "application/json")
	t.SSE.Do(w, post, exec)
}

// onlySubscriptions reports whether the operation a GET would run is a
// subscription. A query that does not parse is left to gqlgen, which
// answers it with its parse error and runs nothing.
func onlySubscriptions(query, operationName string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return true
	}
	if op := doc.Operations.ForName(operationName); op != nil {
		return op.Operation == ast.Subscription
	}
	for _, op := range doc.Operations {
		if op.Operation != ast.Subscription {
			return false
		}
	}
	return true
}

// streams counts the open subscription streams.
type streams struct {
	perClient int // 0: no per-client limit
	total     int

	mu       sync.Mutex
	open     int
	byClient map[netip.Addr]int
}

func newStreams(perClient, total int) *streams {
	return &streams{perClient: perClient, total: total, byClient: make(map[netip.Addr]int)}
}

// acquire takes a slot for client; release gives it back.
func (s *streams) acquire(client netip.Addr) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open >= s.total || (s.perClient > 0 && s.byClient[client] >= s.perClient) {
		return nil, false
	}
	s.open++
	s.byClient[client]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.open--
			if s.byClient[client]--; s.byClient[client] <= 0 {
				delete(s.byClient, client)
			}
		})
	}, true
}

// Open is the number of streams open now.
func (s *streams) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// limitStreams gives each subscription a slot for as long as it runs: its
// context ends when the stream does, whatever the transport.
func (h *handlers) limitStreams(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Subscription {
		return next(ctx)
	}
	release, ok := h.streams.acquire(requestInfo(ctx).client)
	if !ok {
		return h.refuse(ctx, refusedError(domain.RateLimited, "too many open subscriptions; close some and retry"))
	}
	context.AfterFunc(ctx, release)
	return next(ctx)
}
