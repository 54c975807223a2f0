package tracking

import (
	"context"
	"strings"
	"testing"
)

// FuzzPlausibleSlug: PlausibleSlug accepts exactly the strings of our
// slugs' length and alphabet; every NewSlug is plausible.
func FuzzPlausibleSlug(f *testing.F) {
	for _, s := range []string{NewSlug(), "", "short", strings.Repeat("A", SlugLen), strings.Repeat("A", SlugLen-1) + "=",
		strings.Repeat("-", SlugLen), strings.Repeat("é", SlugLen/2), "../../etc/passwd", strings.Repeat("A", SlugLen) + "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) == SlugLen && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
		if got := PlausibleSlug(s); got != want {
			t.Fatalf("PlausibleSlug(%q) = %v, want %v", s, got, want)
		}
		if n := NewSlug(); !PlausibleSlug(n) {
			t.Fatalf("NewSlug() = %q is not plausible", n)
		}
	})
}

// FuzzPublicTrackingSlug: a slug that could not be ours is answered "not
// available" without a database round trip (the Service has no store: a
// lookup would panic), by both the query and the photo route; and the
// public URLs built from a plausible slug stay on their paths.
func FuzzPublicTrackingSlug(f *testing.F) {
	for _, s := range []string{"", "x", NewSlug(), NewSlug() + "x", strings.Repeat("%", SlugLen), "' OR 1=1 --", strings.Repeat("A", SlugLen-1) + "/"} {
		f.Add(s, "photo-id")
	}
	svc := NewService(nil, "https://import-ops.com")
	f.Fuzz(func(t *testing.T, slug, photoID string) {
		if PlausibleSlug(slug) {
			if u := svc.LinkURL(slug); u != "https://import-ops.com/t/"+slug || strings.ContainsAny(slug, "/?#%") {
				t.Fatalf("LinkURL(%q) = %q", slug, u)
			}
			if p := PhotoPath(slug, photoID); !strings.HasPrefix(p, "/t/"+slug+"/photos/") {
				t.Fatalf("PhotoPath(%q, %q) = %q", slug, photoID, p)
			}
			return
		}
		v, err := svc.View(context.Background(), slug)
		if v != nil || err != nil {
			t.Fatalf("View(%q) = %v, %v; want not available", slug, v, err)
		}
		p, err := svc.PublicPhoto(context.Background(), slug, photoID)
		if p != nil || err != nil {
			t.Fatalf("PublicPhoto(%q) = %v, %v; want not available", slug, p, err)
		}
	})
}
