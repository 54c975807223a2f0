// Package loaders batches the nested reads of one GraphQL request, so a
// list of N vehicles costs the same number of statements as a list of one.
package loaders

import (
	"context"
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
}

const (
	wait     = time.Millisecond
	maxBatch = 500
)

func New(store *db.Store, orgID string) *Loaders {
	return &Loaders{
		Customer: byID(func(ctx context.Context, ids []string) ([]*domain.Customer, error) {
			return store.CustomersByIDs(ctx, orgID, ids)
		}, func(c *domain.Customer) string { return c.ID }),
		User: byID(func(ctx context.Context, ids []string) ([]*domain.User, error) {
			return store.UsersByIDs(ctx, orgID, ids)
		}, func(u *domain.User) string { return u.ID }),
		Photo: byID(func(ctx context.Context, ids []string) ([]*domain.Photo, error) {
			return store.PhotosByIDs(ctx, orgID, ids)
		}, func(p *domain.Photo) string { return p.ID }),
		VehiclePhotos: grouped(func(ctx context.Context, ids []string) (map[string][]domain.Photo, error) {
			return store.PhotosByVehicles(ctx, orgID, ids)
		}),
		VehicleNotes: grouped(func(ctx context.Context, ids []string) (map[string][]domain.Note, error) {
			return store.NotesByVehicles(ctx, orgID, ids)
		}),
		Costs: grouped(func(ctx context.Context, ids []string) (map[string][]domain.CostItem, error) {
			return store.CostsByVehicles(ctx, orgID, ids)
		}),
		Payments: grouped(func(ctx context.Context, ids []string) (map[string][]domain.Payment, error) {
			return store.PaymentsByVehicles(ctx, orgID, ids)
		}),
		TrackingLink: grouped(func(ctx context.Context, ids []string) (map[string]*domain.TrackingLink, error) {
			return store.ActiveLinksByVehicles(ctx, orgID, ids)
		}),
	}
}

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
