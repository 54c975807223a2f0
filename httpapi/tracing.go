package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the spans this package makes.
const tracerName = "importops/httpapi"

// traceContext reads an incoming W3C traceparent, so that a caller's
// trace goes on through the server.
var traceContext propagation.TraceContext

// startSpan begins the server span of a request, when tracing is on. Its
// name and attributes come from the route's pattern, never from the path:
// the path of /t/{slug} and the media routes carries a secret, so url.path
// is the pattern too. Nothing about the client (address, User-Agent) is
// recorded. end finishes the span once the request is served; it is nil
// when tracing is off, and then nothing was done.
func (h *handlers) startSpan(r *http.Request) (context.Context, func(pattern string, status int)) {
	if h.tracer == nil {
		return r.Context(), nil
	}
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ctx, span := h.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLScheme(scheme),
		semconv.NetworkProtocolVersion(strings.TrimPrefix(r.Proto, "HTTP/")),
	))
	return ctx, func(pattern string, status int) {
		if _, path, ok := strings.Cut(pattern, " "); ok {
			span.SetName(r.Method + " " + path)
			span.SetAttributes(semconv.HTTPRoute(path), semconv.URLPath(path))
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// traceOperations is a gqlgen extension that makes a span of each
// GraphQL operation, named by its type and name. The document and the
// variables are never recorded: either may carry a slug or a private
// value.
type traceOperations struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension     = traceOperations{}
	_ graphql.OperationInterceptor = traceOperations{}
)

func (traceOperations) ExtensionName() string                          { return "OpenTelemetry" }
func (traceOperations) Validate(schema graphql.ExecutableSchema) error { return nil }

// InterceptOperation spans the whole operation, authentication included:
// a query's or mutation's span ends with its one response, a
// subscription's when its stream does.
func (t traceOperations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opType, opName := "query", ""
	if op := graphql.GetOperationContext(ctx).Operation; op != nil {
		opType, opName = string(op.Operation), op.Name
	}
	if len(opName) > 64 {
		opName = opName[:64]
	}
	name := opType
	attrs := []attribute.KeyValue{semconv.GraphQLOperationTypeKey.String(opType)}
	if opName != "" {
		name += " " + opName
		attrs = append(attrs, semconv.GraphQLOperationName(opName))
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	responses := next(ctx)
	stream := opType == "subscription"
	var ended bool
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if ended {
			return resp
		}
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, outcome(resp.Errors))
		}
		if resp == nil || !stream {
			ended = true
			span.End()
		}
		return resp
	}
}
