package e2e

// End-to-end tests of tracking links as the help article describes them
// (shared/spec/help-article-tracking-links.txt): creating, configuring,
// sharing, updating, revoking, regenerating and expiring a link, and what
// the customer sees through it. Everything goes through the real HTTP API.
//
// Helpers shared by tracking_test.go, public_privacy_test.go and
// concurrency_test.go are prefixed "tl" because other files of this
// package are written independently.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // served photos may be re-encoded as JPEG
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/db/dbtest"
	"importops/domain"
)

// ---------------------------------------------------------------------------
// helpers

// tlStart starts a server and one organization for a test, then marks the
// test parallel; every request of the test has its own org.
func tlStart(t *testing.T, orgName, country string) (*apptest.Env, apptest.Org) {
	t.Helper()
	env := apptest.New(t, testDB)
	t.Parallel()
	return env, env.NewOrg(t, orgName, country)
}

// tlStages is the import journey in the contract's order.
var tlStages = []string{
	"PURCHASED", "AWAITING_SHIPMENT", "IN_TRANSIT", "ARRIVED",
	"CUSTOMS_CLEARED", "COMPLIANCE", "READY_FOR_DELIVERY", "DELIVERED",
}

// tlSlugPattern: URL-safe characters only, at least 22 of them (128 bits
// in base64url).
var tlSlugPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22,}$`)

func tlWantCode(t *testing.T, res apptest.Response, want string) {
	t.Helper()
	if got := res.Code(); got != want {
		t.Fatalf("extensions.code = %q, want %q; response: %s", got, want, res.Body)
	}
}

// tlImage is a picture the test uploaded: its size and its one colour.
// The server re-encodes uploads (and may change the format), so a served
// image is recognised by decoding it, not by its bytes.
type tlImage struct {
	Width, Height int
	Color         color.RGBA
	PNG           []byte
}

// tlNewImage is a small valid PNG of one random colour.
func tlNewImage(t *testing.T, w, h int) tlImage {
	t.Helper()
	c := color.RGBA{uint8(mrand.IntN(256)), uint8(mrand.IntN(256)), uint8(mrand.IntN(256)), 255}
	return tlImage{Width: w, Height: h, Color: c, PNG: solidPNG(t, w, h, c)}
}

// tlWantImage fails unless served decodes to want's size and colour (with
// a tolerance for lossy re-encoding).
func tlWantImage(t *testing.T, what string, served []byte, want tlImage) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(served))
	if err != nil {
		t.Fatalf("%s: %d bytes that are not an image: %v", what, len(served), err)
	}
	if b := img.Bounds(); b.Dx() != want.Width || b.Dy() != want.Height {
		t.Fatalf("%s: %s of %dx%d, want the uploaded %dx%d", what, format, b.Dx(), b.Dy(), want.Width, want.Height)
	}
	r, g, b, _ := img.At(img.Bounds().Min.X+want.Width/2, img.Bounds().Min.Y+want.Height/2).RGBA()
	near := func(got uint32, want uint8) bool { d := int(got>>8) - int(want); return d >= -12 && d <= 12 }
	if !near(r, want.Color.R) || !near(g, want.Color.G) || !near(b, want.Color.B) {
		t.Fatalf("%s: colour (%d,%d,%d), want the uploaded (%d,%d,%d)", what, r>>8, g>>8, b>>8, want.Color.R, want.Color.G, want.Color.B)
	}
}

// tlPhoto is an uploaded gallery photo and the picture that was uploaded.
type tlPhoto struct {
	ID      string
	Caption string
	tlImage
}

// tlUploadPhoto uploads a w×h picture of one random colour, remembered for
// tlWantImage.
func tlUploadPhoto(t *testing.T, env *apptest.Env, token, vehicleID, caption string, w, h int) tlPhoto {
	t.Helper()
	img := tlNewImage(t, w, h)
	return tlPhoto{ID: uploadPhoto(t, env, token, vehicleID, caption, img.PNG).ID, Caption: caption, tlImage: img}
}

func tlSetHero(t *testing.T, env *apptest.Env, token, vehicleID, photoID string) {
	t.Helper()
	var out struct {
		SetHeroPhoto struct{ HeroPhoto *struct{ ID string } }
	}
	env.Do(t, token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { heroPhoto { id } } }`,
		apptest.Vars{"v": vehicleID, "p": photoID}).Decode(t, &out)
	if out.SetHeroPhoto.HeroPhoto == nil || out.SetHeroPhoto.HeroPhoto.ID != photoID {
		t.Fatalf("setHeroPhoto: hero is %+v, want %s", out.SetHeroPhoto.HeroPhoto, photoID)
	}
}

const tlRevokeQuery = `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id trackingLink { ` + staffLinkFields + ` } } }`

func tlRevoke(t *testing.T, env *apptest.Env, token, vehicleID string) {
	t.Helper()
	var out struct {
		RevokeTrackingLink struct {
			ID           string
			TrackingLink *staffLink
		}
	}
	env.Do(t, token, tlRevokeQuery, apptest.Vars{"v": vehicleID}).Decode(t, &out)
	if out.RevokeTrackingLink.ID != vehicleID {
		t.Fatalf("revokeTrackingLink returned vehicle %q, want %q", out.RevokeTrackingLink.ID, vehicleID)
	}
	if out.RevokeTrackingLink.TrackingLink != nil {
		t.Fatalf("revokeTrackingLink: vehicle.trackingLink = %+v, want null", out.RevokeTrackingLink.TrackingLink)
	}
}

const tlRegenerateQuery = `mutation($v: ID!) { regenerateTrackingLink(vehicleId: $v) { ` + staffLinkFields + ` } }`

func tlRegenerateRes(t *testing.T, env *apptest.Env, token, vehicleID string) apptest.Response {
	t.Helper()
	return env.Do(t, token, tlRegenerateQuery, apptest.Vars{"v": vehicleID})
}

func tlRegenerate(t *testing.T, env *apptest.Env, token, vehicleID string) staffLink {
	t.Helper()
	var out struct{ RegenerateTrackingLink staffLink }
	tlRegenerateRes(t, env, token, vehicleID).Decode(t, &out)
	return out.RegenerateTrackingLink
}

func tlDeleteVehicle(t *testing.T, env *apptest.Env, token, vehicleID string) {
	t.Helper()
	var out struct{ DeleteVehicle string }
	env.Do(t, token, `mutation($v: ID!) { deleteVehicle(id: $v) }`, apptest.Vars{"v": vehicleID}).Decode(t, &out)
}

// tlStaffLink is the vehicle's trackingLink as its organization sees it;
// the vehicle itself must exist.
func tlStaffLink(t *testing.T, env *apptest.Env, token, vehicleID string) *staffLink {
	t.Helper()
	var out struct {
		Vehicle *struct{ TrackingLink *staffLink }
	}
	env.Do(t, token, `query($v: ID!) { vehicle(id: $v) { trackingLink { `+staffLinkFields+` } } }`,
		apptest.Vars{"v": vehicleID}).Decode(t, &out)
	if out.Vehicle == nil {
		t.Fatalf("vehicle(id: %s) is null for its own organization", vehicleID)
	}
	return out.Vehicle.TrackingLink
}

// tlPage GETs the customer's page for slug anonymously.
func tlPage(t *testing.T, env *apptest.Env, slug string) (*http.Response, []byte) {
	t.Helper()
	return env.Get(t, "/t/"+url.PathEscape(slug))
}

// tlWantAvailable asserts that the link works on both public paths and
// returns what the customer sees.
func tlWantAvailable(t *testing.T, env *apptest.Env, slug string) *publicView {
	t.Helper()
	v := publicTracking(t, env, slug)
	if v == nil {
		t.Fatalf("publicTracking(%q) is null, want the link to work", slug)
	}
	res, body := tlPage(t, env, slug)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /t/%s: status %d, want 200; body: %.300s", slug, res.StatusCode, body)
	}
	return v
}

// tlWantUnavailable asserts that the link does not work on either public
// path: publicTracking is null and the page is the 404 "link not
// available" page.
func tlWantUnavailable(t *testing.T, env *apptest.Env, slug string) {
	t.Helper()
	if v := publicTracking(t, env, slug); v != nil {
		t.Fatalf("publicTracking(%q) = %+v, want null", slug, v)
	}
	res, body := tlPage(t, env, slug)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /t/%s: status %d, want 404; body: %.300s", slug, res.StatusCode, body)
	}
	if !strings.Contains(strings.ToLower(string(body)), "not available") {
		t.Fatalf("GET /t/%s: 404 page does not say the link is not available: %.300s", slug, body)
	}
}

// tlFetch GETs a public URL anonymously and returns status and body.
func tlFetch(t *testing.T, env *apptest.Env, u string) (int, []byte) {
	t.Helper()
	res, body := env.Get(t, u)
	return res.StatusCode, body
}

// tlPhotoPath is the public URL path of a photo shown through slug
// (route GET /t/{slug}/photos/{photoID}).
func tlPhotoPath(slug, photoID string) string {
	return "/t/" + url.PathEscape(slug) + "/photos/" + url.PathEscape(photoID)
}

// tlURLPath is the path of an absolute URL: the page may reference its
// own origin's resources by path.
func tlURLPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad URL %q: %v", raw, err)
	}
	return u.EscapedPath()
}

func tlLinkCount(t *testing.T, vehicleID string, onlyActive bool) int {
	t.Helper()
	q := `SELECT count(*) FROM tracking_links WHERE vehicle_id = $1`
	if onlyActive {
		q += ` AND ended_at IS NULL`
	}
	var n int
	if err := testDB.GetContext(context.Background(), &n, q, vehicleID); err != nil {
		t.Fatalf("count tracking links: %v", err)
	}
	return n
}

// tlRandomSlug is a well-formed slug that no link has: 24 random bytes in
// base64url, 32 characters.
func tlRandomSlug() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tlFuture(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

func tlMustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tlSameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func tlCaptions(ps []publicPhoto) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.Caption != nil {
			out[i] = *p.Caption
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// 1. Creating a link gives the URL

func TestTrackingLinkCreateGivesURL(t *testing.T) {
	env, org := tlStart(t, "Create Motors", "NZ")
	vehicleID := newVehicle(t, env, org.Token)

	t.Run("before create no link and no URL exist", func(t *testing.T) {
		if l := tlStaffLink(t, env, org.Token, vehicleID); l != nil {
			t.Fatalf("vehicle.trackingLink = %+v before create, want null", l)
		}
		if n := tlLinkCount(t, vehicleID, false); n != 0 {
			t.Fatalf("%d tracking_links rows exist for the vehicle before create, want 0", n)
		}
	})

	link := createLink(t, env, org.Token, vehicleID, nil)

	t.Run("url is PUBLIC_BASE_URL/t/slug", func(t *testing.T) {
		if want := env.BaseURL + "/t/" + link.Slug; link.URL != want {
			t.Fatalf("url = %q, want %q", link.URL, want)
		}
	})
	t.Run("slug is URL-safe and at least 128 bits", func(t *testing.T) {
		if !tlSlugPattern.MatchString(link.Slug) {
			t.Fatalf("slug %q is not at least 22 URL-safe characters", link.Slug)
		}
		if url.PathEscape(link.Slug) != link.Slug {
			t.Fatalf("slug %q needs escaping in a URL path", link.Slug)
		}
	})
	t.Run("vehicle shows the new link", func(t *testing.T) {
		l := tlStaffLink(t, env, org.Token, vehicleID)
		if l == nil || l.Slug != link.Slug || l.URL != link.URL {
			t.Fatalf("vehicle.trackingLink = %+v, want slug %q url %q", l, link.Slug, link.URL)
		}
	})
	t.Run("the URL opens without sign-in", func(t *testing.T) {
		status, body := tlFetch(t, env, link.URL)
		if status != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", link.URL, status)
		}
		if !strings.Contains(string(body), "2019 Toyota Land Cruiser") || !strings.Contains(string(body), "Create Motors") {
			t.Fatalf("page does not show the vehicle title and organization name: %.500s", body)
		}
		if v := publicTracking(t, env, link.Slug); v == nil {
			t.Fatal("publicTracking is null for a new link")
		}
	})
	t.Run("a second create on the same vehicle is CONFLICT", func(t *testing.T) {
		tlWantCode(t, createLinkRes(t, env, org.Token, vehicleID, nil), "CONFLICT")
		if l := tlStaffLink(t, env, org.Token, vehicleID); l == nil || l.Slug != link.Slug {
			t.Fatalf("after the refused create, vehicle.trackingLink = %+v, want the first link", l)
		}
	})
	t.Run("two links never share a slug", func(t *testing.T) {
		seen := map[string]bool{link.Slug: true}
		for i := 0; i < 20; i++ {
			l := createLink(t, env, org.Token, newVehicle(t, env, org.Token), nil)
			if seen[l.Slug] {
				t.Fatalf("slug %q issued twice", l.Slug)
			}
			if !tlSlugPattern.MatchString(l.Slug) {
				t.Fatalf("slug %q is not at least 22 URL-safe characters", l.Slug)
			}
			seen[l.Slug] = true
		}
	})
}

// ---------------------------------------------------------------------------
// 2. What the customer sees

// tlShowcase is a vehicle with everything a tracking page can show.
type tlShowcase struct {
	VehicleID    string
	ETA          string // YYYY-MM-DD
	Hero         tlPhoto
	A, B, C, D   tlPhoto // C, A, B are picked in that order; D is not
	CustomerOld  string  // customer note bodies, oldest first
	CustomerNew  string
	InternalNote string
	LogoURL      string
	Logo         tlImage
	ExpiresAt    time.Time
	Link         staffLink
}

func tlSeedShowcase(t *testing.T, env *apptest.Env, org apptest.Org) tlShowcase {
	t.Helper()
	s := tlShowcase{ETA: time.Now().AddDate(0, 1, 3).Format("2006-01-02")}
	s.Logo = tlNewImage(t, 24, 12)
	s.LogoURL = uploadLogo(t, env, org.Token, s.Logo.PNG)
	s.VehicleID = createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2019, "make": "Toyota", "model": "Land Cruiser", "stage": "ARRIVED", "estimatedArrival": s.ETA,
	})
	s.Hero = tlUploadPhoto(t, env, org.Token, s.VehicleID, "hero shot", 40, 30)
	s.A = tlUploadPhoto(t, env, org.Token, s.VehicleID, "photo a", 11, 7)
	s.B = tlUploadPhoto(t, env, org.Token, s.VehicleID, "photo b", 12, 8)
	s.C = tlUploadPhoto(t, env, org.Token, s.VehicleID, "photo c", 13, 9)
	s.D = tlUploadPhoto(t, env, org.Token, s.VehicleID, "photo d", 14, 10)
	tlSetHero(t, env, org.Token, s.VehicleID, s.Hero.ID)
	s.CustomerOld = "Your car has been unloaded at the port"
	s.InternalNote = "Internal only: haggle with the shipping agent"
	s.CustomerNew = "Your car is now waiting for its inspection"
	addNote(t, env, org.Token, s.VehicleID, s.CustomerOld, "CUSTOMER")
	addNote(t, env, org.Token, s.VehicleID, s.InternalNote, "INTERNAL")
	addNote(t, env, org.Token, s.VehicleID, s.CustomerNew, "CUSTOMER")
	s.ExpiresAt = tlMustTime(t, tlFuture(7*24*time.Hour))
	s.Link = createLink(t, env, org.Token, s.VehicleID, apptest.Vars{
		"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true,
		"photoIds":  []string{s.C.ID, s.A.ID, s.B.ID},
		"expiresAt": s.ExpiresAt.Format(time.RFC3339),
	})
	return s
}

func TestTrackingLinkCustomerSees(t *testing.T) {
	env, org := tlStart(t, "Harbour Imports", "NZ")
	s := tlSeedShowcase(t, env, org)
	v := tlWantAvailable(t, env, s.Link.Slug)
	_, pageBytes := tlPage(t, env, s.Link.Slug)
	page := string(pageBytes)

	t.Run("organization name", func(t *testing.T) {
		if v.Organization.Name != "Harbour Imports" {
			t.Fatalf("organization.name = %q, want %q", v.Organization.Name, "Harbour Imports")
		}
		if !strings.Contains(page, "Harbour Imports") {
			t.Fatal("the page does not show the organization name")
		}
	})
	t.Run("organization logo is fetchable without sign-in", func(t *testing.T) {
		if v.Organization.LogoURL == nil {
			t.Fatal("organization.logoUrl is null after uploadOrganizationLogo")
		}
		status, body := tlFetch(t, env, *v.Organization.LogoURL)
		if status != http.StatusOK {
			t.Fatalf("GET logoUrl %s anonymously: status %d, want 200", *v.Organization.LogoURL, status)
		}
		tlWantImage(t, "logoUrl", body, s.Logo)
		if !strings.Contains(page, tlURLPath(t, *v.Organization.LogoURL)) {
			t.Fatal("the page does not show the logo")
		}
	})
	t.Run("organization country and locale", func(t *testing.T) {
		if v.Organization.Country != "NZ" || v.Organization.Locale != "en-NZ" {
			t.Fatalf("country, locale = %q, %q; want NZ, en-NZ", v.Organization.Country, v.Organization.Locale)
		}
	})
	t.Run("vehicle year make model and title", func(t *testing.T) {
		got := v.Vehicle
		if got.Year != 2019 || got.Make != "Toyota" || got.Model != "Land Cruiser" || got.Title != "2019 Toyota Land Cruiser" {
			t.Fatalf("vehicle = %+v, want 2019 Toyota Land Cruiser", got)
		}
		if !strings.Contains(page, "2019 Toyota Land Cruiser") {
			t.Fatal("the page does not show the vehicle title")
		}
	})
	t.Run("picked photos come in the order picked and open without sign-in", func(t *testing.T) {
		want := []tlPhoto{s.C, s.A, s.B}
		if len(v.Photos) != len(want) {
			t.Fatalf("photos: got %d (%q), want %d", len(v.Photos), tlCaptions(v.Photos), len(want))
		}
		for i, w := range want {
			p := v.Photos[i]
			if p.Caption == nil || *p.Caption != w.Caption {
				t.Fatalf("photos[%d].caption = %v, want %q (order %q)", i, p.Caption, w.Caption, tlCaptions(v.Photos))
			}
			if p.Width == nil || p.Height == nil || *p.Width != w.Width || *p.Height != w.Height {
				t.Errorf("photos[%d] size = %v x %v, want %d x %d", i, p.Width, p.Height, w.Width, w.Height)
			}
			res, body := env.Get(t, p.URL)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET photos[%d].url anonymously: status %d, want 200", i, res.StatusCode)
			}
			tlWantImage(t, fmt.Sprintf("photos[%d].url (%q)", i, w.Caption), body, w.tlImage)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
				t.Errorf("photos[%d].url Content-Type = %q, want an image type", i, ct)
			}
		}
	})
	t.Run("an unpicked photo is not served through the link", func(t *testing.T) {
		if status, _ := tlFetch(t, env, tlPhotoPath(s.Link.Slug, s.D.ID)); status != http.StatusNotFound {
			t.Fatalf("GET /t/<slug>/photos/<unpicked id>: status %d, want 404", status)
		}
		if strings.Contains(page, s.D.ID) || bytes.Contains(publicTrackingRes(t, env, s.Link.Slug).Body, []byte(s.D.ID)) {
			t.Fatal("the unpicked photo's id appears in a public response")
		}
	})
	t.Run("expiresAt", func(t *testing.T) {
		if !tlSameTime(v.ExpiresAt, &s.ExpiresAt) {
			t.Fatalf("expiresAt = %v, want %v", v.ExpiresAt, s.ExpiresAt)
		}
	})
	t.Run("internal notes never", func(t *testing.T) {
		for _, n := range v.Notes {
			if n.Body == s.InternalNote {
				t.Fatal("an INTERNAL note is on the public view")
			}
		}
		if strings.Contains(page, "haggle") {
			t.Fatal("an INTERNAL note is on the page")
		}
	})
}

// TestTrackingLinkOptions turns each option on and off on one link and
// checks what the customer sees at the same URL.
func TestTrackingLinkOptions(t *testing.T) {
	env, org := tlStart(t, "Toggle Imports", "NZ")
	s := tlSeedShowcase(t, env, org)
	slug := s.Link.Slug
	heroPath := tlPhotoPath(slug, s.Hero.ID)
	var labels []string // progress labels the customer saw while showProgress was on

	type check func(t *testing.T, v *publicView, page string, raw []byte)
	toggles := []struct {
		option  string
		on, off check
	}{
		{
			option: "showPhoto",
			on: func(t *testing.T, v *publicView, page string, _ []byte) {
				if v.HeroPhoto == nil {
					t.Fatal("heroPhoto is null with showPhoto on and a hero set")
				}
				if v.HeroPhoto.Caption == nil || *v.HeroPhoto.Caption != s.Hero.Caption {
					t.Fatalf("heroPhoto.caption = %v, want %q", v.HeroPhoto.Caption, s.Hero.Caption)
				}
				res, body := env.Get(t, v.HeroPhoto.URL)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET heroPhoto.url anonymously: status %d, want 200", res.StatusCode)
				}
				tlWantImage(t, "heroPhoto.url", body, s.Hero.tlImage)
				if !strings.Contains(page, tlURLPath(t, v.HeroPhoto.URL)) {
					t.Fatal("the page does not show the hero photo")
				}
			},
			off: func(t *testing.T, v *publicView, page string, raw []byte) {
				if v.HeroPhoto != nil {
					t.Fatalf("heroPhoto = %+v with showPhoto off, want null", v.HeroPhoto)
				}
				if strings.Contains(page, s.Hero.ID) || bytes.Contains(raw, []byte(s.Hero.ID)) {
					t.Fatal("the hero photo is still referenced with showPhoto off")
				}
				if status, _ := tlFetch(t, env, heroPath); status != http.StatusNotFound {
					t.Fatalf("GET the hero photo through the link with showPhoto off: status %d, want 404", status)
				}
				if len(v.Photos) != 3 {
					t.Fatalf("picked photos = %q with showPhoto off, want the 3 picked (they are a separate choice)", tlCaptions(v.Photos))
				}
			},
		},
		{
			option: "showEstimatedArrival",
			on: func(t *testing.T, v *publicView, page string, _ []byte) {
				if v.EstimatedArrival == nil || *v.EstimatedArrival != s.ETA {
					t.Fatalf("estimatedArrival = %v, want %q", v.EstimatedArrival, s.ETA)
				}
				if !strings.Contains(page, s.ETA) {
					t.Fatal("the page does not show the estimated arrival")
				}
			},
			off: func(t *testing.T, v *publicView, page string, raw []byte) {
				if v.EstimatedArrival != nil {
					t.Fatalf("estimatedArrival = %q with showEstimatedArrival off, want null", *v.EstimatedArrival)
				}
				if strings.Contains(page, s.ETA) || bytes.Contains(raw, []byte(s.ETA)) {
					t.Fatal("the estimated arrival date still appears with showEstimatedArrival off")
				}
			},
		},
		{
			option: "showProgress",
			on: func(t *testing.T, v *publicView, page string, _ []byte) {
				p := v.Progress
				if p == nil {
					t.Fatal("progress is null with showProgress on")
				}
				if p.Current != "ARRIVED" {
					t.Fatalf("progress.current = %q, want ARRIVED", p.Current)
				}
				if len(p.Stages) != len(tlStages) {
					t.Fatalf("progress has %d stages, want %d", len(p.Stages), len(tlStages))
				}
				at := slices.Index(tlStages, "ARRIVED")
				labels = labels[:0]
				for i, st := range p.Stages {
					if st.Stage != tlStages[i] {
						t.Fatalf("stages[%d] = %s, want %s (contract order)", i, st.Stage, tlStages[i])
					}
					if st.Reached != (i <= at) || st.Current != (i == at) {
						t.Errorf("stage %s: reached=%v current=%v; want reached=%v current=%v", st.Stage, st.Reached, st.Current, i <= at, i == at)
					}
					if st.Label == "" {
						t.Errorf("stage %s has an empty label", st.Stage)
					}
					if !strings.Contains(page, st.Label) {
						t.Errorf("the page does not show stage label %q", st.Label)
					}
					labels = append(labels, st.Label)
				}
			},
			off: func(t *testing.T, v *publicView, page string, _ []byte) {
				if v.Progress != nil {
					t.Fatalf("progress = %+v with showProgress off, want null", v.Progress)
				}
				// Labels recorded while the option was on; none of them may
				// remain on the page. ("Arrived"-like words are kept out of the
				// seeded notes and names so this check means something.)
				for _, l := range labels {
					if strings.Contains(page, l) {
						t.Errorf("the page still shows stage label %q with showProgress off", l)
					}
				}
			},
		},
		{
			option: "showCustomerNotes",
			on: func(t *testing.T, v *publicView, page string, _ []byte) {
				var bodies []string
				for _, n := range v.Notes {
					bodies = append(bodies, n.Body)
				}
				if want := []string{s.CustomerNew, s.CustomerOld}; !slices.Equal(bodies, want) {
					t.Fatalf("notes = %q, want the CUSTOMER notes newest first %q", bodies, want)
				}
				if !v.Notes[0].CreatedAt.After(v.Notes[1].CreatedAt) {
					t.Errorf("notes createdAt %v then %v: not newest first", v.Notes[0].CreatedAt, v.Notes[1].CreatedAt)
				}
				if !strings.Contains(page, s.CustomerNew) || !strings.Contains(page, s.CustomerOld) {
					t.Fatal("the page does not show the customer notes")
				}
			},
			off: func(t *testing.T, v *publicView, page string, raw []byte) {
				if len(v.Notes) != 0 {
					t.Fatalf("notes = %+v with showCustomerNotes off, want empty", v.Notes)
				}
				for _, b := range []string{s.CustomerNew, s.CustomerOld} {
					if strings.Contains(page, b) || bytes.Contains(raw, []byte(b)) {
						t.Fatalf("customer note %q still appears with showCustomerNotes off", b)
					}
				}
			},
		},
	}

	all := []string{"showPhoto", "showEstimatedArrival", "showProgress", "showCustomerNotes"}
	for _, tg := range toggles {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s=%v", tg.option, on), func(t *testing.T) {
				opts := apptest.Vars{}
				for _, o := range all {
					opts[o] = true
				}
				opts[tg.option] = on
				l := updateLink(t, env, org.Token, s.VehicleID, opts)
				if l.Slug != slug {
					t.Fatalf("updateTrackingLink changed the slug: %q -> %q", slug, l.Slug)
				}
				raw := publicTrackingRes(t, env, slug).Body
				v := tlWantAvailable(t, env, slug)
				_, page := tlPage(t, env, slug)
				if on {
					tg.on(t, v, string(page), raw)
				} else {
					tg.off(t, v, string(page), raw)
				}
				// The other options are on: what they show is still there.
				for _, other := range toggles {
					if other.option != tg.option {
						other.on(t, v, string(page), raw)
					}
				}
				if strings.Contains(string(page), s.InternalNote) || bytes.Contains(raw, []byte(s.InternalNote)) {
					t.Fatal("an INTERNAL note is visible to the customer")
				}
			})
		}
	}
}

func TestTrackingLinkHeroPhotoNeedsAHero(t *testing.T) {
	env, org := tlStart(t, "No Hero Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	photo := tlUploadPhoto(t, env, org.Token, vehicleID, "gallery only", 10, 10)
	link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"showPhoto": true})

	t.Run("no hero set: heroPhoto is null", func(t *testing.T) {
		if v := tlWantAvailable(t, env, link.Slug); v.HeroPhoto != nil {
			t.Fatalf("heroPhoto = %+v with showPhoto on but no hero set, want null", v.HeroPhoto)
		}
	})
	t.Run("hero set: the customer sees it", func(t *testing.T) {
		tlSetHero(t, env, org.Token, vehicleID, photo.ID)
		v := tlWantAvailable(t, env, link.Slug)
		if v.HeroPhoto == nil {
			t.Fatal("heroPhoto is null after setHeroPhoto")
		}
		status, body := tlFetch(t, env, v.HeroPhoto.URL)
		if status != http.StatusOK {
			t.Fatalf("GET heroPhoto.url: status %d, want 200", status)
		}
		tlWantImage(t, "heroPhoto.url", body, photo.tlImage)
	})
	t.Run("hero cleared: heroPhoto is null again", func(t *testing.T) {
		var out struct{ SetHeroPhoto struct{ ID string } }
		env.Do(t, org.Token, `mutation($v: ID!) { setHeroPhoto(vehicleId: $v, photoId: null) { id } }`,
			apptest.Vars{"v": vehicleID}).Decode(t, &out)
		if v := tlWantAvailable(t, env, link.Slug); v.HeroPhoto != nil {
			t.Fatalf("heroPhoto = %+v after clearing the hero, want null", v.HeroPhoto)
		}
		if status, _ := tlFetch(t, env, tlPhotoPath(link.Slug, photo.ID)); status != http.StatusNotFound {
			t.Fatalf("the former hero still opens through the link: status %d, want 404", status)
		}
	})
}

func TestTrackingLinkLocaleFollowsCountry(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	for country, locale := range map[string]string{
		"NZ": "en-NZ", "US": "en-US", "JP": "ja-JP", "DE": "de-DE", "GB": "en-GB",
	} {
		t.Run(country, func(t *testing.T) {
			t.Parallel()
			org := env.NewOrg(t, "Locale Imports "+country, country)
			link := createLink(t, env, org.Token, newVehicle(t, env, org.Token), nil)
			v := tlWantAvailable(t, env, link.Slug)
			if v.Organization.Country != country || v.Organization.Locale != locale {
				t.Fatalf("country, locale = %q, %q; want %q, %q", v.Organization.Country, v.Organization.Locale, country, locale)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 4. Updating keeps the URL

func TestTrackingLinkUpdateKeepsURL(t *testing.T) {
	env, org := tlStart(t, "Update Imports", "NZ")
	vehicleID := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2021, "make": "Mazda", "model": "Bongo", "stage": "IN_TRANSIT",
		"estimatedArrival": time.Now().AddDate(0, 0, 20).Format("2006-01-02"),
	})
	a := tlUploadPhoto(t, env, org.Token, vehicleID, "first", 10, 10)
	b := tlUploadPhoto(t, env, org.Token, vehicleID, "second", 12, 10)
	created := createLink(t, env, org.Token, vehicleID, apptest.Vars{
		"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true,
		"photoIds": []string{a.ID},
	})
	if v := tlWantAvailable(t, env, created.Slug); v.Progress == nil {
		t.Fatal("progress is null with showProgress on")
	}

	t.Run("changing an option keeps slug and url and the customer sees it", func(t *testing.T) {
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"showProgress": false})
		if l.Slug != created.Slug || l.URL != created.URL {
			t.Fatalf("slug/url changed: %q %q -> %q %q", created.Slug, created.URL, l.Slug, l.URL)
		}
		if l.ShowProgress {
			t.Fatal("showProgress is still true after updating it to false")
		}
		if v := tlWantAvailable(t, env, created.Slug); v.Progress != nil {
			t.Fatalf("the customer still sees progress at the same URL: %+v", v.Progress)
		}
		if s := tlStaffLink(t, env, org.Token, vehicleID); s == nil || s.Slug != created.Slug {
			t.Fatalf("vehicle.trackingLink = %+v, want the same slug", s)
		}
	})
	t.Run("omitted options stay as they were", func(t *testing.T) {
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{b.ID, a.ID}})
		if l.ShowProgress || !l.ShowPhoto || !l.ShowEstimatedArrival || !l.ShowCustomerNotes {
			t.Fatalf("options after changing only photoIds = %+v; want showProgress false and the rest true", l)
		}
		v := tlWantAvailable(t, env, created.Slug)
		if v.Progress != nil || v.EstimatedArrival == nil {
			t.Fatalf("customer sees progress=%v estimatedArrival=%v; want null and a date", v.Progress, v.EstimatedArrival)
		}
		if got := tlCaptions(v.Photos); !slices.Equal(got, []string{"second", "first"}) {
			t.Fatalf("photos = %q, want [second first]", got)
		}
	})
	t.Run("omitted photoIds and expiresAt stay as they were", func(t *testing.T) {
		exp := tlMustTime(t, tlFuture(72*time.Hour))
		updateLink(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": exp.Format(time.RFC3339)})
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"showEstimatedArrival": false})
		if !tlSameTime(l.ExpiresAt, &exp) {
			t.Fatalf("expiresAt = %v after an update that omitted it, want %v", l.ExpiresAt, exp)
		}
		if !slices.Equal(l.photoIDs(), []string{b.ID, a.ID}) {
			t.Fatalf("photos = %v after an update that omitted photoIds, want [%s %s]", l.photoIDs(), b.ID, a.ID)
		}
		v := tlWantAvailable(t, env, created.Slug)
		if v.EstimatedArrival != nil || !tlSameTime(v.ExpiresAt, &exp) || len(v.Photos) != 2 {
			t.Fatalf("customer sees estimatedArrival=%v expiresAt=%v %d photos; want null, %v, 2", v.EstimatedArrival, v.ExpiresAt, len(v.Photos), exp)
		}
	})
	t.Run("photoIds empty removes the picked photos", func(t *testing.T) {
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{}})
		if len(l.Photos) != 0 {
			t.Fatalf("photos = %v, want none", l.photoIDs())
		}
		if v := tlWantAvailable(t, env, created.Slug); len(v.Photos) != 0 {
			t.Fatalf("customer still sees %d picked photos", len(v.Photos))
		}
		if status, _ := tlFetch(t, env, tlPhotoPath(created.Slug, a.ID)); status != http.StatusNotFound {
			t.Fatalf("a photo removed from the link still opens: status %d", status)
		}
	})
	t.Run("updating a vehicle without a link is NOT_FOUND", func(t *testing.T) {
		other := newVehicle(t, env, org.Token)
		tlWantCode(t, updateLinkRes(t, env, org.Token, other, apptest.Vars{"showPhoto": false}), "NOT_FOUND")
		if n := tlLinkCount(t, other, false); n != 0 {
			t.Fatalf("updateTrackingLink on a vehicle without a link created %d links", n)
		}
	})
}

// ---------------------------------------------------------------------------
// 5. Revoking

func TestTrackingLinkRevoke(t *testing.T) {
	env, org := tlStart(t, "Revoke Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	p := tlUploadPhoto(t, env, org.Token, vehicleID, "picked", 10, 10)
	old := createLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p.ID}})
	v := tlWantAvailable(t, env, old.Slug)
	if len(v.Photos) != 1 {
		t.Fatalf("picked photos = %d, want 1", len(v.Photos))
	}
	photoURL := v.Photos[0].URL
	if status, _ := tlFetch(t, env, photoURL); status != http.StatusOK {
		t.Fatalf("picked photo before revoke: status %d, want 200", status)
	}

	tlRevoke(t, env, org.Token, vehicleID)

	t.Run("the URL stops working at once", func(t *testing.T) {
		tlWantUnavailable(t, env, old.Slug)
	})
	t.Run("the public photo URL stops working", func(t *testing.T) {
		if status, _ := tlFetch(t, env, photoURL); status != http.StatusNotFound {
			t.Fatalf("GET picked photo after revoke: status %d, want 404", status)
		}
	})
	t.Run("the vehicle has no link", func(t *testing.T) {
		if l := tlStaffLink(t, env, org.Token, vehicleID); l != nil {
			t.Fatalf("vehicle.trackingLink = %+v after revoke, want null", l)
		}
		if n := tlLinkCount(t, vehicleID, true); n != 0 {
			t.Fatalf("%d active links after revoke, want 0", n)
		}
	})
	t.Run("revoking again is NOT_FOUND", func(t *testing.T) {
		tlWantCode(t, env.Do(t, org.Token, tlRevokeQuery, apptest.Vars{"v": vehicleID}), "NOT_FOUND")
	})
	t.Run("create again gives a fresh URL and the old one stays dead", func(t *testing.T) {
		fresh := createLink(t, env, org.Token, vehicleID, nil)
		if fresh.Slug == old.Slug || fresh.URL == old.URL {
			t.Fatalf("create after revoke reused the slug %q", old.Slug)
		}
		tlWantAvailable(t, env, fresh.Slug)
		tlWantUnavailable(t, env, old.Slug)
	})
}

// ---------------------------------------------------------------------------
// 6. Regenerating

func TestTrackingLinkRegenerate(t *testing.T) {
	env, org := tlStart(t, "Regenerate Imports", "NZ")
	vehicleID := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2018, "make": "Nissan", "model": "Elgrand", "stage": "COMPLIANCE",
		"estimatedArrival": time.Now().AddDate(0, 0, 10).Format("2006-01-02"),
	})
	hero := tlUploadPhoto(t, env, org.Token, vehicleID, "hero", 20, 10)
	a := tlUploadPhoto(t, env, org.Token, vehicleID, "photo a", 10, 10)
	b := tlUploadPhoto(t, env, org.Token, vehicleID, "photo b", 11, 10)
	tlSetHero(t, env, org.Token, vehicleID, hero.ID)
	addNote(t, env, org.Token, vehicleID, "Booked in for its compliance check", "CUSTOMER")
	exp := tlMustTime(t, tlFuture(96*time.Hour))
	old := createLink(t, env, org.Token, vehicleID, apptest.Vars{
		"showPhoto": false, "showEstimatedArrival": true, "showProgress": false, "showCustomerNotes": true,
		"photoIds": []string{b.ID, a.ID}, "expiresAt": exp.Format(time.RFC3339),
	})
	before := tlWantAvailable(t, env, old.Slug)
	oldPhotoURL := before.Photos[0].URL

	fresh := tlRegenerate(t, env, org.Token, vehicleID)

	t.Run("old URL stops working at once", func(t *testing.T) {
		tlWantUnavailable(t, env, old.Slug)
		if status, _ := tlFetch(t, env, oldPhotoURL); status != http.StatusNotFound {
			t.Fatalf("picked photo through the old slug: status %d, want 404", status)
		}
	})
	t.Run("new URL works", func(t *testing.T) {
		if fresh.Slug == old.Slug || !tlSlugPattern.MatchString(fresh.Slug) {
			t.Fatalf("new slug %q (old %q): want a different well-formed slug", fresh.Slug, old.Slug)
		}
		if fresh.URL != env.BaseURL+"/t/"+fresh.Slug {
			t.Fatalf("url = %q, want %q", fresh.URL, env.BaseURL+"/t/"+fresh.Slug)
		}
		tlWantAvailable(t, env, fresh.Slug)
		if l := tlStaffLink(t, env, org.Token, vehicleID); l == nil || l.Slug != fresh.Slug {
			t.Fatalf("vehicle.trackingLink = %+v, want the new slug %q", l, fresh.Slug)
		}
	})
	t.Run("new link carries the same options and picked photos", func(t *testing.T) {
		if fresh.ShowPhoto != old.ShowPhoto || fresh.ShowEstimatedArrival != old.ShowEstimatedArrival ||
			fresh.ShowProgress != old.ShowProgress || fresh.ShowCustomerNotes != old.ShowCustomerNotes {
			t.Fatalf("options changed on regenerate: old %+v new %+v", old, fresh)
		}
		if !slices.Equal(fresh.photoIDs(), []string{b.ID, a.ID}) {
			t.Fatalf("picked photos = %v, want [%s %s]", fresh.photoIDs(), b.ID, a.ID)
		}
		if !tlSameTime(fresh.ExpiresAt, &exp) {
			t.Fatalf("expiresAt = %v, want %v", fresh.ExpiresAt, exp)
		}
	})
	t.Run("the customer sees the same page at the new URL", func(t *testing.T) {
		after := tlWantAvailable(t, env, fresh.Slug)
		if after.HeroPhoto != nil || after.Progress != nil {
			t.Fatalf("heroPhoto=%v progress=%v, want both null as before", after.HeroPhoto, after.Progress)
		}
		if after.EstimatedArrival == nil || *after.EstimatedArrival != *before.EstimatedArrival {
			t.Fatalf("estimatedArrival = %v, want %v", after.EstimatedArrival, *before.EstimatedArrival)
		}
		if len(after.Notes) != 1 || after.Notes[0].Body != before.Notes[0].Body {
			t.Fatalf("notes = %+v, want %+v", after.Notes, before.Notes)
		}
		if got, want := tlCaptions(after.Photos), tlCaptions(before.Photos); !slices.Equal(got, want) {
			t.Fatalf("photos = %q, want %q", got, want)
		}
		for i, p := range after.Photos {
			if status, _ := tlFetch(t, env, p.URL); status != http.StatusOK {
				t.Fatalf("photos[%d] through the new slug: status %d, want 200", i, status)
			}
		}
	})
	t.Run("regenerating without a link is NOT_FOUND", func(t *testing.T) {
		other := newVehicle(t, env, org.Token)
		tlWantCode(t, tlRegenerateRes(t, env, org.Token, other), "NOT_FOUND")
		if n := tlLinkCount(t, other, false); n != 0 {
			t.Fatalf("regenerate on a vehicle without a link created %d links", n)
		}
	})
}

// ---------------------------------------------------------------------------
// 7. Expiry

// tlExpireNow moves a link's expiry into the past directly in the
// database. The API refuses a past expiresAt (it must be in the future),
// and waiting for a near-future expiry would make the test slow and
// flaky, so this is the one place the tests write around the API.
func tlExpireNow(t *testing.T, slug string) {
	t.Helper()
	apptest.ExpireLink(t, testDB, slug) // and drops it from the public cache
}

func TestTrackingLinkExpiry(t *testing.T) {
	env, org := tlStart(t, "Expiry Imports", "NZ")
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	t.Run("create with a past expiresAt is BAD_USER_INPUT and creates nothing", func(t *testing.T) {
		vehicleID := newVehicle(t, env, org.Token)
		tlWantCode(t, createLinkRes(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": past}), "BAD_USER_INPUT")
		if l := tlStaffLink(t, env, org.Token, vehicleID); l != nil {
			t.Fatalf("vehicle.trackingLink = %+v after a refused create, want null", l)
		}
		if n := tlLinkCount(t, vehicleID, false); n != 0 {
			t.Fatalf("%d links written by a refused create, want 0", n)
		}
	})
	t.Run("update with a past expiresAt is BAD_USER_INPUT and changes nothing", func(t *testing.T) {
		vehicleID := newVehicle(t, env, org.Token)
		before := createLink(t, env, org.Token, vehicleID, apptest.Vars{"showPhoto": true})
		tlWantCode(t, updateLinkRes(t, env, org.Token, vehicleID, apptest.Vars{"showPhoto": false, "expiresAt": past}), "BAD_USER_INPUT")
		after := tlStaffLink(t, env, org.Token, vehicleID)
		if after == nil || after.Slug != before.Slug || !after.ShowPhoto || after.ExpiresAt != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("link after a refused update = %+v, want unchanged %+v", after, before)
		}
		tlWantAvailable(t, env, before.Slug)
	})

	vehicleID := newVehicle(t, env, org.Token)
	link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": tlFuture(time.Hour)})
	tlWantAvailable(t, env, link.Slug)
	tlExpireNow(t, link.Slug)

	t.Run("a link past its expiry stops working", func(t *testing.T) {
		tlWantUnavailable(t, env, link.Slug)
	})
	t.Run("the expired link stays on the vehicle", func(t *testing.T) {
		if l := tlStaffLink(t, env, org.Token, vehicleID); l == nil || l.Slug != link.Slug {
			t.Fatalf("vehicle.trackingLink = %+v, want the expired link %q until revoked", l, link.Slug)
		}
	})
	t.Run("clearing expiresAt reopens the same URL", func(t *testing.T) {
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": nil})
		if l.Slug != link.Slug || l.ExpiresAt != nil {
			t.Fatalf("after expiresAt: null: slug %q expiresAt %v; want %q and null", l.Slug, l.ExpiresAt, link.Slug)
		}
		if v := tlWantAvailable(t, env, link.Slug); v.ExpiresAt != nil {
			t.Fatalf("customer sees expiresAt %v, want null", v.ExpiresAt)
		}
	})
	t.Run("moving expiresAt to the future reopens the same URL", func(t *testing.T) {
		tlExpireNow(t, link.Slug)
		tlWantUnavailable(t, env, link.Slug)
		exp := tlMustTime(t, tlFuture(48*time.Hour))
		l := updateLink(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": exp.Format(time.RFC3339)})
		if l.Slug != link.Slug {
			t.Fatalf("slug changed: %q -> %q", link.Slug, l.Slug)
		}
		if v := tlWantAvailable(t, env, link.Slug); !tlSameTime(v.ExpiresAt, &exp) {
			t.Fatalf("customer sees expiresAt %v, want %v", v.ExpiresAt, exp)
		}
	})
}

// ---------------------------------------------------------------------------
// 8. Billing

func TestTrackingLinkBilling(t *testing.T) {
	env, org := tlStart(t, "Billing Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	p := tlUploadPhoto(t, env, org.Token, vehicleID, "picked", 10, 10)
	link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p.ID}})
	photoURL := tlWantAvailable(t, env, link.Slug).Photos[0].URL

	setStatus := func(t *testing.T, status string) {
		t.Helper()
		if _, err := env.Store.SetSubscription(context.Background(), org.ID, domain.SubscriptionStatus(status)); err != nil {
			t.Fatalf("set subscription %s: %v", status, err)
		}
	}
	for _, status := range []string{"PAST_DUE", "LOCKED", "CANCELED"} {
		t.Run(status+" closes the link", func(t *testing.T) {
			setStatus(t, status)
			tlWantUnavailable(t, env, link.Slug)
			if code, _ := tlFetch(t, env, photoURL); code != http.StatusNotFound {
				t.Fatalf("public photo under %s: status %d, want 404", status, code)
			}
		})
		t.Run("ACTIVE after "+status+" reopens it", func(t *testing.T) {
			setStatus(t, "ACTIVE")
			tlWantAvailable(t, env, link.Slug)
			if code, _ := tlFetch(t, env, photoURL); code != http.StatusOK {
				t.Fatalf("public photo after reactivation: status %d, want 200", code)
			}
		})
	}
	t.Run("TRIALING keeps it open", func(t *testing.T) {
		setStatus(t, "LOCKED")
		tlWantUnavailable(t, env, link.Slug)
		setStatus(t, "TRIALING")
		tlWantAvailable(t, env, link.Slug)
	})
}

// ---------------------------------------------------------------------------
// 9. Deleting the vehicle

func TestTrackingLinkDeletedVehicle(t *testing.T) {
	env, org := tlStart(t, "Delete Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	p := tlUploadPhoto(t, env, org.Token, vehicleID, "picked", 10, 10)
	link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p.ID}})
	photoURL := tlWantAvailable(t, env, link.Slug).Photos[0].URL

	tlDeleteVehicle(t, env, org.Token, vehicleID)

	t.Run("the link stops working", func(t *testing.T) {
		tlWantUnavailable(t, env, link.Slug)
		if code, _ := tlFetch(t, env, photoURL); code != http.StatusNotFound {
			t.Fatalf("public photo after delete: status %d, want 404", code)
		}
	})
	t.Run("staff vehicle(id) is null", func(t *testing.T) {
		var out struct{ Vehicle *struct{ ID string } }
		env.Do(t, org.Token, `query($v: ID!) { vehicle(id: $v) { id } }`, apptest.Vars{"v": vehicleID}).Decode(t, &out)
		if out.Vehicle != nil {
			t.Fatalf("vehicle(id) = %+v after delete, want null", out.Vehicle)
		}
	})
	t.Run("updateTrackingLink is NOT_FOUND", func(t *testing.T) {
		tlWantCode(t, updateLinkRes(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": nil}), "NOT_FOUND")
	})
	t.Run("createTrackingLink is NOT_FOUND", func(t *testing.T) {
		tlWantCode(t, createLinkRes(t, env, org.Token, vehicleID, nil), "NOT_FOUND")
	})
	t.Run("regenerateTrackingLink is NOT_FOUND", func(t *testing.T) {
		tlWantCode(t, tlRegenerateRes(t, env, org.Token, vehicleID), "NOT_FOUND")
	})
	t.Run("revokeTrackingLink is NOT_FOUND", func(t *testing.T) {
		tlWantCode(t, env.Do(t, org.Token, tlRevokeQuery, apptest.Vars{"v": vehicleID}), "NOT_FOUND")
	})
	t.Run("no way to restore it", func(t *testing.T) {
		if n := tlLinkCount(t, vehicleID, true); n != 0 {
			t.Fatalf("%d active links after delete and the attempts above, want 0", n)
		}
		tlWantUnavailable(t, env, link.Slug)
	})
}

// ---------------------------------------------------------------------------
// 13. Junk slugs

// TestTrackingLinkJunkSlugs: junk slugs look like unknown ones, and a
// malformed one (SQL, traversal, unicode, the wrong length) is refused
// before any SQL runs: the server's pool is counted.
func TestTrackingLinkJunkSlugs(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.New(t, conn)
	t.Parallel()
	org := env.NewOrg(t, "Junk Imports", "NZ")
	// A real link exists, so "unknown" is not just "empty table".
	link := createLink(t, env, org.Token, newVehicle(t, env, org.Token), nil)

	for name, slug := range map[string]string{
		"empty":            "",
		"10 KB":            strings.Repeat("a", 10<<10),
		"unicode":          "ünïcødé-🚗",
		"SQL or":           "' OR 1=1 --",
		"SQL drop":         "x'; DROP TABLE tracking_links; --",
		"unknown 32":       tlRandomSlug(),
		"percent and dots": "..%2F..%2Fetc%2Fpasswd",
	} {
		t.Run(name, func(t *testing.T) {
			before := count.Statements() + count.Prepares()
			if name != "unknown 32" {
				defer func() {
					if n := count.Statements() + count.Prepares() - before; n != 0 {
						t.Errorf("a malformed slug ran %d SQL statements, want 0: it must be refused before the database", n)
					}
				}()
			}
			t.Run("publicTracking is null with no error", func(t *testing.T) {
				res := publicTrackingRes(t, env, slug)
				if res.Status != http.StatusOK || len(res.Errors) != 0 {
					t.Fatalf("status %d, errors %s; want 200 and none", res.Status, res.Body)
				}
				var out struct{ PublicTracking *publicView }
				res.Decode(t, &out)
				if out.PublicTracking != nil {
					t.Fatalf("publicTracking = %+v, want null", out.PublicTracking)
				}
			})
			t.Run("page is 404", func(t *testing.T) {
				if res, body := tlPage(t, env, slug); res.StatusCode != http.StatusNotFound {
					t.Fatalf("GET /t/<junk>: status %d, want 404; body %.200s", res.StatusCode, body)
				}
			})
			t.Run("photo route is 404", func(t *testing.T) {
				if code, _ := tlFetch(t, env, tlPhotoPath(slug, "00000000-0000-0000-0000-000000000000")); code != http.StatusNotFound {
					t.Fatalf("GET /t/<junk>/photos/<id>: status %d, want 404", code)
				}
			})
		})
	}
	t.Run("the real link still works", func(t *testing.T) {
		tlWantAvailable(t, env, link.Slug)
	})
}

// ---------------------------------------------------------------------------
// 14. Picked photos must be the vehicle's own

func TestTrackingLinkPickedPhotosValidation(t *testing.T) {
	env, org := tlStart(t, "Picker Imports", "NZ")
	other := env.NewOrg(t, "Other Picker Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	own := tlUploadPhoto(t, env, org.Token, vehicleID, "own", 10, 10)
	sibling := newVehicle(t, env, org.Token)
	siblingPhoto := tlUploadPhoto(t, env, org.Token, sibling, "sibling", 10, 10)
	foreignVehicle := newVehicle(t, env, other.Token)
	foreignPhoto := tlUploadPhoto(t, env, other.Token, foreignVehicle, "foreign", 10, 10)

	bad := map[string][]string{
		"photo of another vehicle": {own.ID, siblingPhoto.ID},
		"photo of another org":     {foreignPhoto.ID},
		"bogus id":                 {"not-a-photo-id"},
		"unknown uuid":             {"5f0c8b1e-8a2b-4c7d-9e3f-1a2b3c4d5e6f"},
	}

	t.Run("create", func(t *testing.T) {
		for name, ids := range bad {
			t.Run(name, func(t *testing.T) {
				v := newVehicle(t, env, org.Token)
				tlUploadPhoto(t, env, org.Token, v, "its own", 10, 10)
				tlWantCode(t, createLinkRes(t, env, org.Token, v, apptest.Vars{"photoIds": ids}), "BAD_USER_INPUT")
				if l := tlStaffLink(t, env, org.Token, v); l != nil {
					t.Fatalf("vehicle.trackingLink = %+v after a refused create, want null", l)
				}
				if n := tlLinkCount(t, v, false); n != 0 {
					t.Fatalf("%d links written by a refused create, want 0", n)
				}
			})
		}
	})

	link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{own.ID}})
	t.Run("update", func(t *testing.T) {
		for name, ids := range bad {
			t.Run(name, func(t *testing.T) {
				tlWantCode(t, updateLinkRes(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": ids, "showProgress": false}), "BAD_USER_INPUT")
				l := tlStaffLink(t, env, org.Token, vehicleID)
				if l == nil || !slices.Equal(l.photoIDs(), []string{own.ID}) || !l.ShowProgress || !l.UpdatedAt.Equal(link.UpdatedAt) {
					t.Fatalf("link after a refused update = %+v, want unchanged %+v", l, link)
				}
				v := tlWantAvailable(t, env, link.Slug)
				if got := tlCaptions(v.Photos); !slices.Equal(got, []string{"own"}) {
					t.Fatalf("customer sees photos %q, want [own]", got)
				}
			})
		}
	})
	t.Run("the other photos are not served through the link", func(t *testing.T) {
		for _, id := range []string{siblingPhoto.ID, foreignPhoto.ID} {
			if code, _ := tlFetch(t, env, tlPhotoPath(link.Slug, id)); code != http.StatusNotFound {
				t.Fatalf("GET /t/<slug>/photos/<not picked>: status %d, want 404", code)
			}
		}
	})
}
