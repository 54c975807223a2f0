package httpapi

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"
)

// Shortcut answers a request the stored answers (publiccache.go) can
// answer straight from the server's parse of it (httpserver), without its
// conversion to net/http and the middleware: the hot path of a tracking
// page refreshed by many customers. It answers exactly what servePublic
// would, under the same rules, and records the request as logRequests
// does (the same log line and metrics). Anything else, or any doubt, and
// it returns false having changed nothing: the request takes the normal
// path, which decides.
func (x *Handler) Shortcut(ctx *fasthttp.RequestCtx, body []byte) bool {
	h := x.h
	c := h.public
	if c == nil || body == nil || !ctx.IsPost() || string(ctx.RequestURI()) != "/graphql" {
		return false
	}
	start := time.Now()
	rh := &ctx.Request.Header
	if ct := rh.ContentType(); string(ct) != "application/json" && !isJSON(string(ct)) {
		return false
	}
	if len(rh.PeekAll("Authorization")) != 0 {
		return false
	}
	accepts := rh.PeekAll("Accept")
	var accept []byte
	switch len(accepts) {
	case 0:
	case 1:
		accept = accepts[0]
	default:
		return false
	}
	if len(accept)+1+len(body) > maxPublicRequest {
		return false
	}
	bp := keyBufs.Get().(*[]byte)
	key := append(append(append((*bp)[:0], accept...), 0), body...)
	defer func() { *bp = key; keyBufs.Put(bp) }()

	peer := peerAddr(ctx)
	var forwardedFor []string
	if values := rh.PeekAll("X-Forwarded-For"); len(values) > 0 {
		for _, v := range values {
			forwardedFor = append(forwardedFor, string(v))
		}
		if !h.warnedProxy.Load() {
			h.warnUntrustedProxy(peer)
		}
	}
	client := clientAddr(peer, forwardedFor, h.Config.TrustedProxies)
	// As on the normal path: the overall budget first, then the stored
	// answer's own rules. Nothing is spent until the answer is served.
	lk := limitKey(client)
	if h.limits != nil && !h.limits.overall.canSpend(lk) {
		return false
	}
	a := h.storedAnswer(key, client)
	if a == nil {
		return false
	}
	if h.limits != nil {
		if _, ok := h.limits.overall.allow(lk); !ok {
			return false
		}
	}

	c.hits.Add(1)
	h.Opens.NewVisit("POST", string(rh.UserAgent()), string(rh.Peek("Sec-Purpose")), string(rh.Peek("Purpose")), client).
		Served(a.entry.LinkID())
	id := requestID(string(rh.Peek("X-Request-Id")))
	ctx.SetStatusCode(fasthttp.StatusOK)
	if len(a.contentType) > 0 {
		ctx.Response.Header.SetContentType(a.contentType[0]) // gqlgen sets one
	}
	ctx.Response.Header.Set("X-Request-Id", id)
	ctx.Response.SetBodyRaw(a.body) // never modified: answers are replaced, not changed
	h.logRequest(context.Background(), requestLine{
		start: start, id: id, method: "POST", route: "POST /graphql", status: fasthttp.StatusOK, client: client,
		operation: "publicTracking", opName: a.opName, outcome: "ok", graphQL: true,
	})
	return true
}

// peerAddr is the connection's remote address as parseHost reads
// RemoteAddr.
func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap().WithZone("")
	}
	return parseHost(ctx.RemoteAddr().String())
}
