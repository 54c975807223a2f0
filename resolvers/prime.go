package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

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
	collect := func(sel []graphql.CollectedField, typ string, fn func(graphql.CollectedField)) {
		for _, c := range sel {
			for _, sub := range graphql.CollectFields(op, c.Selections, []string{typ}) {
				fn(sub)
			}
		}
	}
	root := []graphql.CollectedField{fc.Field}
	collect(root, "VehicleConnection", func(edges graphql.CollectedField) {
		if edges.Name != "edges" {
			return
		}
		collect([]graphql.CollectedField{edges}, "VehicleEdge", func(node graphql.CollectedField) {
			if node.Name != "node" {
				return
			}
			collect([]graphql.CollectedField{node}, "Vehicle", func(v graphql.CollectedField) {
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
					collect([]graphql.CollectedField{v}, "Note", func(n graphql.CollectedField) {
						f.NoteAuthors = f.NoteAuthors || n.Name == "author"
					})
				case "trackingLink":
					f.TrackingLink = true
					collect([]graphql.CollectedField{v}, "TrackingLink", func(l graphql.CollectedField) {
						f.LinkPhotos = f.LinkPhotos || l.Name == "photos"
						f.LinkCreatedBy = f.LinkCreatedBy || l.Name == "createdBy"
					})
				}
			})
		})
	})
	return f
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
