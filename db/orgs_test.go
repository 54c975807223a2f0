package db_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"importops/db"
	"importops/domain"
)

// Language and time zone: NULL until chosen (they follow the country),
// validated before anything is written, kept when the country changes,
// and the database refuses shapes Go would never write.
func TestOrganizationLanguageAndZone(t *testing.T) {
	ctx := context.Background()
	store := db.NewStore(testDB)
	org, _, err := store.CreateOrganization(ctx, db.NewOrganization{Name: "Zones", Country: "DE",
		OwnerEmail: "zones-" + strings.ToLower(rand.Text()[:10]) + "@example.com", OwnerPasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if org.LanguageSet != nil || org.TimeZoneSet != nil || org.Language() != "de" || org.TimeZone() != "Europe/Berlin" {
		t.Fatalf("new organization: set %v %v, effective %s %s", org.LanguageSet, org.TimeZoneSet, org.Language(), org.TimeZone())
	}
	us := "US"
	if org, err = store.UpdateOrganization(ctx, org.ID, db.OrganizationUpdate{Country: &us}); err != nil {
		t.Fatal(err)
	}
	if org.Language() != "en" || org.TimeZone() != "America/New_York" {
		t.Fatalf("after moving to US: %s %s", org.Language(), org.TimeZone())
	}
	ja, tokyo := "JA", "Asia/Tokyo"
	if org, err = store.UpdateOrganization(ctx, org.ID, db.OrganizationUpdate{Language: &ja, TimeZone: &tokyo}); err != nil {
		t.Fatal(err)
	}
	if *org.LanguageSet != "ja" || *org.TimeZoneSet != "Asia/Tokyo" {
		t.Fatalf("chosen: %v %v", *org.LanguageSet, *org.TimeZoneSet)
	}
	bad, name := "Nowhere/Land", "Not written"
	_, err = store.UpdateOrganization(ctx, org.ID, db.OrganizationUpdate{Name: &name, TimeZone: &bad})
	if !domain.IsCode(err, domain.BadInput) {
		t.Fatalf("bad zone: %v, want BAD_USER_INPUT", err)
	}
	if got, _ := store.Organization(ctx, org.ID); got.Name != "Zones" || *got.TimeZoneSet != "Asia/Tokyo" {
		t.Fatalf("a refused update wrote: %+v", got)
	}
	for _, q := range []string{
		`UPDATE organizations SET language = 'DE-de' WHERE id = $1`,
		`UPDATE organizations SET time_zone = '../../etc/passwd' WHERE id = $1`,
	} {
		if _, err := testDB.ExecContext(ctx, q, org.ID); err == nil {
			t.Errorf("the database accepted %s", q)
		}
	}
}
