package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"importops/auth"
	"importops/domain"
	"importops/graph"
	"importops/media"
	"importops/resolvers"
)

// newGraphQL builds the GraphQL handler: explicit transports, one error
// presenter, one recover function.
func newGraphQL(d Deps) *handler.Server {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers:  resolvers.New(d.Store, d.Media, d.Signer, d.Tracking, d.Config.PublicBaseURL),
		Directives: graph.DirectiveRoot{StaffOnly: staffOnly},
	}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{
		MaxUploadSize: media.MaxUploadBytes + 1<<20,
		MaxMemory:     32 << 20,
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !d.Config.Production() {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(presentError(d.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		d.Logger.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return errors.New("panic") // presented as internal error
	})
	return srv
}

// presentError maps every error to a client-safe message and an
// extensions.code; anything not a *domain.Error is logged and hidden.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var derr *domain.Error
		switch {
		case errors.As(err, &derr):
			gqlErr.Message = derr.Message
			setCode(gqlErr, string(derr.Code))
		case gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil:
			// gqlgen's own parse and validation errors, and argument
			// errors, which carry no private data.
		default:
			log.ErrorContext(ctx, "internal error", "error", err.Error(), "path", gqlErr.Path.String())
			gqlErr.Message = "internal error"
			gqlErr.Extensions = nil
			setCode(gqlErr, string(domain.Internal))
		}
		return gqlErr
	}
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
