package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

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
				addVehicleFields(&f, op, node.Selections)
			}
		}
	}
	return f
}

// selectedVehicleFields reads from the query which nested objects the
// vehicle that the current field answers will resolve.
func selectedVehicleFields(ctx context.Context) loaders.VehicleFields {
	var f loaders.VehicleFields
	if fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx); fc != nil && op != nil {
		addVehicleFields(&f, op, fc.Field.Selections)
	}
	return f
}

// addVehicleFields adds to f the nested objects a selection of a Vehicle
// asks for.
func addVehicleFields(f *loaders.VehicleFields, op *graphql.OperationContext, sel ast.SelectionSet) {
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
			photos, createdBy := linkSelects(op, v.Selections)
			f.LinkPhotos = f.LinkPhotos || photos
			f.LinkCreatedBy = f.LinkCreatedBy || createdBy
		}
	}
}

// linkSelects reads whether a selection of a TrackingLink asks for its
// photos and its creator.
func linkSelects(op *graphql.OperationContext, sel ast.SelectionSet) (photos, createdBy bool) {
	for _, f := range graphql.CollectFields(op, sel, []string{"TrackingLink"}) {
		photos = photos || f.Name == "photos"
		createdBy = createdBy || f.Name == "createdBy"
	}
	return photos, createdBy
}

// selectedLinkFields is linkSelects of the links the current field answers.
func selectedLinkFields(ctx context.Context) (photos, createdBy bool) {
	if fc, op := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx); fc != nil && op != nil {
		return linkSelects(op, fc.Field.Selections)
	}
	return false, false
}

// bindLink answers the link of a store call, as in
// bindLink(ctx)(r.store.CreateTrackingLink(…)), as the request's, once
// the caller's right to read records is checked (as bindVehicle does).
func bindLink(ctx context.Context) func(*domain.TrackingLink, error) (*loaders.TrackingLink, error) {
	return func(link *domain.TrackingLink, err error) (*loaders.TrackingLink, error) {
		if err != nil || link == nil {
			return nil, err
		}
		_, l, err := staff(ctx)
		if err != nil {
			return nil, err
		}
		photos, createdBy := selectedLinkFields(ctx)
		return l.BindLink(ctx, link, photos, createdBy), nil
	}
}

// bindVehicle answers the vehicle of a store call, as in
// bindVehicle(ctx)(r.store.Vehicle(…)), as the request's: the nested
// objects the current field selects are asked for at once. The nested
// objects are methods, not resolvers: the caller's right to read records,
// which each of their resolvers checked, is checked here, once.
func bindVehicle(ctx context.Context) func(*domain.Vehicle, error) (*loaders.Vehicle, error) {
	return func(v *domain.Vehicle, err error) (*loaders.Vehicle, error) {
		if err != nil || v == nil {
			return nil, err
		}
		_, l, err := staff(ctx)
		if err != nil {
			return nil, err
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
				case "photos":
					f.Photos = true
				}
			}
		}
	}
	return f
}
