package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"no proxies trusted: the peer", "203.0.113.7:5555", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"trusted peer without a header", "10.1.2.3:80", nil, trusted, "10.1.2.3"},
		{"trusted peer: the address it saw", "10.1.2.3:80", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"a spoofed first hop is not the client", "10.1.2.3:80", []string{"1.2.3.4, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"trusted hops are skipped", "127.0.0.1:80", []string{"198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		{"several header lines read as one list", "127.0.0.1:80", []string{"1.2.3.4", "198.51.100.1", "10.9.9.9"}, trusted, "198.51.100.1"},
		{"garbage ends the walk at the last trusted hop", "127.0.0.1:80", []string{"198.51.100.1, junk, 10.9.9.9"}, trusted, "10.9.9.9"},
		{"all hops trusted: the first", "127.0.0.1:80", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"hop with a port", "127.0.0.1:80", []string{"198.51.100.1:4711"}, trusted, "198.51.100.1"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.7]:1", nil, nil, "203.0.113.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, c.trusted); got.String() != c.want {
				t.Errorf("clientIP = %s, want %s", got, c.want)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	a := limitKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := limitKey(netip.MustParseAddr("2001:db8:1:2:bbbb::2"))
	c := limitKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Errorf("IPv6 keys: %s %s %s; want one key per /64", a, b, c)
	}
	if k := limitKey(netip.MustParseAddr("192.0.2.1")); k != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("IPv4 key = %s", k)
	}
	if k := limitKey(netip.Addr{}); k != (netip.Addr{}) || k == limitKey(netip.IPv6Unspecified()) {
		t.Errorf("invalid address key = %s, want the zero Addr, not ::", k)
	}
}
