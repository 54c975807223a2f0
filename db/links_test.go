package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
)

// CreateTrackingLink writes its link in one statement, or in a transaction
// when photos are picked; a refused call writes nothing. A new link
// changes no public view a replica may hold, so neither way announces
// anything: not to the local hooks, not on PublicChannel.
func TestCreateTrackingLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := db.NewStore(testDB)
	var changed []string
	store.OnPublicChange(func(key string) { changed = append(changed, key) })

	var orgID, otherOrg string
	if err := testDB.QueryRowxContext(ctx, `WITH a AS (INSERT INTO organizations (name, country) VALUES ('Link Imports', 'NZ') RETURNING id),
		b AS (INSERT INTO organizations (name, country) VALUES ('Other Imports', 'NZ') RETURNING id) SELECT a.id, b.id FROM a, b`).
		Scan(&orgID, &otherOrg); err != nil {
		t.Fatal(err)
	}
	var userID string
	if err := testDB.GetContext(ctx, &userID, `INSERT INTO users (organization_id, email, name, role, password_hash)
		VALUES ($1, $2, 'Owner', 'OWNER', 'x') RETURNING id`, orgID, uuid.NewString()+"@example.com"); err != nil {
		t.Fatal(err)
	}
	vehicle := func(t *testing.T, org string) string {
		t.Helper()
		v, err := store.CreateVehicle(ctx, org, db.VehicleInput{Year: 2019, Make: "Toyota", Model: "Hilux", Stage: domain.StagePurchased})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	photo := func(t *testing.T, org, vehicleID string) string {
		t.Helper()
		id := uuid.NewString()
		if _, err := store.AddPhoto(ctx, org, vehicleID, db.NewPhoto{ID: id, StorageKey: "photos/" + id, ContentType: "image/jpeg", Width: 10, Height: 10}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	links := func(t *testing.T, vehicleID string) (n int) {
		t.Helper()
		if err := testDB.GetContext(ctx, &n, `SELECT count(*) FROM tracking_links WHERE vehicle_id = $1`, vehicleID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	create := func(vehicleID string, photos ...string) (*domain.TrackingLink, error) {
		changed = nil
		var o db.LinkOptions
		if photos != nil {
			o.PhotoIDs = domain.Field[[]string]{Set: true, Value: photos}
		}
		return store.CreateTrackingLink(ctx, orgID, userID, vehicleID, uuid.NewString(), o)
	}

	t.Run("a link, and nothing announced", func(t *testing.T) {
		v := vehicle(t, orgID)
		notified := listenFor(t, db.VehicleKey(v))
		l, err := create(v)
		if err != nil {
			t.Fatal(err)
		}
		if l.VehicleID != v || l.CreatedByID == nil || *l.CreatedByID != userID || !l.ShowProgress || len(l.PhotoIDs) != 0 || links(t, v) != 1 {
			t.Errorf("link = %+v, %d rows", l, links(t, v))
		}
		if len(changed) != 0 {
			t.Errorf("hooks told %v, want nothing", changed)
		}
		if notified() {
			t.Errorf("%s was notified on %s", db.VehicleKey(v), db.PublicChannel)
		}
		if _, err := create(v); !domain.IsCode(err, domain.Conflict) || links(t, v) != 1 || len(changed) != 0 {
			t.Errorf("a second link: %v, %d rows, hooks told %v; want CONFLICT, 1 row, nothing", err, links(t, v), changed)
		}
	})

	t.Run("another organization's or a deleted vehicle is NOT_FOUND", func(t *testing.T) {
		other := vehicle(t, otherOrg)
		deleted := vehicle(t, orgID)
		if err := store.DeleteVehicle(ctx, orgID, userID, deleted); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{other, deleted, uuid.NewString()} {
			if _, err := create(v); !domain.IsCode(err, domain.NotFound) || links(t, v) != 0 || len(changed) != 0 {
				t.Errorf("vehicle %s: %v, %d rows, hooks told %v; want NOT_FOUND, nothing written or told", v, err, links(t, v), changed)
			}
		}
	})

	t.Run("picked photos, in order; another vehicle's refused", func(t *testing.T) {
		v, w := vehicle(t, orgID), vehicle(t, orgID)
		a, b, foreign := photo(t, orgID, v), photo(t, orgID, v), photo(t, orgID, w)
		if _, err := create(v, a, foreign); !domain.IsCode(err, domain.BadInput) || links(t, v) != 0 || len(changed) != 0 {
			t.Errorf("with another vehicle's photo: %v, %d rows, hooks told %v; want BAD_USER_INPUT, nothing", err, links(t, v), changed)
		}
		notified := listenFor(t, db.VehicleKey(v))
		l, err := create(v, b, a)
		if err != nil {
			t.Fatal(err)
		}
		if notified() {
			t.Errorf("%s was notified on %s", db.VehicleKey(v), db.PublicChannel)
		}
		var stored []string
		if err := testDB.SelectContext(ctx, &stored, `SELECT photo_id FROM tracking_link_photos WHERE link_id = $1 ORDER BY position`, l.ID); err != nil {
			t.Fatal(err)
		}
		if len(stored) != 2 || stored[0] != b || stored[1] != a || len(l.PhotoIDs) != 2 || len(changed) != 0 {
			t.Errorf("picked %v, stored %v, hooks told %v; want [%s %s] and nothing told", l.PhotoIDs, stored, changed, b, a)
		}
	})
}

// listenFor LISTENs on db.PublicChannel; the function it returns tells
// whether key was notified from then until a marker it sends itself comes
// back (notifications arrive in commit order; other tests' keys are
// ignored).
func listenFor(t *testing.T, key string) (notified func() bool) {
	t.Helper()
	l := pq.NewListener(dbtest.URL(t), time.Second, time.Second, nil)
	t.Cleanup(func() { l.Close() })
	if err := l.Listen(db.PublicChannel); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		t.Helper()
		marker := "marker:" + uuid.NewString()
		if _, err := testDB.Exec(`SELECT pg_notify($1, $2)`, db.PublicChannel, marker); err != nil {
			t.Fatal(err)
		}
		seen := false
		for n := range l.Notify {
			switch {
			case n == nil:
				t.Fatal("the listener reconnected: notifications may have been missed")
			case n.Extra == key:
				seen = true
			case n.Extra == marker:
				return seen
			}
		}
		t.Fatal("the listener closed")
		return false
	}
}
