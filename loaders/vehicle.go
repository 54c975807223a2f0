package loaders

import (
	"context"

	"importops/domain"
)

// Vehicle is a vehicle as one request answers it: its nested objects
// (customer, photos, notes, costs, payments, tracking link) come from the
// request's loaders, through the methods below. gqlgen binds the GraphQL
// Vehicle's nested fields to these methods and calls them in line, one
// after the other; a field resolver would have cost every vehicle a
// goroutine per nested field, whose stack growth alone was about a sixth
// of a long list's CPU (README, "No goroutine per nested field").
//
// Calls in turn would wait for the loaders' batches in turn, so Bind asks
// for everything the query selects first. A Vehicle is made only by a
// resolver that has checked the caller may read records (the loaders
// exist only for a signed-in member).
type Vehicle struct {
	*domain.Vehicle
	ctx context.Context // the request's, for the loads
	l   *Loaders
	f   VehicleFields // what Bind asked for; the link's photos and creator among it
}

// Bind answers v with l. It asks the loaders at once for the nested
// objects f names, so that all the vehicles bound by one request (a link
// list's, say) share one batch per kind. For a list that PrimeVehicles
// has read already, f is the zero value: nothing is left to ask.
func (l *Loaders) Bind(ctx context.Context, v *domain.Vehicle, f VehicleFields) *Vehicle {
	if f.Customer && v.CustomerID != nil {
		l.Customer.Load(ctx, *v.CustomerID)
	}
	if f.HeroPhoto && v.HeroPhotoID != nil {
		l.Photo.Load(ctx, *v.HeroPhotoID)
	}
	if f.Photos {
		l.VehiclePhotos.Load(ctx, v.ID)
	}
	if f.Notes || f.NoteAuthors {
		l.VehicleNotes.Load(ctx, v.ID)
	}
	if f.Costs {
		l.Costs.Load(ctx, v.ID)
	}
	if f.Payments {
		l.Payments.Load(ctx, v.ID)
	}
	if f.TrackingLink || f.LinkPhotos || f.LinkCreatedBy {
		l.TrackingLink.Load(ctx, v.ID)
	}
	return &Vehicle{Vehicle: v, ctx: ctx, l: l, f: f}
}

// Customer is the vehicle's customer; nil when it has none.
func (v *Vehicle) Customer() (*domain.Customer, error) {
	if v.CustomerID == nil {
		return nil, nil
	}
	return v.l.Customer.Load(v.ctx, *v.CustomerID)()
}

// HeroPhoto is the photo shown first; nil when none is set.
func (v *Vehicle) HeroPhoto() (*domain.Photo, error) {
	if v.HeroPhotoID == nil {
		return nil, nil
	}
	return v.l.Photo.Load(v.ctx, *v.HeroPhotoID)()
}

// Photos are the vehicle's photos, in their order.
func (v *Vehicle) Photos() ([]domain.Photo, error) {
	return listOf(v.l.VehiclePhotos.Load(v.ctx, v.ID)())
}

// Notes are the vehicle's notes of scope (every scope when nil).
func (v *Vehicle) Notes(scope *domain.NoteScope) ([]domain.Note, error) {
	notes, err := v.l.VehicleNotes.Load(v.ctx, v.ID)()
	if err != nil {
		return nil, err
	}
	out := make([]domain.Note, 0, len(notes))
	for _, n := range notes {
		if scope == nil || n.Scope == *scope {
			out = append(out, n)
		}
	}
	return out, nil
}

// Costs are the vehicle's cost items.
func (v *Vehicle) Costs() ([]domain.CostItem, error) {
	return listOf(v.l.Costs.Load(v.ctx, v.ID)())
}

// Payments are the payments received for the vehicle.
func (v *Vehicle) Payments() ([]domain.Payment, error) {
	return listOf(v.l.Payments.Load(v.ctx, v.ID)())
}

// listOf is a loaded list, empty rather than nil when a key has nothing:
// the fields are non-null lists.
func listOf[T any](items []T, err error) ([]T, error) {
	if items == nil {
		items = []T{}
	}
	return items, err
}

// TrackingLink is the vehicle's active link; nil when it has none.
func (v *Vehicle) TrackingLink() (*TrackingLink, error) {
	link, err := v.l.TrackingLink.Load(v.ctx, v.ID)()
	if err != nil || link == nil {
		return nil, err
	}
	return v.l.BindLink(v.ctx, link, v.f.LinkPhotos, v.f.LinkCreatedBy), nil
}
