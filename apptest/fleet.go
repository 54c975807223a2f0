package apptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"importops/db"
	"importops/domain"
	"importops/tracking"
)

// Fleet is an organization whose vehicles each have every nested object
// the staff API shows: a customer, two photos (one the hero), a customer
// and an internal note, a cost, a payment and a tracking link with a
// picked photo.
type Fleet struct {
	Org        Org
	VehicleIDs []string
	Slugs      []string // the tracking link of each vehicle, in order
}

// FleetQuery is vehicles(first: $first) with every field of the contract
// under Vehicle and TrackingLink.
const FleetQuery = `query ($first: Int!) {
  vehicles(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id year make model title vin stockNumber stage estimatedArrival createdAt
      customer { id name email phone }
      heroPhoto { id url caption width height createdAt }
      photos { id url caption width height createdAt }
      notes { id body scope createdAt updatedAt author { id email name role } }
      customerNotes: notes(scope: CUSTOMER) { id body }
      costs { id category description amount { amount currency } }
      agreedSalePrice { amount currency }
      payments { id amount { amount currency } receivedAt reference }
      trackingLink {
        id slug url showPhoto showEstimatedArrival showProgress showCustomerNotes
        expiresAt createdAt updatedAt
        photos { id url caption width height createdAt }
        createdBy { id email name role }
      }
    } }
  }
}`

// PublicQuery is publicTracking with every field of the contract.
const PublicQuery = `query ($slug: String!) {
  publicTracking(slug: $slug) {
    organization { name logoUrl country locale }
    vehicle { year make model title }
    heroPhoto { url caption width height }
    progress { current stages { stage label reached current } }
    estimatedArrival
    notes { body createdAt }
    photos { url caption width height }
    expiresAt
  }
}`

// SeedFleet creates an organization with n such vehicles, through the
// store (photos are recorded without files: nothing here fetches them).
func (e *Env) SeedFleet(t testing.TB, name string, n int) Fleet {
	t.Helper()
	f := Fleet{Org: e.NewOrg(t, name, "NZ"), VehicleIDs: make([]string, n), Slugs: make([]string, n)}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				id, slug, err := e.seedVehicle(f.Org, i)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				f.VehicleIDs[i], f.Slugs[i] = id, slug
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("seed fleet: %v", errs[0])
	}
	return f
}

func (e *Env) seedVehicle(org Org, i int) (vehicleID, slug string, err error) {
	ctx := context.Background()
	s := e.Store
	email, phone := fmt.Sprintf("customer%d@example.com", i), "+64 21 555 0100"
	c, err := s.CreateCustomer(ctx, org.ID, db.CustomerInput{Name: fmt.Sprintf("Customer %d", i), Email: &email, Phone: &phone})
	if err != nil {
		return "", "", err
	}
	stock := fmt.Sprintf("ST-%04d", i)
	eta := domain.Date{Year: time.Now().Year() + 1, Month: time.March, Day: 1 + i%28}
	price := domain.Money{Amount: decimal.RequireFromString("45000.00"), Currency: "NZD"}
	v, err := s.CreateVehicle(ctx, org.ID, db.VehicleInput{
		Year: 2015 + i%10, Make: "Toyota", Model: fmt.Sprintf("Land Cruiser %d", i), StockNumber: &stock,
		CustomerID: &c.ID, Stage: domain.StageInTransit, EstimatedArrival: &eta, AgreedSalePrice: &price,
	})
	if err != nil {
		return "", "", err
	}
	var photos []string
	for j := range 2 {
		id := uuid.NewString()
		caption := fmt.Sprintf("Photo %d of vehicle %d", j, i)
		p, err := s.AddPhoto(ctx, org.ID, v.ID, db.NewPhoto{
			ID: id, StorageKey: "photos/" + org.ID + "/" + id, ContentType: "image/jpeg",
			Caption: &caption, Width: 1600, Height: 1200,
		})
		if err != nil {
			return "", "", err
		}
		photos = append(photos, p.ID)
	}
	if _, err := s.SetHeroPhoto(ctx, org.ID, v.ID, &photos[0]); err != nil {
		return "", "", err
	}
	for _, scope := range []domain.NoteScope{domain.ScopeCustomer, domain.ScopeInternal} {
		if _, err := s.AddNote(ctx, org.ID, org.UserID, v.ID, "A "+string(scope)+" note", scope); err != nil {
			return "", "", err
		}
	}
	desc := "Ro-Ro Yokohama to Auckland"
	if _, err := s.AddCost(ctx, org.ID, v.ID, db.CostInput{Category: "Shipping", Description: &desc,
		Amount: domain.Money{Amount: decimal.RequireFromString("2450.00"), Currency: "NZD"}}); err != nil {
		return "", "", err
	}
	ref := "Deposit"
	if _, err := s.RecordPayment(ctx, org.ID, v.ID, db.PaymentInput{
		Amount:     domain.Money{Amount: decimal.RequireFromString("10000.00"), Currency: "NZD"},
		ReceivedAt: time.Now().Add(-time.Hour), Reference: &ref,
	}); err != nil {
		return "", "", err
	}
	l, err := s.CreateTrackingLink(ctx, org.ID, org.UserID, v.ID, tracking.NewSlug(), db.LinkOptions{
		PhotoIDs: domain.Field[[]string]{Set: true, Value: photos[1:]},
	})
	if err != nil {
		return "", "", err
	}
	return v.ID, l.Slug, nil
}
