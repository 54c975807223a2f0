package media_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"importops/media"
)

func TestSignerCoversPathAndExpiry(t *testing.T) {
	t.Parallel()
	s := media.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	signed := s.Sign("/media/photos/abc", now)
	path, query, _ := strings.Cut(signed, "?")
	q, _ := url.ParseQuery(query)
	exp, ok := s.Verify(path, q.Get("exp"), q.Get("sig"), now)
	if !ok {
		t.Fatal("a fresh signature does not verify")
	}
	if d := exp.Sub(now); d < media.URLLifetime || d > media.URLLifetime+time.Minute {
		t.Fatalf("expires in %v, want about %v", d, media.URLLifetime)
	}
	if _, ok := s.Verify("/media/photos/abd", q.Get("exp"), q.Get("sig"), now); ok {
		t.Error("signature verifies another path")
	}
	if _, ok := s.Verify(path, "9999999999", q.Get("sig"), now); ok {
		t.Error("signature verifies another expiry")
	}
	if _, ok := s.Verify(path, q.Get("exp"), q.Get("sig"), exp.Add(time.Second)); ok {
		t.Error("signature verifies after expiry")
	}
}
