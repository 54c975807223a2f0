package e2e

// End-to-end tests of the customer's tracking page, GET /t/{slug}: for
// every option combination it shows exactly what publicTracking shows and
// never a private value; every reason a link does not work gets the same
// 404 bytes; dates follow the organization's locale.
//
// Helpers are prefixed "pg" because other files of this package are
// written independently.

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/domain"
)

// pgSecrets are the private values seeded on the vehicle (and fragments
// of them, in case one is reformatted on the way out).
var pgSecrets = []string{
	"PGVINSECRET4242", "PGVINSECRET",
	"PG-STOCK-7731", "PG-STOCK",
	"PGCOSTSECRET", "19191.91", "19191",
	"87654.32", "87654",
	"PGPAYSECRET", "33333.44", "33333",
	"PG-INTERNAL-NOTE-SECRET",
	"Pgcustomer Hiddenname", "Hiddenname",
	"pg.hidden@example.com", "pg.hidden",
	"+64 27 555 0177", "555 0177",
	"PGUNPICKEDCAPTION",
}

// pgStart starts a server for one test, then marks the test parallel
// (apptest.New sets a package variable, so it runs while tests are still
// sequential).
func pgStart(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.New(t, testDB)
	t.Parallel()
	return env
}

// pgView is publicTracking as the page would need it.
type pgView struct {
	Organization struct{ Name, Locale string }
	Vehicle      struct{ Title string }
	HeroPhoto    *struct{ URL, Caption *string }
	Progress     *struct {
		Current string
		Stages  []struct {
			Label   string
			Current bool
		}
	}
	EstimatedArrival *string
	Notes            []struct{ Body string }
	Photos           []struct{ URL string }
}

const pgPublicQuery = `query($s: String!) { publicTracking(slug: $s) {
	organization { name locale } vehicle { title } heroPhoto { url caption }
	progress { current stages { label current } } estimatedArrival
	notes { body } photos { url } } }`

func pgPublic(t *testing.T, env *apptest.Env, slug string) (*pgView, []byte) {
	t.Helper()
	res := env.Do(t, "", pgPublicQuery, apptest.Vars{"s": slug})
	var out struct{ PublicTracking *pgView }
	res.Decode(t, &out)
	return out.PublicTracking, res.Body
}

func pgGetPage(t *testing.T, env *apptest.Env, slug string) (*http.Response, string) {
	t.Helper()
	res, body := env.Get(t, "/t/"+url.PathEscape(slug))
	return res, string(body)
}

// pgPath is the path of one of the View's absolute URLs: the page links
// everything relative to its own origin.
func pgPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.EscapedPath()
}

// pgCheckHeaders asserts the headers of a capability URL's page.
func pgCheckHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Referrer-Policy":        "no-referrer",
		"X-Robots-Tag":           "noindex, nofollow",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "img-src 'self'", "style-src 'sha256-", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*", "'sha256-", "data:"} {
		if bad == "'sha256-" {
			// Only the stylesheet is allowed by hash.
			if strings.Count(csp, bad) != 1 {
				t.Errorf("CSP %q allows more than the stylesheet by hash", csp)
			}
			continue
		}
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %q", csp, bad)
		}
	}
	// Scripts: only files of the page's own origin (the live script).
	if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("CSP %q: want script-src 'self' and connect-src 'self' exactly", csp)
	}
	if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "geolocation=()") {
		t.Errorf("Permissions-Policy %q", pp)
	}
}

// pgSeeded is a vehicle loaded with private data, and its link.
type pgSeeded struct {
	Token, OrgName, VehicleID, Slug  string
	Hero, Picked1, Picked2, Unpicked string
}

const (
	pgCustomerNoteNew = "Your car cleared customs this morning."
	pgCustomerNoteOld = "Loaded on the ship at Yokohama."
	pgETA             = "2030-12-24"
)

func pgSeed(t *testing.T, env *apptest.Env, orgName, country string) pgSeeded {
	t.Helper()
	org := env.NewOrg(t, orgName, country)
	s := pgSeeded{Token: org.Token, OrgName: orgName}
	uploadLogo(t, env, org.Token, solidPNG(t, 64, 64, color.RGBA{29, 78, 216, 255}))
	var cust struct{ CreateCustomer struct{ ID string } }
	env.Do(t, org.Token, `mutation($in: CustomerInput!) { createCustomer(input: $in) { id } }`, apptest.Vars{"in": apptest.Vars{
		"name": "Pgcustomer Hiddenname", "email": "pg.hidden@example.com", "phone": "+64 27 555 0177",
	}}).Decode(t, &cust)
	s.VehicleID = createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2018, "make": "Mazda", "model": "Roadster", "stage": "CUSTOMS_CLEARED",
		"vin": "PGVINSECRET4242", "stockNumber": "PG-STOCK-7731", "customerId": cust.CreateCustomer.ID,
		"estimatedArrival": pgETA,
		"agreedSalePrice":  apptest.Vars{"amount": "87654.32", "currency": "NZD"},
	})
	s.Hero = uploadPhoto(t, env, org.Token, s.VehicleID, "Front three-quarter view", solidPNG(t, 48, 27, color.RGBA{200, 60, 40, 255})).ID
	s.Picked1 = uploadPhoto(t, env, org.Token, s.VehicleID, "Dashboard", solidPNG(t, 40, 30, color.RGBA{40, 40, 40, 255})).ID
	s.Picked2 = uploadPhoto(t, env, org.Token, s.VehicleID, "", solidPNG(t, 30, 40, color.RGBA{90, 120, 160, 255})).ID
	s.Unpicked = uploadPhoto(t, env, org.Token, s.VehicleID, "PGUNPICKEDCAPTION", solidPNG(t, 20, 20, color.RGBA{0, 0, 0, 255})).ID
	var hero struct{ SetHeroPhoto struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`,
		apptest.Vars{"v": s.VehicleID, "p": s.Hero}).Decode(t, &hero)
	addNote(t, env, org.Token, s.VehicleID, pgCustomerNoteOld, "CUSTOMER")
	addNote(t, env, org.Token, s.VehicleID, "PG-INTERNAL-NOTE-SECRET", "INTERNAL")
	addNote(t, env, org.Token, s.VehicleID, pgCustomerNoteNew, "CUSTOMER")
	var cost struct{ AddCost struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $in: CostInput!) { addCost(vehicleId: $v, input: $in) { id } }`, apptest.Vars{
		"v": s.VehicleID, "in": apptest.Vars{"category": "PGCOSTSECRET", "description": "PGCOSTSECRET", "amount": apptest.Vars{"amount": "19191.91", "currency": "NZD"}},
	}).Decode(t, &cost)
	var pay struct{ RecordPayment struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $in: PaymentInput!) { recordPayment(vehicleId: $v, input: $in) { id } }`, apptest.Vars{
		"v": s.VehicleID, "in": apptest.Vars{"amount": apptest.Vars{"amount": "33333.44", "currency": "NZD"},
			"receivedAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "reference": "PGPAYSECRET"},
	}).Decode(t, &pay)
	s.Slug = createLink(t, env, org.Token, s.VehicleID, apptest.Vars{
		"showPhoto": false, "showEstimatedArrival": false, "showProgress": false, "showCustomerNotes": false,
	}).Slug
	return s
}

// TestPageOptionCombinations renders the page for every combination of
// the four options, with and without picked photos, and checks it against
// publicTracking for the same link: the same parts, nothing private.
func TestPageOptionCombinations(t *testing.T) {
	env := pgStart(t)
	s := pgSeed(t, env, "Harbour & Sons Imports", "NZ")

	for mask := range 32 {
		photo, eta, progress, notes, picked := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0, mask&16 != 0
		name := fmt.Sprintf("photo=%v,eta=%v,progress=%v,notes=%v,picked=%v", photo, eta, progress, notes, picked)
		t.Run(name, func(t *testing.T) {
			ids := []string{}
			if picked {
				ids = []string{s.Picked1, s.Picked2}
			}
			updateLink(t, env, s.Token, s.VehicleID, apptest.Vars{
				"showPhoto": photo, "showEstimatedArrival": eta, "showProgress": progress,
				"showCustomerNotes": notes, "photoIds": ids,
			})
			view, gql := pgPublic(t, env, s.Slug)
			if view == nil {
				t.Fatal("publicTracking is null for a working link")
			}
			res, page := pgGetPage(t, env, s.Slug)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			pgCheckHeaders(t, res.Header)
			noSecrets(t, "page", []byte(page), pgSecrets)
			noSecrets(t, "publicTracking", gql, pgSecrets)
			for _, id := range []string{s.Unpicked, s.VehicleID} {
				if strings.Contains(page, id) {
					t.Errorf("page contains the id %s", id)
				}
			}

			has := func(what, s string, want bool) {
				t.Helper()
				if got := strings.Contains(page, s); got != want {
					t.Errorf("%s: page contains %q = %v, want %v", what, s, got, want)
				}
			}
			has("org", `<span class="org">Harbour &amp; Sons Imports</span>`, true)
			has("title", "<h1>2018 Mazda Roadster</h1>", true)
			has("lang", `<html lang="en-NZ" dir="ltr">`, true)

			// Each part exactly when publicTracking has it, and when the
			// option says so.
			if (view.HeroPhoto != nil) != photo {
				t.Errorf("publicTracking heroPhoto present = %v, want %v", view.HeroPhoto != nil, photo)
			}
			has("hero", `class="hero"`, photo)
			has("hero photo", "/photos/"+s.Hero, photo)
			if view.HeroPhoto != nil {
				has("hero URL", `src="`+pgPath(t, *view.HeroPhoto.URL)+`"`, true)
			}
			has("tracker", `<ol class="tracker">`, progress)
			has("current step", `aria-current="step"`, progress)
			if progress {
				if view.Progress == nil || view.Progress.Current != "CUSTOMS_CLEARED" {
					t.Fatalf("publicTracking progress %+v", view.Progress)
				}
				for _, st := range view.Progress.Stages {
					has("stage label", `<span class="label">`+st.Label+`</span>`, true)
				}
				if n := strings.Count(page, `aria-current="step"`); n != 1 {
					t.Errorf("%d current steps, want 1", n)
				}
				has("current stage", `<li class="current" aria-current="step"><span class="marker" aria-hidden="true"></span><span class="label">Customs cleared</span>`, true)
			}
			has("eta", `<time datetime="`+pgETA+`">24/12/2030</time>`, eta)
			if (view.EstimatedArrival != nil) != eta {
				t.Errorf("publicTracking estimatedArrival present = %v, want %v", view.EstimatedArrival != nil, eta)
			}
			has("notes", pgCustomerNoteNew, notes)
			has("notes", pgCustomerNoteOld, notes)
			if len(view.Notes) != map[bool]int{true: 2, false: 0}[notes] {
				t.Errorf("publicTracking has %d notes", len(view.Notes))
			}
			for _, n := range view.Notes {
				has("publicTracking note", n.Body, true)
			}
			if notes && strings.Index(page, pgCustomerNoteNew) > strings.Index(page, pgCustomerNoteOld) {
				t.Error("notes are not newest first")
			}
			has("gallery", `<ul class="gallery">`, picked)
			has("picked photo", "/photos/"+s.Picked1, picked)
			has("picked photo", "/photos/"+s.Picked2, picked)
			for _, p := range view.Photos {
				has("publicTracking photo", `href="`+pgPath(t, p.URL)+`"`, true)
			}
			if len(view.Photos) != len(ids) {
				t.Errorf("publicTracking has %d photos, want %d", len(view.Photos), len(ids))
			}
			if strings.Count(page, "<h1") != 1 {
				t.Error("want exactly one h1")
			}
		})
	}
}

// TestPageNotAvailable checks that every reason a link does not work
// answers 404 with the same bytes and headers, naming no organization.
func TestPageNotAvailable(t *testing.T) {
	env := pgStart(t)
	s := pgSeed(t, env, "Unavailable Motors", "NZ")
	ctx := context.Background()
	vehicle := func(tok string) string {
		return createVehicle(t, env, tok, apptest.Vars{"year": 2015, "make": "Nissan", "model": "Leaf", "vin": "PGVINSECRET4242X"})
	}
	all := apptest.Vars{"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true}

	reasons := map[string]string{}
	reasons["unknown"] = "Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIz"
	reasons["malformed"] = "not-a-slug"
	reasons["revoked"] = s.Slug
	var revoke struct{ RevokeTrackingLink struct{ ID string } }
	env.Do(t, s.Token, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": s.VehicleID}).Decode(t, &revoke)

	replaced := vehicle(s.Token)
	reasons["replaced"] = createLink(t, env, s.Token, replaced, all).Slug
	var regen struct{ RegenerateTrackingLink struct{ Slug string } }
	env.Do(t, s.Token, `mutation($v: ID!) { regenerateTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": replaced}).Decode(t, &regen)
	working := regen.RegenerateTrackingLink.Slug

	expired := vehicle(s.Token)
	reasons["expired"] = createLink(t, env, s.Token, expired, all).Slug
	// The API refuses a past expiry: move it into the past directly.
	apptest.ExpireLink(t, testDB, reasons["expired"]) // and drops it from the public cache

	deleted := vehicle(s.Token)
	reasons["deleted vehicle"] = createLink(t, env, s.Token, deleted, all).Slug
	var del struct{ DeleteVehicle string }
	env.Do(t, s.Token, `mutation($v: ID!) { deleteVehicle(id: $v) }`, apptest.Vars{"v": deleted}).Decode(t, &del)

	for _, status := range []domain.SubscriptionStatus{domain.SubscriptionLocked, domain.SubscriptionPastDue, domain.SubscriptionCanceled} {
		locked := pgSeed(t, env, "Billing "+string(status)+" Motors", "NZ")
		updateLink(t, env, locked.Token, locked.VehicleID, all)
		var orgID string
		if err := testDB.GetContext(ctx, &orgID, `SELECT organization_id FROM tracking_links WHERE slug = $1`, locked.Slug); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.SetSubscription(ctx, orgID, status); err != nil {
			t.Fatal(err)
		}
		reasons["billing "+string(status)] = locked.Slug
	}

	// The regenerated link still works: the reasons above are what fails.
	if res, _ := pgGetPage(t, env, working); res.StatusCode != http.StatusOK {
		t.Fatalf("regenerated link: status %d", res.StatusCode)
	}

	var ref []byte
	var refHeader http.Header
	for reason, slug := range reasons {
		res, body := pgGetPage(t, env, slug)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", reason, res.StatusCode)
		}
		pgCheckHeaders(t, res.Header)
		noSecrets(t, reason, []byte(body), pgSecrets)
		for _, s := range []string{"Motors", "Mazda", "Nissan", "Roadster"} {
			if strings.Contains(body, s) {
				t.Errorf("%s: not-available page names %q", reason, s)
			}
		}
		if !strings.Contains(body, "<h1>This link isn’t available</h1>") {
			t.Errorf("%s: page does not say the link is not available", reason)
		}
		h := res.Header.Clone()
		h.Del("Date")
		h.Del("X-Request-Id")
		if ref == nil {
			ref, refHeader = []byte(body), h
			continue
		}
		if !bytes.Equal([]byte(body), ref) {
			t.Errorf("%s: body differs from the other unavailable pages", reason)
		}
		if fmt.Sprint(h) != fmt.Sprint(refHeader) {
			t.Errorf("%s: headers differ:\n%v\n%v", reason, h, refHeader)
		}
	}
}

// TestPageLocaleDates checks the ETA and note dates on the page for
// organizations in several countries.
func TestPageLocaleDates(t *testing.T) {
	env := pgStart(t)
	today := time.Now().UTC()
	tests := []struct {
		country, lang, eta string
		note               func(time.Time) string
	}{
		{"NZ", "en-NZ", "24/12/2030", func(d time.Time) string { return d.Format("2/01/2006") }},
		{"US", "en-US", "Dec 24, 2030", func(d time.Time) string { return d.Format("Jan 2, 2006") }},
		{"GB", "en-GB", "24 Dec 2030", func(d time.Time) string { return d.Format("2 Jan 2006") }},
		{"JP", "ja-JP", "2030/12/24", func(d time.Time) string { return d.Format("2006/01/02") }},
		{"DE", "de-DE", "24.12.2030", func(d time.Time) string { return d.Format("02.01.2006") }},
	}
	for _, tt := range tests {
		org := env.NewOrg(t, "Locale "+tt.country, tt.country)
		id := createVehicle(t, env, org.Token, apptest.Vars{"year": 2021, "make": "Honda", "model": "Jazz", "estimatedArrival": pgETA})
		addNote(t, env, org.Token, id, "Booked on a ship.", "CUSTOMER")
		slug := createLink(t, env, org.Token, id, apptest.Vars{"showEstimatedArrival": true, "showCustomerNotes": true}).Slug
		res, page := pgGetPage(t, env, slug)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tt.country, res.StatusCode)
		}
		if !strings.Contains(page, `<html lang="`+tt.lang+`" dir="ltr">`) {
			t.Errorf("%s: html lang is not %s", tt.country, tt.lang)
		}
		if want := `<time datetime="` + pgETA + `">` + tt.eta + `</time>`; !strings.Contains(page, want) {
			t.Errorf("%s: page lacks %s", tt.country, want)
		}
		// The note was written just now: today in the organization's
		// zone; allow for its midnight passing.
		zone, _ := time.LoadLocation(domain.DefaultTimeZone(tt.country))
		if !strings.Contains(page, ">"+tt.note(today.In(zone))+"</time>") && !strings.Contains(page, ">"+tt.note(time.Now().In(zone))+"</time>") {
			t.Errorf("%s: page lacks the note date %s", tt.country, tt.note(today.In(zone)))
		}
	}
}
