package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"importops/auth"
	"importops/domain"
	"importops/loaders"
)

// listedVehicleFields reads from the query which nested objects the
// vehicles of a vehicles(...) connection will resolve (fragments and
// aliases included), so the list can prime exactly those.
func listedVehicleFields(ctx context.Context) loaders.VehicleFields {
	var f loaders.VehicleFields
	fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc == nil || op == nil {
		return f
	}
	for _, edges := range graphql.CollectFields(op, fc.Field.Selections, []string{"VehicleConnection"}) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(op, edges.Selections, []string{"VehicleEdge"}) {
			if node.Name == "node" {
				f = f.Or(vehicleFields(op, node.Selections))
			}
		}
	}
	return f
}

// selectedVehicleFields reads from the query which nested objects the
// vehicle that the current field answers will resolve.
func selectedVehicleFields(ctx context.Context) loaders.VehicleFields {
	fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc == nil || op == nil {
		return loaders.VehicleFields{}
	}
	return vehicleFields(op, fc.Field.Selections)
}

// vehicleFields reads which nested objects a selection of a Vehicle asks.
func vehicleFields(op *graphql.OperationContext, sel ast.SelectionSet) loaders.VehicleFields {
	var f loaders.VehicleFields
	for _, v := range graphql.CollectFields(op, sel, []string{"Vehicle"}) {
		switch v.Name {
		case "customer":
			f.Customer = true
		case "heroPhoto":
			f.HeroPhoto = true
		case "photos":
			f.Photos = true
		case "costs":
			f.Costs = true
		case "payments":
			f.Payments = true
		case "notes":
			f.Notes = true
			for _, n := range graphql.CollectFields(op, v.Selections, []string{"Note"}) {
				f.NoteAuthors = f.NoteAuthors || n.Name == "author"
			}
		case "trackingLink":
			f.TrackingLink = true
			for _, l := range graphql.CollectFields(op, v.Selections, []string{"TrackingLink"}) {
				f.LinkPhotos = f.LinkPhotos || l.Name == "photos"
				f.LinkCreatedBy = f.LinkCreatedBy || l.Name == "createdBy"
			}
		}
	}
	return f
}

// bindVehicle answers the vehicle of a store call, as in
// bindVehicle(ctx)(r.store.Vehicle(…)), as the request's: the nested
// objects the current field selects are asked for at once.
func bindVehicle(ctx context.Context) func(*domain.Vehicle, error) (*loaders.Vehicle, error) {
	return func(v *domain.Vehicle, err error) (*loaders.Vehicle, error) {
		if err != nil || v == nil {
			return nil, err
		}
		l := loaders.From(ctx)
		if l == nil {
			return nil, auth.ErrUnauthenticated
		}
		return l.Bind(ctx, v, selectedVehicleFields(ctx)), nil
	}
}

// listedLinkFields reads from the query what the links of a
// trackingLinks(...) connection will load, so the list can prime exactly
// those loaders.
func listedLinkFields(ctx context.Context) loaders.LinkFields {
	var f loaders.LinkFields
	fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc == nil || op == nil {
		return f
	}
	for _, edges := range graphql.CollectFields(op, fc.Field.Selections, []string{"TrackingLinkConnection"}) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(op, edges.Selections, []string{"TrackingLinkEdge"}) {
			if node.Name != "node" {
				continue
			}
			for _, field := range graphql.CollectFields(op, node.Selections, []string{"TrackingLink"}) {
				switch field.Name {
				case "state":
					f.Organization = true
				case "shareMessage":
					f.Organization, f.Vehicle = true, true
				case "vehicle":
					f.Vehicle = true
				case "events":
					f.Events = true
				case "createdBy":
					f.CreatedBy = true
				}
			}
		}
	}
	return f
}
