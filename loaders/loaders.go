// Package loaders batches the nested reads of one GraphQL request, so a
// list of N vehicles costs the same number of statements as a list of one.
package loaders

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"importops/db"
	"importops/domain"
)

// Loaders are built per request, after authentication, for one
// organization: every batch query is scoped to it.
type Loaders struct {
	Customer      *dataloader.Loader[string, *domain.Customer]
	User          *dataloader.Loader[string, *domain.User]
	Photo         *dataloader.Loader[string, *domain.Photo]
	VehiclePhotos *dataloader.Loader[string, []domain.Photo]
	VehicleNotes  *dataloader.Loader[string, []domain.Note]
	Costs         *dataloader.Loader[string, []domain.CostItem]
	Payments      *dataloader.Loader[string, []domain.Payment]
	TrackingLink  *dataloader.Loader[string, *domain.TrackingLink]
	// The link desk: the organization (one key: its id), vehicles by id
	// (live ones only), each link's events, each vehicle's links.
	Organization *dataloader.Loader[string, *domain.Organization]
	Vehicle      *dataloader.Loader[string, *domain.Vehicle]
	LinkEvents   *dataloader.Loader[string, []domain.LinkEvent]
	LinkHistory  *dataloader.Loader[string, []*domain.TrackingLink]

	f       fetchers
	linkURL func(slug string) string
}

// fetchers are the batch reads behind the loaders, each one statement.
type fetchers struct {
	customers     func(context.Context, []string) ([]*domain.Customer, error)
	users         func(context.Context, []string) ([]*domain.User, error)
	photos        func(context.Context, []string) ([]*domain.Photo, error)
	vehiclePhotos func(context.Context, []string) (map[string][]domain.Photo, error)
	notes         func(context.Context, []string) (map[string][]domain.Note, error)
	costs         func(context.Context, []string) (map[string][]domain.CostItem, error)
	payments      func(context.Context, []string) (map[string][]domain.Payment, error)
	links         func(context.Context, []string) (map[string]*domain.TrackingLink, error)
	orgs          func(context.Context, []string) ([]*domain.Organization, error)
	vehicles      func(context.Context, []string) ([]*domain.Vehicle, error)
	linkEvents    func(context.Context, []string) (map[string][]domain.LinkEvent, error)
	linkHistory   func(context.Context, []string) (map[string][]*domain.TrackingLink, error)
}

const (
	wait     = time.Millisecond
	maxBatch = 500
)

// New builds the loaders of one request for organization orgID; linkURL
// makes a tracking link's customer URL of its slug.
func New(store *db.Store, orgID string, linkURL func(slug string) string) *Loaders {
	f := fetchers{
		customers: func(ctx context.Context, ids []string) ([]*domain.Customer, error) {
			return store.CustomersByIDs(ctx, orgID, ids)
		},
		users: func(ctx context.Context, ids []string) ([]*domain.User, error) {
			return store.UsersByIDs(ctx, orgID, ids)
		},
		photos: func(ctx context.Context, ids []string) ([]*domain.Photo, error) {
			return store.PhotosByIDs(ctx, orgID, ids)
		},
		vehiclePhotos: func(ctx context.Context, ids []string) (map[string][]domain.Photo, error) {
			return store.PhotosByVehicles(ctx, orgID, ids)
		},
		notes: func(ctx context.Context, ids []string) (map[string][]domain.Note, error) {
			return store.NotesByVehicles(ctx, orgID, ids)
		},
		costs: func(ctx context.Context, ids []string) (map[string][]domain.CostItem, error) {
			return store.CostsByVehicles(ctx, orgID, ids)
		},
		payments: func(ctx context.Context, ids []string) (map[string][]domain.Payment, error) {
			return store.PaymentsByVehicles(ctx, orgID, ids)
		},
		links: func(ctx context.Context, ids []string) (map[string]*domain.TrackingLink, error) {
			return store.ActiveLinksByVehicles(ctx, orgID, ids)
		},
		orgs: func(ctx context.Context, ids []string) ([]*domain.Organization, error) {
			// The loaders serve one organization: no other id is found.
			if !slices.Contains(ids, orgID) {
				return nil, nil
			}
			o, err := store.Organization(ctx, orgID)
			if err != nil {
				return nil, err
			}
			return []*domain.Organization{o}, nil
		},
		vehicles: func(ctx context.Context, ids []string) ([]*domain.Vehicle, error) {
			return store.VehiclesByIDs(ctx, orgID, ids)
		},
		linkEvents: func(ctx context.Context, ids []string) (map[string][]domain.LinkEvent, error) {
			return store.EventsByLinks(ctx, orgID, ids)
		},
		linkHistory: func(ctx context.Context, ids []string) (map[string][]*domain.TrackingLink, error) {
			return store.LinksByVehicles(ctx, orgID, ids)
		},
	}
	l := newLoaders(f)
	l.linkURL = linkURL
	return l
}

func newLoaders(f fetchers) *Loaders {
	return &Loaders{
		Customer:      byID(f.customers, customerID),
		User:          byID(f.users, userID),
		Photo:         byID(f.photos, photoID),
		VehiclePhotos: grouped(f.vehiclePhotos),
		VehicleNotes:  grouped(f.notes),
		Costs:         grouped(f.costs),
		Payments:      grouped(f.payments),
		TrackingLink:  grouped(f.links),
		Organization:  byID(f.orgs, organizationID),
		Vehicle:       byID(f.vehicles, vehicleID),
		LinkEvents:    grouped(f.linkEvents),
		LinkHistory:   grouped(f.linkHistory),
		f:             f,
	}
}

func customerID(c *domain.Customer) string         { return c.ID }
func userID(u *domain.User) string                 { return u.ID }
func photoID(p *domain.Photo) string               { return p.ID }
func organizationID(o *domain.Organization) string { return o.ID }
func vehicleID(v *domain.Vehicle) string           { return v.ID }

// byID loads single objects; a missing key yields nil, not an error,
// because every caller's field is nullable (a deleted customer, say).
func byID[V any](fetch func(context.Context, []string) ([]V, error), id func(V) string) *dataloader.Loader[string, V] {
	return dataloader.NewBatchedLoader(func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		items, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		found := make(map[string]V, len(items))
		for _, it := range items {
			found[id(it)] = it
		}
		for i, k := range keys {
			out[i] = &dataloader.Result[V]{Data: found[k], Error: err}
		}
		return out
	}, dataloader.WithWait[string, V](wait), dataloader.WithBatchCapacity[string, V](maxBatch))
}

// grouped loads what belongs to each key; a key with nothing gets the
// zero value (an empty list, or nil).
func grouped[V any](fetch func(context.Context, []string) (map[string]V, error)) *dataloader.Loader[string, V] {
	return dataloader.NewBatchedLoader(func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		m, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[V]{Data: m[k], Error: err}
		}
		return out
	}, dataloader.WithWait[string, V](wait), dataloader.WithBatchCapacity[string, V](maxBatch))
}

// Each loads keys from l in one batch and answers them in key order, an
// error for a key in errs[i] (errs is nil when none failed), as LoadMany
// does. LoadMany starts a goroutine per key, and another to gather them;
// Each asks for every key before waiting on any, so the keys not yet
// cached still share one batch, and a cached (primed) key answers at
// once, with no goroutine at all.
func Each[V any](ctx context.Context, l *dataloader.Loader[string, V], keys []string) ([]V, []error) {
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		thunks[i] = l.Load(ctx, k)
	}
	vals := make([]V, len(keys))
	var errs []error
	for i, th := range thunks {
		v, err := th()
		vals[i] = v
		if err != nil {
			if errs == nil {
				errs = make([]error, len(keys))
			}
			errs[i] = err
		}
	}
	return vals, errs
}

// VehicleFields names the nested objects a list of vehicles will resolve.
type VehicleFields struct {
	Customer, HeroPhoto, Photos, Notes, NoteAuthors, Costs, Payments bool
	TrackingLink, LinkPhotos, LinkCreatedBy                          bool
}

// ClearAll forgets everything loaded so far. It runs before each mutation
// of a request, so a mutation's answer never shows what an earlier one in
// the same document changed (a revoked link, a deleted photo).
func (l *Loaders) ClearAll() {
	l.Customer.ClearAll()
	l.User.ClearAll()
	l.Photo.ClearAll()
	l.VehiclePhotos.ClearAll()
	l.VehicleNotes.ClearAll()
	l.Costs.ClearAll()
	l.Payments.ClearAll()
	l.TrackingLink.ClearAll()
	l.Organization.ClearAll()
	l.Vehicle.ClearAll()
	l.LinkEvents.ClearAll()
	l.LinkHistory.ClearAll()
}

// PrimeVehicles reads the nested objects f names of every vehicle of a
// list, one statement per kind, and puts them in the loaders, where each
// vehicle's field resolver then finds them.
//
// The loaders alone batch by time: the keys that arrive within their wait
// share a statement. A list's field resolvers run concurrently and may
// take longer than that to ask, so a long list could cost a few more
// statements than a short one. Priming makes the count fixed — at most
// six statements for the vehicles' own objects, then one for the users
// (note authors and link creators) and one for the photos (heroes and
// links' picks) — whatever the length of the list and however busy the
// machine. A read that fails primes nothing; the fields then load, and
// report the error, as they would without priming.
func (l *Loaders) PrimeVehicles(ctx context.Context, vehicles []*domain.Vehicle, f VehicleFields) {
	if len(vehicles) == 0 {
		return
	}
	ids := make([]string, len(vehicles))
	var customerIDs, photoIDs, userIDs []string
	for i, v := range vehicles {
		ids[i] = v.ID
		if f.Customer && v.CustomerID != nil {
			customerIDs = append(customerIDs, *v.CustomerID)
		}
		if f.HeroPhoto && v.HeroPhotoID != nil {
			photoIDs = append(photoIDs, *v.HeroPhotoID)
		}
	}

	var (
		wg    sync.WaitGroup
		notes map[string][]domain.Note
		links map[string]*domain.TrackingLink
	)
	if f.Customer {
		wg.Go(func() { primeByID(ctx, l.Customer, l.f.customers, customerID, customerIDs) })
	}
	if f.Photos {
		wg.Go(func() { primeGrouped(ctx, l.VehiclePhotos, l.f.vehiclePhotos, ids) })
	}
	if f.Notes || f.NoteAuthors {
		wg.Go(func() { notes = primeGrouped(ctx, l.VehicleNotes, l.f.notes, ids) })
	}
	if f.Costs {
		wg.Go(func() { primeGrouped(ctx, l.Costs, l.f.costs, ids) })
	}
	if f.Payments {
		wg.Go(func() { primeGrouped(ctx, l.Payments, l.f.payments, ids) })
	}
	if f.TrackingLink || f.LinkPhotos || f.LinkCreatedBy {
		wg.Go(func() { links = primeGrouped(ctx, l.TrackingLink, l.f.links, ids) })
	}
	wg.Wait()

	// What the vehicles' notes and links point at.
	if f.NoteAuthors {
		for _, ns := range notes {
			for _, n := range ns {
				if n.AuthorID != nil {
					userIDs = append(userIDs, *n.AuthorID)
				}
			}
		}
	}
	for _, lk := range links {
		if lk == nil {
			continue
		}
		if f.LinkCreatedBy && lk.CreatedByID != nil {
			userIDs = append(userIDs, *lk.CreatedByID)
		}
		if f.LinkPhotos {
			photoIDs = append(photoIDs, lk.PhotoIDs...)
		}
	}
	if len(userIDs) > 0 {
		wg.Go(func() { primeByID(ctx, l.User, l.f.users, userID, userIDs) })
	}
	if len(photoIDs) > 0 {
		wg.Go(func() { primeByID(ctx, l.Photo, l.f.photos, photoID, photoIDs) })
	}
	wg.Wait()
}

// primeByID reads the objects of keys and primes each key, a missing one
// with nil (what the loader would answer for it).
func primeByID[V any](ctx context.Context, l *dataloader.Loader[string, V],
	fetch func(context.Context, []string) ([]V, error), id func(V) string, keys []string) {
	keys = distinct(keys)
	if len(keys) == 0 {
		return
	}
	items, err := fetch(ctx, keys)
	if err != nil {
		return
	}
	found := make(map[string]V, len(items))
	for _, it := range items {
		found[id(it)] = it
	}
	for _, k := range keys {
		l.Prime(ctx, k, found[k])
	}
}

// primeGrouped reads what belongs to each key and primes every key, one
// with nothing with the zero value; it returns what it read (nil on error).
func primeGrouped[V any](ctx context.Context, l *dataloader.Loader[string, V],
	fetch func(context.Context, []string) (map[string]V, error), keys []string) map[string]V {
	m, err := fetch(ctx, keys)
	if err != nil {
		return nil
	}
	for _, k := range keys {
		l.Prime(ctx, k, m[k])
	}
	return m
}

func distinct(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

type ctxKey struct{}

// With attaches l to ctx.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's loaders; nil for an anonymous request.
func From(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

// LinkFields names what the links of a list will resolve through the
// loaders.
type LinkFields struct {
	Organization, Vehicle, Events, CreatedBy bool
	Photos                                   bool // asked for by BindLink
}

// PrimeLinks reads what f names of every link of a list, one statement
// per kind (concurrently), and primes the loaders with it, where each
// link's field resolvers then find it. As PrimeVehicles explains, the
// loaders alone batch only the keys asked within their wait: a long list
// on a busy machine (or under -race) would split a batch. A read that
// fails primes nothing; the fields then load, and report the error, as
// they would without priming.
func (l *Loaders) PrimeLinks(ctx context.Context, links []*domain.TrackingLink, f LinkFields) {
	if len(links) == 0 {
		return
	}
	var ids, vehicleIDs, creatorIDs []string
	for _, lk := range links {
		ids = append(ids, lk.ID)
		vehicleIDs = append(vehicleIDs, lk.VehicleID)
		if lk.CreatedByID != nil {
			creatorIDs = append(creatorIDs, *lk.CreatedByID)
		}
	}
	var wg sync.WaitGroup
	if f.Organization {
		wg.Go(func() { primeByID(ctx, l.Organization, l.f.orgs, organizationID, []string{links[0].OrganizationID}) })
	}
	if f.Vehicle {
		wg.Go(func() { primeByID(ctx, l.Vehicle, l.f.vehicles, vehicleID, vehicleIDs) })
	}
	if f.Events {
		wg.Go(func() { primeGrouped(ctx, l.LinkEvents, l.f.linkEvents, ids) })
	}
	if f.CreatedBy && len(creatorIDs) > 0 {
		wg.Go(func() { primeByID(ctx, l.User, l.f.users, userID, creatorIDs) })
	}
	wg.Wait()
}
