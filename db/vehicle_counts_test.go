package db_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"

	"importops/db"
	"importops/domain"
)

// totalCount without a search comes from vehicle_counts (migration 0011)
// and with one from vehicle_titles (migration 0012) and the vehicles no
// matching title accounts for. It must be what counting the vehicles says,
// and what the list shows, after creations, stage changes, deletions and
// edits of the title, including moves in opposite directions at once
// (which must not deadlock), for searches that match a vehicle by its
// title, its stock number, its customer, or several of these at once (a
// vehicle counts once).
func TestVehicleCountsFollowTheVehicles(t *testing.T) {
	ctx := context.Background()
	store := db.NewStore(testDB)
	org, owner, err := store.CreateOrganization(ctx, db.NewOrganization{Name: "Counts", Country: "NZ",
		OwnerEmail: "counts-" + strings.ToLower(rand.Text()[:10]) + "@example.com", OwnerPasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	purchased, transit := domain.Stage("PURCHASED"), domain.Stage("IN_TRANSIT")
	searches := []*string{nil, ptr("toyo"), ptr("hilux"), ptr("surf"), ptr("nissan")}
	check := func(step string) {
		t.Helper()
		// vehicle_titles holds exactly the live vehicles' titles: no row
		// left at 0, none missing, each count right.
		var wrong int
		if err := testDB.GetContext(ctx, &wrong, `WITH want AS (SELECT stage, search_title AS title, count(*) AS live
				FROM vehicles WHERE organization_id = $1 AND deleted_at IS NULL GROUP BY 1, 2),
			got AS (SELECT stage, title, live FROM vehicle_titles WHERE organization_id = $1)
			SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM got) a)
			     + (SELECT count(*) FROM (SELECT * FROM got EXCEPT SELECT * FROM want) b)`, org.ID); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%s: %d rows of vehicle_titles differ from the live vehicles' titles", step, wrong)
		}
		for _, stage := range []*domain.Stage{nil, &purchased, &transit} {
			for _, search := range searches {
				f := db.VehicleFilter{Stage: stage, Search: search}
				name := fmt.Sprintf("%s, stage %v, search %v", step, deref(stage), deref(search))
				p, err := store.Vehicles(ctx, org.ID, ptr(1), nil, f, true, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := p.TotalCount()
				if err != nil {
					t.Fatal(err)
				}
				listed, err := store.Vehicles(ctx, org.ID, ptr(100), nil, f, false, nil)
				if err != nil || listed.HasNextPage {
					t.Fatalf("%s: list: %v (more than a page: %v)", name, err, listed.HasNextPage)
				}
				if got != len(listed.Vehicles) {
					t.Errorf("%s: totalCount %d, the list shows %d", name, got, len(listed.Vehicles))
				}
				var want int
				if err := testDB.GetContext(ctx, &want, `SELECT count(*) FROM vehicles v
					LEFT JOIN customers c ON c.id = v.customer_id
					WHERE v.organization_id = $1 AND v.deleted_at IS NULL AND ($2::text IS NULL OR v.stage = $2)
					AND ($3::text IS NULL OR concat_ws(' ', v.year, v.make, v.model) ILIKE '%' || $3 || '%'
					     OR v.vin ILIKE '%' || $3 || '%' OR v.stock_number ILIKE '%' || $3 || '%' OR c.name ILIKE '%' || $3 || '%')`,
					org.ID, stage, search); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s: totalCount %d, counting the vehicles %d", name, got, want)
				}
			}
		}
	}

	check("no vehicles")
	// Toyotas, some with a stock number or a customer that matches "toyo"
	// too, and Nissans matched by "toyo" through those alone.
	tyres, err := store.CreateCustomer(ctx, org.ID, db.CustomerInput{Name: "Toyo Tyres"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 24 {
		in := db.VehicleInput{Year: 2020, Make: "Toyota", Model: fmt.Sprint("Hilux ", i), Stage: purchased}
		if i >= 20 {
			in.Make, in.Model = "Nissan", "Leaf"
		}
		if i%3 == 0 {
			in.StockNumber = ptr(fmt.Sprint("TOYO-", i))
		}
		if i%4 == 1 {
			in.CustomerID = &tyres.ID
		}
		v, err := store.CreateVehicle(ctx, org.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	check("24 created")

	// Ten goroutines each move their vehicle back and forth, half of them
	// starting on the other side: opposite moves at the same moment, first
	// between two stages (the ten share one title, so the moves meet on
	// the rows of vehicle_titles as on those of vehicle_counts), then
	// between two titles.
	hilux, prado := ptr("Hilux"), ptr("Prado")
	for i, id := range ids[:10] {
		patch := db.VehiclePatch{Model: domain.Set(hilux)}
		if i < 5 {
			patch.Stage = domain.Set(&transit)
		}
		if _, err := store.UpdateVehicle(ctx, org.ID, id, patch); err != nil {
			t.Fatal(err)
		}
	}
	moveAll := func(what string, patch func(i, j int) db.VehiclePatch) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i, id := range ids[:10] {
			wg.Go(func() {
				for j := range 60 {
					if _, err := store.UpdateVehicle(ctx, org.ID, id, patch(i, j)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s failed (a deadlock?): %v", what, err)
		}
	}
	moveAll("a stage change", func(i, j int) db.VehiclePatch {
		stages := []*domain.Stage{&purchased, &transit} // from IN_TRANSIT
		if i >= 5 {
			stages = []*domain.Stage{&transit, &purchased} // from PURCHASED
		}
		return db.VehiclePatch{Stage: domain.Set(stages[j%2])}
	})
	check("after concurrent stage changes")
	moveAll("a change of model", func(i, j int) db.VehiclePatch {
		models := []*string{prado, hilux}
		if i >= 5 {
			models = []*string{hilux, prado}
		}
		return db.VehiclePatch{Model: domain.Set(models[j%2])}
	})
	check("after concurrent changes of model")

	// Edits of the title: a model, a make (a Toyota matched by its stock
	// number still matches "toyo"), a year, and a move with a new title.
	if _, err := store.UpdateVehicle(ctx, org.ID, ids[11], db.VehiclePatch{Model: domain.Set(ptr("Hilux Surf"))}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[2:4] {
		if _, err := store.UpdateVehicle(ctx, org.ID, id, db.VehiclePatch{Make: domain.Set(ptr("Nissan"))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.UpdateVehicle(ctx, org.ID, ids[17], db.VehiclePatch{Year: domain.Set(ptr(2011))}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpdateVehicle(ctx, org.ID, ids[21], db.VehiclePatch{Make: domain.Set(ptr("Toyota")),
		Model: domain.Set(ptr("Hilux Surf")), Stage: domain.Set(&transit)}); err != nil {
		t.Fatal(err)
	}
	// An UPDATE that sets the make alone, as a fix by hand in SQL would.
	if _, err := testDB.ExecContext(ctx, `UPDATE vehicles SET make = 'Mazda' WHERE id = $1`, ids[7]); err != nil {
		t.Fatal(err)
	}
	check("after edits of the title")
	for _, id := range ids[12:16] {
		if err := store.DeleteVehicle(ctx, org.ID, owner.ID, id); err != nil && !domain.IsCode(err, domain.NotFound) {
			t.Fatal(err)
		}
	}
	check("after deletions")

	// The counts are per organization, so a vehicle keeps its own.
	other, _, err := store.CreateOrganization(ctx, db.NewOrganization{Name: "Other counts", Country: "NZ",
		OwnerEmail: "counts-" + strings.ToLower(rand.Text()[:10]) + "@example.com", OwnerPasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testDB.ExecContext(ctx, `UPDATE vehicles SET organization_id = $2 WHERE id = $1`, ids[0], other.ID); err == nil {
		t.Error("a vehicle moved to another organization")
	}
	check("after refusing a move to another organization")
}

func deref[T any](p *T) any {
	if p == nil {
		return "none"
	}
	return *p
}
