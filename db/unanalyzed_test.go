package db_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
)

// Seeding an organization before its vehicles are ever analyzed (a bulk
// load before autovacuum gets to it) must not slow down as it grows: each
// createTrackingLink finds its vehicle by the primary key, on a plan made
// while the table was still empty and kept for the connection. Planned on
// an index of the organization's live vehicles instead, each link read
// every vehicle of the organization.
func TestCreateTrackingLinkReadsOneVehicleUnanalyzed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := dbtest.Fresh(t)
	conn.SetMaxOpenConns(1) // one connection: one plan, made at the first link
	store := db.NewStore(conn)

	var orgID, userID string
	if err := conn.QueryRowxContext(ctx, `WITH o AS (INSERT INTO organizations (name, country) VALUES ('Bulk Imports', 'NZ') RETURNING id),
		u AS (INSERT INTO users (organization_id, email, name, role, password_hash)
		      SELECT id, 'owner@bulk.example', 'Owner', 'OWNER', 'x' FROM o RETURNING id, organization_id)
		SELECT organization_id, id FROM u`).Scan(&orgID, &userID); err != nil {
		t.Fatal(err)
	}
	link := func(t *testing.T) {
		t.Helper()
		v, err := store.CreateVehicle(ctx, orgID, db.VehicleInput{Year: 2019, Make: "Toyota", Model: "Hilux", Stage: domain.StageInTransit})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateTrackingLink(ctx, orgID, userID, v.ID, uuid.NewString(), db.LinkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	link(t) // planned now, on a table of one vehicle
	if _, err := conn.ExecContext(ctx, `INSERT INTO vehicles (organization_id, year, make, model)
		SELECT $1, 2000 + g % 25, 'Nissan', 'Leaf' FROM generate_series(1, 3000) g`, orgID); err != nil {
		t.Fatal(err)
	}

	before := vehicleIndexReads(t, conn)
	const links = 20
	for range links {
		link(t)
	}
	// Each link reads its vehicle twice by the primary key: to lock it,
	// and for the link's foreign key.
	if read := vehicleIndexReads(t, conn) - before; read > 3*links {
		t.Errorf("%d links read %d index entries of vehicles, want at most %d (the organization has 3,000 more)", links, read, 3*links)
	}
}

// vehicleIndexReads is how many index entries of vehicles the (one)
// connection of conn has read so far.
func vehicleIndexReads(t *testing.T, conn *sqlx.DB) int64 {
	t.Helper()
	ctx := context.Background()
	// Statistics reach the shared counters when the backend goes idle;
	// this makes it flush then, however recently it last did.
	if _, err := conn.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.GetContext(ctx, &n, `SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname = 'vehicles'`); err != nil {
		t.Fatal(err)
	}
	return n
}
