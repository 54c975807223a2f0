package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// selects reports whether the current field's selection asks for field
// of an object of type typ (fragments, aliases, @skip and @include
// included), so that a resolver computes only what will be sent. Without
// a field context it cannot tell, and answers true.
func selects(ctx context.Context, typ, field string) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{typ}) {
		if f.Name == field {
			return true
		}
	}
	return false
}
