package e2e

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/apptest"
	"importops/db"
	"importops/db/dbtest"
)

// An ID spelled in upper case is the same object, and a write through it
// must reach every cache of the public side like any other write.
func TestUpperCaseIDsInvalidateTheCustomerView(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Upper Case Imports", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)
	slug := createLink(t, env, org.Token, vehicleID, nil).Slug
	query := `query($s: String!) { publicTracking(slug: $s) { vehicle { title } } }`
	for i := 0; i < 3; i++ { // warm every cache of the public side
		if res := env.Do(t, "", query, apptest.Vars{"s": slug}); strings.Contains(string(res.Data), `"publicTracking":null`) {
			t.Fatalf("the new link is not available: %s", res.Body)
		}
	}

	res := env.Do(t, org.Token, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id trackingLink { slug } } }`,
		apptest.Vars{"v": strings.ToUpper(vehicleID)})
	var out struct {
		RevokeTrackingLink struct {
			ID           string
			TrackingLink *struct{ Slug string }
		}
	}
	res.Decode(t, &out)
	if out.RevokeTrackingLink.ID != vehicleID || out.RevokeTrackingLink.TrackingLink != nil {
		t.Fatalf("revoke through an upper-case id answered %s", res.Body)
	}
	if res := env.Do(t, "", query, apptest.Vars{"s": slug}); string(res.Data) != `{"publicTracking":null}` {
		t.Fatalf("the revoked link still shows: %s", res.Body)
	}
}

func TestPickedPhotosByUpperCaseIDsComeBackInTheAnswer(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Upper Case Photos", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)
	photo := uploadPhoto(t, env, org.Token, vehicleID, "", testPNG(t, 40, 30))
	createLink(t, env, org.Token, vehicleID, nil)
	res := env.Do(t, org.Token, `mutation($v: ID!, $p: [ID!]) { updateTrackingLink(vehicleId: $v, options: {photoIds: $p}) { photos { id } } }`,
		apptest.Vars{"v": vehicleID, "p": []string{strings.ToUpper(photo.ID)}})
	var out struct {
		UpdateTrackingLink struct{ Photos []struct{ ID string } }
	}
	res.Decode(t, &out)
	if len(out.UpdateTrackingLink.Photos) != 1 || out.UpdateTrackingLink.Photos[0].ID != photo.ID {
		t.Fatalf("picked photo missing from the answer: %s", res.Body)
	}
}

// Mutations in one document run in order; each answer reflects the
// writes before it.
func TestLaterMutationSeesEarlierOnesInTheSameRequest(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "One Document Imports", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)
	createLink(t, env, org.Token, vehicleID, nil)
	res := env.Do(t, org.Token, `mutation($v: ID!) {
		a: setHeroPhoto(vehicleId: $v, photoId: null) { trackingLink { slug } }
		b: revokeTrackingLink(vehicleId: $v) { trackingLink { slug } }
	}`, apptest.Vars{"v": vehicleID})
	var out struct {
		A struct{ TrackingLink *struct{ Slug string } }
		B struct{ TrackingLink *struct{ Slug string } }
	}
	res.Decode(t, &out)
	if out.A.TrackingLink == nil || out.B.TrackingLink != nil {
		t.Fatalf("want a link in a and none in b, got %s", res.Body)
	}
}

func TestOutOfRangeInputIsBadUserInput(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Range Imports", "NZ")
	t.Parallel()
	t.Run("year 0 date", func(t *testing.T) {
		res := env.Do(t, org.Token, `mutation { createVehicle(input: {year: 2020, make: "Mazda", model: "Bongo", estimatedArrival: "0000-01-01"}) { id } }`, nil)
		if res.Code() != "BAD_USER_INPUT" {
			t.Fatalf("want BAD_USER_INPUT, got %s", res.Body)
		}
	})
	t.Run("NUL in a login email", func(t *testing.T) {
		res := env.Do(t, "", `mutation($e: String!) { login(email: $e, password: "whatever-it-is") { token } }`,
			apptest.Vars{"e": "a\u0000b@example.com"})
		if res.Code() != "UNAUTHENTICATED" {
			t.Fatalf("want UNAUTHENTICATED, got %s", res.Body)
		}
	})
	t.Run("crafted cursor", func(t *testing.T) {
		after := base64.RawURLEncoding.EncodeToString([]byte(`{"k":"a\u0000b","i":"00000000-0000-4000-8000-000000000000"}`))
		res := env.Do(t, org.Token, `query($a: String) { customers(after: $a) { edges { cursor } } }`, apptest.Vars{"a": after})
		if res.Code() != "BAD_USER_INPUT" {
			t.Fatalf("want BAD_USER_INPUT, got %s", res.Body)
		}
	})
}

// Deleting a photo holds one connection only: with a pool of one it must
// not wait for a second.
func TestDeletePhotoNeedsOneConnection(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "One Connection Imports", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)
	photo := uploadPhoto(t, env, org.Token, vehicleID, "", testPNG(t, 40, 30))

	conn, err := sqlx.Open("postgres", dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.NewStore(conn).DeletePhoto(ctx, org.ID, photo.ID); err != nil {
		t.Fatalf("delete photo with a one-connection pool: %v", err)
	}
}
