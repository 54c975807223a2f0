package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"importops/db"
	"importops/domain"
	"importops/graph"
	"importops/media"
)

// The limits of a GraphQL request. A request over any of them is refused
// before a resolver or an SQL statement runs, with a short answer.
const (
	// maxJSONBody is the most a JSON request body may hold.
	maxJSONBody = 1 << 20
	// maxMultipartBody is an upload (media.MaxUploadBytes) and the
	// operation's other parts.
	maxMultipartBody = media.MaxUploadBytes + 1<<20
	// maxTokens bounds the parser's work (SetParserTokenLimit): the
	// largest query of the staff frontend is a few hundred tokens, the
	// playground's introspection query about 600.
	maxTokens = 3000
	// maxDirectives bounds the validator's work on directives.
	maxDirectives = 20
	// maxDepth is the deepest selection, introspection included; the
	// schema's own types nest about 6 deep.
	maxDepth = 15
	// maxAliases and maxFields count selections as executed: a fragment
	// spread twice counts twice. Repeating a field without an alias
	// merges it, but still costs the parser and validator.
	maxAliases = 30
	maxFields  = 400
	// maxAlias is the longest alias: the answer repeats it.
	maxAlias = 100
	// maxComplexity: one per field, a list field with a first argument
	// times its page size. A page of 100 vehicles with every field and
	// nested list is about 10,000.
	maxComplexity = 15_000
	// maxErrorsShown caps the errors of a refused request: a long
	// invalid query must not become a long answer.
	maxErrorsShown = 5
)

// The code of an operation over the complexity limit, as gqlgen's
// extension.ComplexityLimit sets it.
const codeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"

var (
	errTooLarge    = refusal{http.StatusRequestEntityTooLarge, domain.BadInput, "request body too large"}
	errNoPreflight = refusal{http.StatusBadRequest, domain.BadInput, "a multipart request must carry the header GraphQL-Preflight: 1"}
	errMediaType   = refusal{http.StatusUnsupportedMediaType, domain.BadInput, "Content-Type must be application/json, or multipart/form-data for uploads"}
)

// admitGraphQL checks what can be checked of a request from its headers:
//   - GET, and POST application/json, go to httpTransport, which decodes
//     them;
//   - POST multipart/form-data only with a GraphQL-Preflight or
//     Apollo-Require-Preflight header, which a browser cannot add to a
//     cross-site request without a CORS preflight (that this server never
//     grants), and not declared over maxMultipartBody;
//   - anything else: 415.
func admitGraphQL(r *http.Request) *refusal {
	if r.Method == http.MethodGet {
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		return nil
	case "multipart/form-data":
		if r.Header.Get("GraphQL-Preflight") == "" && r.Header.Get("Apollo-Require-Preflight") == "" {
			return &errNoPreflight
		}
		if r.ContentLength > maxMultipartBody {
			return &errTooLarge
		}
		return nil
	default:
		return &errMediaType
	}
}

// guardGraphQL admits the GraphQL request (admitGraphQL).
func (h *handlers) guardGraphQL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := admitGraphQL(r); f != nil {
			requestInfo(r.Context()).setOperation(opRefused, "", string(f.code))
			f.write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// validationRules are gqlparser's own, and a bound on directives
// ("directive overloading"): each costs the validator a lookup and the
// client an error. It reports at the first directive over the limit, so
// its error comes before the ones the repetitions cause.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule("MaxDirectives", func(observers *core.Events, addError core.AddErrFunc) {
		n := 0
		observers.OnDirective(func(_ *core.Walker, d *ast.Directive) {
			if n++; n == maxDirectives+1 {
				addError(core.Message("the query has more than %d directives", maxDirectives), core.At(d.Position))
			}
		})
	})
	return r
}

func validationError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// refusedError is the error of a request refused after it was parsed.
func refusedError(code domain.Code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, string(code))
	return err
}

// shape is what queryShape measured of an operation.
type shape struct {
	depth, fields, aliases int
}

// queryShape refuses, after validation and before execution, an operation
// deeper than maxDepth, with more than maxAliases aliases or maxFields
// fields, or asking a page the store would refuse.
type queryShape struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = queryShape{}

func (queryShape) ExtensionName() string                   { return "QueryShape" }
func (queryShape) Validate(graphql.ExecutableSchema) error { return nil }
func (queryShape) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	m := measurer{vars: opCtx.Variables, fragments: map[string]shape{}}
	s, err := m.measure(opCtx.Operation.SelectionSet)
	switch {
	case err != nil:
		return err
	case s.depth > maxDepth:
		return validationError("the query is %d fields deep, more than the limit of %d", s.depth, maxDepth)
	case s.aliases > maxAliases:
		return validationError("the query has %d aliases, more than the limit of %d", s.aliases, maxAliases)
	case s.fields > maxFields:
		return validationError("the query selects %d fields, more than the limit of %d", s.fields, maxFields)
	}
	return nil
}

// measurer walks a validated operation (so fragments have no cycles) and
// measures each fragment once, however often it is spread.
type measurer struct {
	vars      map[string]any
	fragments map[string]shape
}

func (m *measurer) measure(set ast.SelectionSet) (shape, *gqlerror.Error) {
	var s shape
	for _, sel := range set {
		var c shape
		var err *gqlerror.Error
		switch sel := sel.(type) {
		case *ast.Field:
			if err = checkField(sel, m.vars); err == nil {
				c, err = m.measure(sel.SelectionSet)
			}
			c.depth++
			c.fields = satAdd(c.fields, 1)
			if sel.Alias != "" && sel.Alias != sel.Name {
				c.aliases = satAdd(c.aliases, 1)
			}
		case *ast.InlineFragment:
			c, err = m.measure(sel.SelectionSet)
		case *ast.FragmentSpread:
			var ok bool
			if c, ok = m.fragments[sel.Name]; !ok && sel.Definition != nil {
				c, err = m.measure(sel.Definition.SelectionSet)
				m.fragments[sel.Name] = c
			}
		}
		if err != nil {
			return s, err
		}
		s = shape{max(s.depth, c.depth), satAdd(s.fields, c.fields), satAdd(s.aliases, c.aliases)}
	}
	return s, nil
}

// checkField refuses an alias over maxAlias and a page size the store
// would refuse (db.PageSize), before anything runs.
func checkField(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if len(f.Alias) > maxAlias {
		return validationError("an alias is longer than %d characters", maxAlias)
	}
	if f.Definition == nil || f.Definition.Arguments.ForName("first") == nil {
		return nil
	}
	var first *int
	if v := f.ArgumentMap(vars)["first"]; v != nil {
		n := asInt(v)
		first = &n
	}
	if _, err := db.PageSize(first); err != nil {
		if derr, ok := errors.AsType[*domain.Error](err); ok {
			return refusedError(derr.Code, "%s", derr.Message)
		}
		return refusedError(domain.BadInput, "first is not a page size")
	}
	return nil
}

// asInt reads an Int argument as a literal (int64) or a variable
// (json.Number, as the transports decode it) gives it; anything else is
// 0, which the page rule refuses.
func asInt(v any) int {
	switch n := v.(type) {
	case int64:
		return int(min(max(n, -1), 1<<31))
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return int(min(max(i, -1), 1<<31))
		}
	}
	return 0
}

func satAdd(a, b int) int {
	if c := a + b; c >= a {
		return c
	}
	return int(^uint(0) >> 1)
}

// complexity makes a page cost its size: a connection's selection counts
// once per row asked for. An invalid size is refused by queryShape.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	page := func(child int, first *int) int {
		n, _ := db.PageSize(first)
		return satAdd(child*n, 1)
	}
	c.Query.Vehicles = func(child int, first *int, _ *string, _ *domain.Stage, _ *string) int { return page(child, first) }
	c.Query.Customers = func(child int, first *int, _ *string) int { return page(child, first) }
	return c
}
