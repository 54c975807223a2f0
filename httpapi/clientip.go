package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request is attributed to, for rate limits and
// logs: the peer, unless the peer is one of TRUSTED_PROXIES; then the
// nearest address in X-Forwarded-For that is not a trusted proxy itself.
// Anyone else's X-Forwarded-For is ignored: it is whatever the client
// wrote. An entry that is not an address ends the walk, so garbage never
// becomes the client.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	return clientAddr(parseHost(r.RemoteAddr), r.Header.Values("X-Forwarded-For"), trusted)
}

// clientAddr is clientIP from the peer's address and the request's
// X-Forwarded-For values.
func clientAddr(peer netip.Addr, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client
}

// warnUntrustedProxy logs once that a private or loopback peer, not in
// TRUSTED_PROXIES, sends X-Forwarded-For: most likely a reverse proxy
// that was not configured, which makes every client look like one (one
// rate-limit budget for all, and /metrics open through the proxy).
func (h *handlers) warnUntrustedProxy(peer netip.Addr) {
	if !peer.IsValid() || !(peer.IsPrivate() || peer.IsLoopback()) || isTrusted(peer, h.Config.TrustedProxies) {
		return
	}
	if h.warnedProxy.CompareAndSwap(false, true) {
		h.Logger.Warn("a request came through what looks like a reverse proxy that is not in TRUSTED_PROXIES: all its clients share one rate-limit budget and /metrics answers through it; set TRUSTED_PROXIES",
			"peer", peer.String())
	}
}

// parseHost reads "ip", "ip:port" or "[ipv6]:port", without a zone and
// with IPv4-mapped IPv6 addresses as IPv4; the zero Addr when it is none
// of these.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is the rate-limit key of a client: its IPv4 address, or the /64
// of an IPv6 address (its first address), since one subscriber commonly
// holds a whole /64. Clients of no known address share the zero Addr.
func limitKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// ClientAddr is the client of a request inside the handler's chain: the
// peer, or the address a trusted proxy names (TRUSTED_PROXIES). For
// Deps.OnServed.
func ClientAddr(r *http.Request) netip.Addr {
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return info.client
	}
	return parseHost(r.RemoteAddr)
}
