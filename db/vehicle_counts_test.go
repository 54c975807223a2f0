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

// totalCount without a search comes from vehicle_counts (migration 0011):
// it must be what counting the vehicles says, after creations, stage
// changes, deletions and edits that touch neither, including moves in
// opposite directions at once (which must not deadlock).
func TestVehicleCountsFollowTheVehicles(t *testing.T) {
	ctx := context.Background()
	store := db.NewStore(testDB)
	org, owner, err := store.CreateOrganization(ctx, db.NewOrganization{Name: "Counts", Country: "NZ",
		OwnerEmail: "counts-" + strings.ToLower(rand.Text()[:10]) + "@example.com", OwnerPasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	purchased, transit := domain.Stage("PURCHASED"), domain.Stage("IN_TRANSIT")
	check := func(step string) {
		t.Helper()
		for _, stage := range []*domain.Stage{nil, &purchased, &transit} {
			p, err := store.Vehicles(ctx, org.ID, ptr(1), nil, db.VehicleFilter{Stage: stage}, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.TotalCount()
			if err != nil {
				t.Fatal(err)
			}
			var want int
			if err := testDB.GetContext(ctx, &want, `SELECT count(*) FROM vehicles
				WHERE organization_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR stage = $2)`, org.ID, stage); err != nil {
				t.Fatal(err)
			}
			if got != want {
				name := "every stage"
				if stage != nil {
					name = string(*stage)
				}
				t.Errorf("%s, %s: totalCount %d, counting the vehicles %d", step, name, got, want)
			}
		}
	}

	check("no vehicles")
	var ids []string
	for i := range 20 {
		v, err := store.CreateVehicle(ctx, org.ID, db.VehicleInput{Year: 2020, Make: "Toyota", Model: fmt.Sprint("Hilux ", i), Stage: purchased})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	check("20 created")

	// Ten goroutines each move their vehicle back and forth, half of them
	// starting in the other stage: opposite moves at the same moment.
	for _, id := range ids[:5] {
		if _, err := store.UpdateVehicle(ctx, org.ID, id, db.VehiclePatch{Stage: domain.Set(&transit)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i, id := range ids[:10] {
		wg.Go(func() {
			stages := []*domain.Stage{&purchased, &transit} // from IN_TRANSIT
			if i >= 5 {
				stages = []*domain.Stage{&transit, &purchased} // from PURCHASED
			}
			for j := range 30 {
				if _, err := store.UpdateVehicle(ctx, org.ID, id, db.VehiclePatch{Stage: domain.Set(stages[j%2])}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a stage change failed (a deadlock?): %v", err)
	}
	check("after concurrent moves")

	// An edit that changes neither the stage nor the deletion.
	if _, err := store.UpdateVehicle(ctx, org.ID, ids[11], db.VehiclePatch{Model: domain.Set(ptr("Hilux Surf"))}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[12:16] {
		if err := store.DeleteVehicle(ctx, org.ID, owner.ID, id); err != nil && !domain.IsCode(err, domain.NotFound) {
			t.Fatal(err)
		}
	}
	check("after an edit and deletions")
}
