package e2e

// End-to-end tests of the public-view cache: two server instances on one
// database stay in step through LISTEN/NOTIFY, and an instance whose
// listener has lost its connection serves nothing stale. Helpers are
// prefixed "ca".

import (
	"bytes"
	"context"
	"image/color"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/cli"
	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
)

// caWithin polls until ok holds of the view env serves, for at most d; it
// fails the test with what was last seen otherwise.
func caWithin(t *testing.T, d time.Duration, env *apptest.Env, slug, what string, ok func(*publicView) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		v := publicTracking(t, env, slug)
		elapsed := time.Since(start)
		if ok(v) && elapsed <= d {
			return elapsed
		}
		if elapsed > d {
			t.Fatalf("%s: not fresh within %v (%v): %+v", what, d, elapsed, v)
		}
		time.Sleep(time.Millisecond)
	}
}

// caWarm reads slug until env answers it from its cache. Notifications of
// earlier writes (the seeding's, say) may still be arriving and dropping
// it: it tries for a while.
func caWarm(t *testing.T, env *apptest.Env, slug string) *publicView {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := publicTracking(t, env, slug)
		hits, _ := env.Tracking.CacheStats()
		v2 := publicTracking(t, env, slug)
		if h, _ := env.Tracking.CacheStats(); h == hits+1 {
			return v2
		}
		if (v == nil) != (v2 == nil) || time.Now().After(deadline) {
			t.Fatalf("%s is not served from the cache: %+v, then %+v", slug, v, v2)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// caFresh is how long another instance may take to see a write: a
// generous deadline, so that a slow machine or -race never fails a test
// that is about the result. How fast it is (about 100 ms at most) is
// scripts/load's to measure, not a test's to assert.
const caFresh = 5 * time.Second

// Every write that can change a public view, made through instance A,
// shows on A at once and on B, which only hears of it through
// LISTEN/NOTIFY, within caFresh.
func TestPublicCacheTwoInstances(t *testing.T) {
	a := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	b := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	t.Parallel()
	const within = caFresh

	type write struct {
		name  string
		do    func(t *testing.T, f apptest.Fleet, vehicleID string)
		fresh func(v *publicView) bool
	}
	fleet := a.SeedFleet(t, "Replicated Imports", 12)
	tok := fleet.Org.Token
	photosOf := func(t *testing.T, vehicleID string) []string {
		var out struct {
			Vehicle struct{ Photos []struct{ ID string } }
		}
		a.Do(t, tok, `query($v: ID!) { vehicle(id: $v) { photos { id } } }`, apptest.Vars{"v": vehicleID}).Decode(t, &out)
		var ids []string
		for _, p := range out.Vehicle.Photos {
			ids = append(ids, p.ID)
		}
		return ids
	}
	customerNote := func(t *testing.T, vehicleID string) string {
		var out struct {
			Vehicle struct{ Notes []struct{ ID string } }
		}
		a.Do(t, tok, `query($v: ID!) { vehicle(id: $v) { notes(scope: CUSTOMER) { id } } }`, apptest.Vars{"v": vehicleID}).Decode(t, &out)
		return out.Vehicle.Notes[0].ID
	}
	writes := []write{
		{name: "link options (updateTrackingLink)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { updateTrackingLink(vehicleId: $v, options: {showProgress: false}) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v != nil && v.Progress == nil }},
		{name: "link photos (updateTrackingLink photoIds)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { updateTrackingLink(vehicleId: $v, options: {photoIds: []}) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v != nil && len(v.Photos) == 0 }},
		{name: "revoke", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v == nil }},
		{name: "regenerate (the old slug)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { regenerateTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v == nil }},
		{name: "vehicle fields, stage and ETA (updateVehicle)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { updateVehicle(id: $v, input: {make: "Lexus", stage: ARRIVED, estimatedArrival: null}) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool {
			return v != nil && v.Vehicle.Make == "Lexus" && v.Progress != nil && v.Progress.Current == "ARRIVED" && v.EstimatedArrival == nil
		}},
		{name: "hero photo (setHeroPhoto)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { setHeroPhoto(vehicleId: $v, photoId: null) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v != nil && v.HeroPhoto == nil }},
		{name: "photo deletion (deleteVehiclePhoto of the picked photo)", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($p: ID!) { deleteVehiclePhoto(id: $p) }`, apptest.Vars{"p": photosOf(t, v)[1]})
		}, fresh: func(v *publicView) bool { return v != nil && len(v.Photos) == 0 }},
		{name: "customer note added", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { addNote(vehicleId: $v, body: "Left Yokohama", scope: CUSTOMER) { id } }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v != nil && len(v.Notes) == 2 }},
		{name: "customer note made internal", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($n: ID!) { updateNote(id: $n, scope: INTERNAL) { id } }`, apptest.Vars{"n": customerNote(t, v)})
		}, fresh: func(v *publicView) bool { return v != nil && len(v.Notes) == 0 }},
		{name: "customer note deleted", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($n: ID!) { deleteNote(id: $n) }`, apptest.Vars{"n": customerNote(t, v)})
		}, fresh: func(v *publicView) bool { return v != nil && len(v.Notes) == 0 }},
		{name: "vehicle deletion", do: func(t *testing.T, _ apptest.Fleet, v string) {
			mustDo(t, a, tok, `mutation($v: ID!) { deleteVehicle(id: $v) }`, apptest.Vars{"v": v})
		}, fresh: func(v *publicView) bool { return v == nil }},
	}
	for i, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			slug, vehicleID := fleet.Slugs[i], fleet.VehicleIDs[i]
			for _, env := range []*apptest.Env{a, b} {
				if v := caWarm(t, env, slug); v == nil || w.fresh(v) {
					t.Fatalf("before the write: %+v", v)
				}
			}
			w.do(t, fleet, vehicleID)
			if v := publicTracking(t, a, slug); !w.fresh(v) {
				t.Fatalf("the instance that wrote serves a stale view: %+v", v)
			}
			d := caWithin(t, within, b, slug, "the other instance", w.fresh)
			t.Logf("the other instance saw it after %v", d)
		})
	}

	// Organization-wide writes change every link of the organization.
	slug := fleet.Slugs[len(writes)]
	t.Run("organization name (updateOrganization)", func(t *testing.T) {
		caWarm(t, b, slug)
		mustDo(t, a, tok, `mutation { updateOrganization(input: {name: "Replicated Imports Ltd"}) { id } }`, nil)
		caWithin(t, within, b, slug, "the other instance", func(v *publicView) bool {
			return v != nil && v.Organization.Name == "Replicated Imports Ltd"
		})
	})
	t.Run("logo (uploadOrganizationLogo)", func(t *testing.T) {
		before := caWarm(t, b, slug).Organization.LogoURL
		var out struct{ UploadOrganizationLogo struct{ LogoURL *string } }
		a.Upload(t, tok, `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { logoUrl } }`,
			nil, "file", "logo.png", solidPNG(t, 32, 32, color.RGBA{200, 30, 30, 255})).Decode(t, &out)
		caWithin(t, within, b, slug, "the other instance", func(v *publicView) bool {
			return v != nil && v.Organization.LogoURL != nil && (before == nil || *v.Organization.LogoURL != *before)
		})
	})
	t.Run("subscription LOCKED through the CLI", func(t *testing.T) {
		caWarm(t, a, slug)
		caWarm(t, b, slug)
		var stdout, stderr bytes.Buffer
		getenv := func(k string) string {
			if k == "DATABASE_URL" {
				return dbtest.URL(t)
			}
			return ""
		}
		err := cli.Run(context.Background(), []string{"admin", "set-subscription", "--org", fleet.Org.ID, "--status", "LOCKED"},
			getenv, &stdout, &stderr)
		if err != nil {
			t.Fatalf("importops admin set-subscription: %v (stderr: %s)", err, stderr.String())
		}
		// Neither instance wrote: both hear of it through NOTIFY only.
		for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
			d := caWithin(t, within, env, slug, "instance "+name, func(v *publicView) bool { return v == nil })
			t.Logf("instance %s saw LOCKED after %v", name, d)
		}
	})
}

// While an instance's listener is disconnected its cache is flushed and
// bypassed: writes it cannot hear of — made through another instance, or
// behind everyone's back in SQL — show on its next read. When the
// connection is back, caching and invalidation resume.
func TestPublicCacheListenerLoss(t *testing.T) {
	dialer := new(cutDialer)
	a := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true, ListenDialer: dialer})
	b := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	t.Parallel()
	ctx := context.Background()
	fleet := b.SeedFleet(t, "Disconnected Imports", 1)
	slug, vehicleID, org := fleet.Slugs[0], fleet.VehicleIDs[0], fleet.Org
	caWarm(t, a, slug)

	dialer.disconnect(t, a)

	hits, _ := a.Tracking.CacheStats()
	// A write A can only hear of by NOTIFY, which cannot reach it now.
	model := "Prado"
	if _, err := b.Store.UpdateVehicle(ctx, org.ID, vehicleID, db.VehiclePatch{Model: domain.Field[*string]{Set: true, Value: &model}}); err != nil {
		t.Fatal(err)
	}
	if v := publicTracking(t, a, slug); v == nil || v.Vehicle.Model != model {
		t.Fatalf("while the listener is down, A serves a stale view: %+v", v)
	}
	// A write nobody announces at all.
	if _, err := testDB.ExecContext(ctx, `UPDATE vehicles SET make = 'Lexus' WHERE id = $1`, vehicleID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v := publicTracking(t, a, slug); v == nil || v.Vehicle.Make != "Lexus" {
			t.Fatalf("while the listener is down, A serves a stale view: %+v", v)
		}
	}
	if _, err := b.Store.SetSubscription(ctx, org.ID, domain.SubscriptionLocked); err != nil {
		t.Fatal(err)
	}
	if v := publicTracking(t, a, slug); v != nil {
		t.Fatalf("while the listener is down, A serves a LOCKED organization's link: %+v", v)
	}
	if _, err := b.Store.SetSubscription(ctx, org.ID, domain.SubscriptionActive); err != nil {
		t.Fatal(err)
	}
	if h, _ := a.Tracking.CacheStats(); h != hits {
		t.Fatalf("A answered %d lookups from its cache while its listener was down", h-hits)
	}
	if a.Tracking.Caching() {
		t.Fatal("the listener came back during the test: the reads above did not test the outage")
	}

	// Back: caching resumes, and so does invalidation.
	dialer.reconnect(t, a)
	if v := caWarm(t, a, slug); v == nil || v.Vehicle.Make != "Lexus" || v.Vehicle.Model != model {
		t.Fatalf("after reconnecting: %+v", v)
	}
	model = "Land Cruiser 300"
	if _, err := b.Store.UpdateVehicle(ctx, org.ID, vehicleID, db.VehiclePatch{Model: domain.Field[*string]{Set: true, Value: &model}}); err != nil {
		t.Fatal(err)
	}
	caWithin(t, caFresh, a, slug, "A after reconnecting", func(v *publicView) bool {
		return v != nil && strings.EqualFold(v.Vehicle.Model, model)
	})
}
