package httpapi

import (
	"context"
	"crypto/sha256"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit is gqlgen's complexity limit (extension.ComplexityLimit
// over the schema's complexity functions), remembered per query text and
// operation when no variable can change the result. gqlgen walks the
// whole selection on every request; for the customer page's query, sent
// with a new slug by every customer, that walk cost as much as decoding
// the request.
//
// Complexity reads variables only through the arguments of the fields
// with a complexity function (a page's first: an Int), so an operation
// whose variables are none of Int, Float or an input object gets the same
// complexity whatever their values. Only a verdict within the limit is
// remembered; a refusal is computed, and answered, every time.
type complexityLimit struct {
	*extension.ComplexityLimit
	within *lru.Cache[[sha256.Size]byte, struct{}]
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = complexityLimit{}

func newComplexityLimit(limit int) complexityLimit {
	within, _ := lru.New[[sha256.Size]byte, struct{}](1000) // only a size below 1 fails
	return complexityLimit{ComplexityLimit: extension.FixedComplexityLimit(limit), within: within}
}

func (c complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	fixed := op != nil && !variablesCount(op)
	var key [sha256.Size]byte
	if fixed {
		key = sha256.Sum256([]byte(opCtx.OperationName + "\x00" + opCtx.RawQuery))
		if _, ok := c.within.Get(key); ok {
			return nil
		}
	}
	if err := c.ComplexityLimit.MutateOperationContext(ctx, opCtx); err != nil {
		return err
	}
	if fixed {
		c.within.Add(key, struct{}{})
	}
	return nil
}

// variablesCount reports whether a value of one of op's variables could
// reach a complexity function: one of type Int or Float, or an input
// object (lists and non-null of those too).
func variablesCount(op *ast.OperationDefinition) bool {
	for _, v := range op.VariableDefinitions {
		t := v.Type
		for t.Elem != nil {
			t = t.Elem
		}
		switch {
		case t.NamedType == "Int" || t.NamedType == "Float":
			return true
		case v.Definition == nil || v.Definition.Kind != ast.Scalar && v.Definition.Kind != ast.Enum:
			return true // an input object, or a type the validator did not resolve
		}
	}
	return false
}
