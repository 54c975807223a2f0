package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"importops/access"
	"importops/auth"
	"importops/db"
	"importops/domain"
	"importops/graph/model"
	"importops/loaders"
)

// field turns gqlgen's "omitted or explicit value" into the store's.
func field[T any](o graphql.Omittable[T]) domain.Field[T] {
	v, set := o.ValueOK()
	return domain.Field[T]{Set: set, Value: v}
}

func money(m *model.MoneyInput) *domain.Money {
	if m == nil {
		return nil
	}
	return &domain.Money{Amount: m.Amount, Currency: m.Currency}
}

// moneyField converts an optional MoneyInput, keeping "omitted" apart
// from "null".
func moneyField(o graphql.Omittable[*model.MoneyInput]) domain.Field[*domain.Money] {
	v, set := o.ValueOK()
	return domain.Field[*domain.Money]{Set: set, Value: money(v)}
}

// staff returns the caller and the request's loaders, or UNAUTHENTICATED:
// every role may work with the organization's records (access.Records).
func staff(ctx context.Context) (*auth.Viewer, *loaders.Loaders, error) {
	v, err := allowed(ctx, access.Records)
	if err != nil {
		return nil, nil, err
	}
	l := loaders.From(ctx)
	if l == nil {
		return nil, nil, auth.ErrUnauthenticated
	}
	return v, l, nil
}

// allowed returns the caller, UNAUTHENTICATED, or FORBIDDEN unless the
// caller's role may do every one of actions.
func allowed(ctx context.Context, actions ...access.Action) (*auth.Viewer, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := access.Check(v, actions...); err != nil {
		return nil, err
	}
	return v, nil
}

func linkOptions(in *model.TrackingLinkOptionsInput) db.LinkOptions {
	if in == nil {
		return db.LinkOptions{}
	}
	o := db.LinkOptions{
		ShowPhoto:            in.ShowPhoto.Value(),
		ShowEstimatedArrival: in.ShowEstimatedArrival.Value(),
		ShowProgress:         in.ShowProgress.Value(),
		ShowCustomerNotes:    in.ShowCustomerNotes.Value(),
		PhotoIDs:             field(in.PhotoIds),
		ExpiresAt:            field(in.ExpiresAt),
	}
	if o.PhotoIDs.Set && o.PhotoIDs.Value == nil {
		o.PhotoIDs.Value = []string{} // null: no picked photos
	}
	return o
}
