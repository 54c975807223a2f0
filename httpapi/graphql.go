package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"importops/auth"
	"importops/domain"
	"importops/graph"
	"importops/loaders"
	"importops/resolvers"
	"importops/team"
)

// newGraphQL builds the GraphQL handler: explicit transports, the query
// limits, authentication, one error presenter, one recover function.
func newGraphQL(h *handlers) *handler.Server {
	d := h.Deps
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers: resolvers.New(d.Store, d.Media, d.Signer, d.Tracking, d.Config.PublicBaseURL, &team.Service{
			Store: d.Store, Passwords: auth.NewPasswords(d.Config.BcryptCost),
			StaffAppURL: d.Config.StaffAppURL, Now: time.Now,
		}),
		Directives: graph.DirectiveRoot{StaffOnly: staffOnly},
		Complexity: complexity(),
	})
	for _, t := range []*ast.Definition{es.Schema().Query, es.Schema().Mutation} {
		for _, f := range t.Fields {
			h.rootFields[f.Name] = true
		}
	}
	srv := handler.New(es)
	// The transports, the first that supports a request serves it. A
	// streaming transport (SSE, WebSocket) goes before httpTransport,
	// which takes every GET and every POST of JSON.
	for _, t := range streamTransports() {
		srv.AddTransport(t)
	}
	srv.AddTransport(httpTransport{})
	srv.AddTransport(multipartTransport{Transport: transport.MultipartForm{
		MaxUploadSize: maxMultipartBody,
		MaxMemory:     maxMultipartMemory,
	}, h: h})
	if h.tracer != nil {
		srv.Use(traceOperations{tracer: h.tracer})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// The limits, in the order they run: the tokens while the query is
	// parsed, the directives while it is validated, then, once it is
	// valid, its shape and its complexity. All before anything executes.
	srv.SetParserTokenLimit(maxTokens)
	srv.SetValidationRulesFn(validationRules)
	srv.Use(queryShape{})
	srv.Use(newComplexityLimit(maxComplexity))
	// Suggestions ("Did you mean …?") name fields an anonymous caller was
	// not told about; presentError strips those of the other rules.
	srv.SetDisableSuggestion(d.Config.Production())
	// After the limits: a token is looked up only for a query that runs.
	srv.AroundOperations(h.authenticate)
	srv.AroundOperations(h.limitStreams)
	if h.limits != nil {
		srv.AroundFields(h.limitFields)
	}
	srv.AroundRootFields(freshLoadsPerMutation)
	srv.AroundResponses(h.noteResponse)
	srv.SetErrorPresenter(presentError(d.Logger, d.Config.Production()))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		d.Logger.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return domain.Errorf(domain.Internal, "internal error")
	})
	return srv
}

// authenticate puts the bearer token's owner into the operation's context.
// A missing, unknown or revoked token leaves the request anonymous: it may
// still call login and publicTracking, and every staff field answers
// UNAUTHENTICATED. Introspection is for the signed-in only in production.
func (h *handlers) authenticate(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	var viewer *auth.Viewer
	token, ok := strings.CutPrefix(opCtx.Headers.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if ok && token != "" && len(token) <= 256 {
		hash := auth.HashToken(token)
		owner := knownTokenOwner(ctx) // an upload's, checked before its body
		if owner == nil {
			var err error
			if owner, err = h.Store.TokenOwner(ctx, hash); err != nil {
				h.Logger.ErrorContext(ctx, "authenticate", "error", err)
				return h.refuse(ctx, refusedError(domain.Internal, "internal error"))
			}
		}
		if owner != nil {
			viewer = &auth.Viewer{
				UserID: owner.UserID, OrganizationID: owner.OrganizationID,
				Role: domain.Role(owner.Role), TokenHash: hash,
			}
			ctx = loaders.With(auth.WithViewer(ctx, viewer), loaders.New(h.Store, owner.OrganizationID, h.Tracking.LinkURL))
		}
	}
	opCtx.DisableIntrospection = h.Config.Production() && viewer == nil
	if roots := rootFields(opCtx.Operation); opCtx.DisableIntrospection && (roots["__schema"] || roots["__type"]) {
		return h.refuse(ctx, validationError("introspection is disabled"))
	}
	return next(ctx)
}

// freshLoadsPerMutation empties the request's loaders before each mutation
// (mutations run one after another), so what a mutation answers reflects
// every write made before it in the same document.
func freshLoadsPerMutation(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Mutation {
		if l := loaders.From(ctx); l != nil {
			l.ClearAll()
		}
	}
	return next(ctx)
}

// refuse answers an operation with err alone, unexecuted.
func (h *handlers) refuse(ctx context.Context, err *gqlerror.Error) graphql.ResponseHandler {
	resp := &graphql.Response{Errors: gqlerror.List{err}}
	h.noteOperation(ctx, resp)
	return graphql.OneShot(resp)
}

// noteResponse records each answer's operation and outcome for the log
// line and the metrics, and keeps the answer to a refused request short.
func (h *handlers) noteResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if resp.Data == nil && len(resp.Errors) > 1 {
		resp.Errors = trimErrors(resp.Errors)
	}
	label, name := h.noteOperation(ctx, resp)
	approvePublic(ctx, label, name, resp)
	return resp
}

func (h *handlers) noteOperation(ctx context.Context, resp *graphql.Response) (label, name string) {
	label, name = opInvalid, ""
	if graphql.HasOperationContext(ctx) {
		opCtx := graphql.GetOperationContext(ctx)
		label = operationLabel(rootFields(opCtx.Operation), h.rootFields)
		if opCtx.Operation != nil && label != opInvalid {
			name = clip(opCtx.Operation.Name, maxQuoted)
		}
	}
	requestInfo(ctx).setOperation(label, name, outcome(resp.Errors))
	return label, name
}

// outcome is "ok", or the code of the errors that matter most: an
// internal error, then a refusal by a rate limit, then the first one.
func outcome(errs gqlerror.List) string {
	if len(errs) == 0 {
		return "ok"
	}
	first := ""
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		if !knownCodes[code] {
			code = string(domain.Internal)
		}
		if code == string(domain.Internal) || code == string(domain.RateLimited) {
			return code
		}
		if first == "" {
			first = code
		}
	}
	return first
}

// knownCodes bound the outcome label.
var knownCodes = map[string]bool{
	string(domain.Unauthenticated): true, string(domain.Forbidden): true, string(domain.NotFound): true,
	string(domain.BadInput): true, string(domain.Conflict): true, string(domain.RateLimited): true,
	string(domain.Internal): true, errcode.ParseFailed: true, errcode.ValidationFailed: true,
	codeComplexity: true, "PERSISTED_QUERY_NOT_FOUND": true,
}

// trimErrors keeps the first maxErrorsShown distinct messages of a refused
// request: "directive overloading" and the like must not be answered
// with one error per repetition.
func trimErrors(errs gqlerror.List) gqlerror.List {
	seen := map[string]bool{}
	var out gqlerror.List
	for _, e := range errs {
		if seen[e.Message] {
			continue
		}
		seen[e.Message] = true
		out = append(out, e)
		if len(out) == maxErrorsShown {
			break
		}
	}
	return out
}

// presentError maps every error to a client-safe message and an
// extensions.code; anything not a *domain.Error is logged and hidden. In
// production no message suggests a name ("Did you mean …?"). No message
// is longer than maxMessage: gqlparser's quote the client's names whole.
func presentError(log *slog.Logger, production bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		defer func() { gqlErr.Message = clip(gqlErr.Message, maxMessage) }()
		var derr *domain.Error
		switch {
		case errors.As(err, &derr):
			gqlErr.Message = derr.Message
			setCode(gqlErr, string(derr.Code))
		case gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil:
			// gqlgen's own parse and validation errors, and argument
			// errors, which carry no private data.
			if production {
				gqlErr.Message = stripSuggestion(gqlErr.Message)
			}
		case graphql.GetFieldContext(ctx) == nil:
			// A request-level error of gqlgen's own (a malformed persisted
			// query extension, ...): about the request, nothing private.
			setCode(gqlErr, string(domain.BadInput))
		default:
			log.ErrorContext(ctx, "internal error", "error", err.Error(), "path", gqlErr.Path.String())
			gqlErr.Message = "internal error"
			gqlErr.Extensions = nil
			setCode(gqlErr, string(domain.Internal))
		}
		return gqlErr
	}
}

// maxMessage is the longest error message: a message quoting a client's
// name quotes at most its first maxMessage bytes.
const maxMessage = 200

// stripSuggestion cuts the " Did you mean …?" that gqlparser's validation
// rules append to a message.
func stripSuggestion(msg string) string {
	if i := strings.Index(msg, " Did you mean"); i >= 0 {
		return msg[:i]
	}
	return msg
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// staffOnly resolves the field only for a signed-in member of the
// organization that owns the object; anything else, including an object
// that does not say who owns it, is FORBIDDEN and null.
func staffOnly(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	v := auth.ViewerFrom(ctx)
	owned, ok := obj.(domain.Owned)
	if v == nil || !ok || owned.Owner() != v.OrganizationID {
		return nil, domain.Errorf(domain.Forbidden, "not allowed")
	}
	return next(ctx)
}

// Operation labels besides the schema's root fields.
const (
	opRefused       = "refused"       // refused before it was parsed: its shape, a rate limit
	opInvalid       = "invalid"       // refused by the parser or a validation rule
	opMultiple      = "multiple"      // several root fields
	opIntrospection = "introspection" // __schema or __type only
	opTypename      = "typename"      // __typename only
)

// rootFields are the names an operation selects at its root, fragments
// included; nil without an operation.
func rootFields(op *ast.OperationDefinition) map[string]bool {
	if op == nil {
		return nil
	}
	names := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				names[sel.Name] = true
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				if sel.Definition != nil {
					walk(sel.Definition.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	return names
}

// operationLabel names an operation for logs and metrics from a bounded
// set: the one root field it selects (a name of the schema, never the
// client's operation name), or one of the labels above.
func operationLabel(fields, roots map[string]bool) string {
	if fields == nil {
		return opInvalid
	}
	var only string
	n := 0
	introspection := false
	for name := range fields {
		switch {
		case name == "__typename":
		case name == "__schema" || name == "__type":
			introspection = true
		case roots[name]:
			only = name
			n++
		default:
			return opInvalid
		}
	}
	switch {
	case n > 1 || (n == 1 && introspection):
		return opMultiple
	case n == 1:
		return only
	case introspection:
		return opIntrospection
	default:
		return opTypename
	}
}
