package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

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
	// maxDirectives counts every @ in the document, before it is parsed.
	maxDirectives = 20
	// maxDepth is the deepest selection, introspection included; the
	// schema's own types nest about 6 deep.
	maxDepth = 15
	// maxAliases and maxFields count selections as executed: a fragment
	// spread twice counts twice. Repeating a field without an alias
	// merges it, but still costs the parser and validator.
	maxAliases = 30
	maxFields  = 400
	// maxComplexity: one per field, a list field with a first argument
	// times first (at most db.MaxPageSize). A page of 100 vehicles with
	// every field and nested list is about 10,000.
	maxComplexity = 15_000
	// maxErrorsShown caps the errors of a refused request: a long
	// invalid query must not become a long answer.
	maxErrorsShown = 5
)

// The code of an operation over the complexity limit, as gqlgen's
// extension.ComplexityLimit sets it.
const codeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"

func init() {
	// Refused before execution, like a validation error: 422, not 200
	// (gqlgen asks this only of errors raised before execution).
	errcode.RegisterErrorType(codeComplexity, errcode.KindProtocol)
	errcode.RegisterErrorType(string(domain.BadInput), errcode.KindProtocol)
}

// refusal is a GraphQL request refused at the HTTP layer.
type refusal struct {
	status  int
	code    domain.Code
	message string
}

func (f refusal) write(w http.ResponseWriter) {
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": f.message, "extensions": map[string]any{"code": f.code},
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	w.Write(body)
}

var (
	errTooLarge       = refusal{http.StatusRequestEntityTooLarge, domain.BadInput, "request body too large"}
	errBatch          = refusal{http.StatusBadRequest, domain.BadInput, "batched requests are not supported: send one operation per request"}
	errNotGraphQL     = refusal{http.StatusBadRequest, domain.BadInput, `the body must be a JSON object: {"query": "...", "operationName": "...", "variables": {...}}`}
	errBadQueryString = refusal{http.StatusBadRequest, domain.BadInput, "the query string is not a GraphQL request"}
	errNoPreflight    = refusal{http.StatusBadRequest, domain.BadInput, "a multipart request must carry the header GraphQL-Preflight: 1"}
	errMediaType      = refusal{http.StatusUnsupportedMediaType, domain.BadInput, "Content-Type must be application/json, or multipart/form-data for uploads"}
	errReadBody       = refusal{http.StatusBadRequest, domain.BadInput, "could not read the request body"}
)

// admitGraphQL checks a GraphQL request's shape before anything of it is
// parsed or executed:
//   - GET: a well-formed query string (gqlgen runs queries only);
//   - POST application/json: at most maxJSONBody, one JSON object, not a
//     batch; read whole here and handed on;
//   - POST multipart/form-data: only with a GraphQL-Preflight or
//     Apollo-Require-Preflight header, which a browser cannot add to a
//     cross-site request without a CORS preflight (that this server never
//     grants); at most maxMultipartBody;
//   - anything else: 415.
//
// tooLarge is set when a multipart body turns out, while it is read, to
// be over its limit.
func admitGraphQL(w http.ResponseWriter, r *http.Request, tooLarge *bool) *refusal {
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil || !jsonObjectOrAbsent(q.Get("variables")) || !jsonObjectOrAbsent(q.Get("extensions")) {
			return &errBadQueryString
		}
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		if r.ContentLength > maxJSONBody {
			return &errTooLarge
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return &errTooLarge
		case err != nil:
			return &errReadBody
		}
		if f := checkJSONRequest(body); f != nil {
			return f
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		return nil
	case "multipart/form-data":
		if r.Header.Get("GraphQL-Preflight") == "" && r.Header.Get("Apollo-Require-Preflight") == "" {
			return &errNoPreflight
		}
		if r.ContentLength > maxMultipartBody {
			return &errTooLarge
		}
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxMultipartBody), tooLarge: tooLarge}
		return nil
	default:
		return &errMediaType
	}
}

// checkJSONRequest accepts exactly what gqlgen's POST transport decodes
// into graphql.RawParams: one object whose query and operationName are
// strings and whose variables and extensions are objects. Its errors
// would otherwise quote the body back.
func checkJSONRequest(body []byte) *refusal {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return &errBatch
	}
	var p struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(body, &p); err != nil ||
		!jsonObjectOrNull(p.Variables) || !jsonObjectOrNull(p.Extensions) {
		return &errNotGraphQL
	}
	return nil
}

func jsonObjectOrNull(raw json.RawMessage) bool {
	b := bytes.TrimLeft(raw, " \t\r\n")
	return len(b) == 0 || b[0] == '{' || bytes.Equal(b, []byte("null"))
}

func jsonObjectOrAbsent(s string) bool {
	if s == "" {
		return true
	}
	var m map[string]any
	return json.Unmarshal([]byte(s), &m) == nil
}

// limitedBody notes that its http.MaxBytesReader refused to read on.
type limitedBody struct {
	io.ReadCloser
	tooLarge *bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		*b.tooLarge = true
	}
	return n, err
}

// guardGraphQL admits the GraphQL request (admitGraphQL) and watches
// what gqlgen answers (codedWriter).
func (h *handlers) guardGraphQL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestInfo(r.Context())
		cw := &codedWriter{ResponseWriter: w, info: info}
		if f := admitGraphQL(w, r, &cw.tooLarge); f != nil {
			info.setOperation(opRefused, "", string(f.code))
			f.write(w)
			return
		}
		if isMultipart(r) {
			var release func()
			var f *refusal
			r, release, f = h.admitUpload(r)
			if f != nil {
				info.setOperation(opRefused, "", string(f.code))
				if f.code == domain.RateLimited {
					w.Header().Set("Retry-After", "5")
				}
				// Closing the connection spares reading the unread body
				// (net/http would otherwise drain up to 256 KB first).
				w.Header().Set("Connection", "close")
				f.write(w)
				return
			}
			defer release()
		}
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

// codedWriter keeps the contract that every GraphQL error carries an
// extensions.code: the few errors gqlgen's transports write by
// themselves (a mutation over GET, a malformed multipart form, ...) carry
// none, so an error answer (status 400 and up) is held back and given
// BAD_USER_INPUT where it lacks a code. A multipart body over its limit
// is answered 413. The longest Retry-After a rate limit asked for is
// sent with the headers.
type codedWriter struct {
	http.ResponseWriter
	info        *reqInfo
	tooLarge    bool
	wroteHeader bool
	held        bool
	status      int
	buf         bytes.Buffer
}

func (w *codedWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if _, _, _, wait := w.info.snapshot(); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	}
	if status >= 400 {
		w.held, w.status = true, status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *codedWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.held {
		return w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *codedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish sends a held error answer, every error with a code.
func (w *codedWriter) finish() {
	if !w.held {
		return
	}
	if w.tooLarge {
		w.info.setOperation(opRefused, "", string(errTooLarge.code))
		errTooLarge.write(w.ResponseWriter)
		return
	}
	body := w.buf.Bytes()
	var resp map[string]any
	if json.Unmarshal(body, &resp) == nil {
		errs, _ := resp["errors"].([]any)
		changed := false
		for _, e := range errs {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			ext, _ := m["extensions"].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				m["extensions"] = ext
			}
			if _, ok := ext["code"].(string); !ok {
				ext["code"] = string(domain.BadInput)
				changed = true
			}
		}
		if changed {
			if b, err := json.Marshal(resp); err == nil {
				body = b
			}
			if op, _, _, _ := w.info.snapshot(); op == "" {
				w.info.setOperation(opRefused, "", string(domain.BadInput))
			}
		}
	}
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(body)
}

// countDirectives refuses, before the query is parsed, a document with
// more than maxDirectives directives ("directive overloading"): each one
// would cost the validator a lookup and the client an error. It only
// lexes; the parser reports anything malformed.
type countDirectives struct{}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = countDirectives{}

func (countDirectives) ExtensionName() string                   { return "CountDirectives" }
func (countDirectives) Validate(graphql.ExecutableSchema) error { return nil }
func (countDirectives) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	lex := lexer.New(&ast.Source{Input: p.Query})
	directives := 0
	for range maxTokens + 1 {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return nil
		}
		if tok.Kind == lexer.At {
			if directives++; directives > maxDirectives {
				return validationError("the query has more than %d directives", maxDirectives)
			}
		}
	}
	return nil
}

func validationError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// shape is what queryShape measured of an operation.
type shape struct {
	depth, fields, aliases int
	introspection          bool
	rootFields             map[string]bool // the schema's root fields it selects
}

const shapeExtension = "QueryShape"

// queryShape refuses, after validation and before execution, an operation
// deeper than maxDepth, with more than maxAliases aliases or maxFields
// fields, or asking a page of more than db.MaxPageSize. It keeps what it
// measured for the operation's label and the introspection rule.
type queryShape struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = queryShape{}

func (queryShape) ExtensionName() string                   { return shapeExtension }
func (queryShape) Validate(graphql.ExecutableSchema) error { return nil }
func (queryShape) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	m := measurer{vars: opCtx.Variables, fragments: map[string]*shape{}}
	s := &shape{rootFields: map[string]bool{}}
	for _, sel := range opCtx.Operation.SelectionSet {
		m.rootField(s, sel)
	}
	child, err := m.measure(opCtx.Operation.SelectionSet)
	if err != nil {
		return err
	}
	s.depth, s.fields, s.aliases, s.introspection = child.depth, child.fields, child.aliases, child.introspection
	opCtx.Stats.SetExtension(shapeExtension, s)
	switch {
	case s.depth > maxDepth:
		return validationError("the query is %d fields deep, more than the limit of %d", s.depth, maxDepth)
	case s.aliases > maxAliases:
		return validationError("the query has %d aliases, more than the limit of %d", s.aliases, maxAliases)
	case s.fields > maxFields:
		return validationError("the query selects %d fields, more than the limit of %d", s.fields, maxFields)
	}
	return nil
}

func shapeOf(opCtx *graphql.OperationContext) *shape {
	s, _ := opCtx.Stats.GetExtension(shapeExtension).(*shape)
	return s
}

// measurer walks a validated operation (so fragments have no cycles) and
// measures each fragment once, however often it is spread.
type measurer struct {
	vars      map[string]any
	fragments map[string]*shape
}

func (m *measurer) rootField(s *shape, sel ast.Selection) {
	switch sel := sel.(type) {
	case *ast.Field:
		s.rootFields[sel.Name] = true
	case *ast.InlineFragment:
		for _, child := range sel.SelectionSet {
			m.rootField(s, child)
		}
	case *ast.FragmentSpread:
		if sel.Definition != nil {
			for _, child := range sel.Definition.SelectionSet {
				m.rootField(s, child)
			}
		}
	}
}

func (m *measurer) measure(set ast.SelectionSet) (shape, *gqlerror.Error) {
	var s shape
	add := func(c shape, depth int) {
		s.depth = max(s.depth, depth)
		s.fields = satAdd(s.fields, c.fields)
		s.aliases = satAdd(s.aliases, c.aliases)
		s.introspection = s.introspection || c.introspection
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := checkPageSize(sel, m.vars); err != nil {
				return s, err
			}
			c, err := m.measure(sel.SelectionSet)
			if err != nil {
				return s, err
			}
			c.fields = satAdd(c.fields, 1)
			if sel.Alias != "" && sel.Alias != sel.Name {
				c.aliases = satAdd(c.aliases, 1)
			}
			c.introspection = c.introspection || sel.Name == "__schema" || sel.Name == "__type"
			add(c, c.depth+1)
		case *ast.InlineFragment:
			c, err := m.measure(sel.SelectionSet)
			if err != nil {
				return s, err
			}
			add(c, c.depth)
		case *ast.FragmentSpread:
			c, ok := m.fragments[sel.Name]
			if !ok {
				if sel.Definition == nil {
					continue
				}
				f, err := m.measure(sel.Definition.SelectionSet)
				if err != nil {
					return s, err
				}
				c = &f
				m.fragments[sel.Name] = c
			}
			add(*c, c.depth)
		}
	}
	return s, nil
}

// checkPageSize refuses a first argument outside 1..db.MaxPageSize, as the
// store would, but before anything runs.
func checkPageSize(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil || f.Definition.Arguments.ForName("first") == nil {
		return nil
	}
	n, ok := asInt(f.ArgumentMap(vars)["first"])
	if !ok || n < 1 || n > db.MaxPageSize {
		err := gqlerror.Errorf("first must be between 1 and %d", db.MaxPageSize)
		errcode.Set(err, string(domain.BadInput))
		return err
	}
	return nil
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case nil:
		return db.DefaultPageSize, true // null: the store's default
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

func satAdd(a, b int) int {
	if c := a + b; c >= a {
		return c
	}
	return int(^uint(0) >> 1)
}

// complexity makes a page cost its size: a connection's selection counts
// once per row asked for, at most db.MaxPageSize.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	page := func(child int, first *int) int {
		n := db.DefaultPageSize
		if first != nil {
			n = min(max(*first, 1), db.MaxPageSize)
		}
		return satAdd(child*n, 1)
	}
	c.Query.Vehicles = func(child int, first *int, _ *string, _ *domain.Stage, _ *string) int { return page(child, first) }
	c.Query.Customers = func(child int, first *int, _ *string) int { return page(child, first) }
	return c
}

// Operation labels besides the schema's root fields.
const (
	opRefused       = "refused"       // refused before it was parsed: its shape, a rate limit
	opInvalid       = "invalid"       // refused by the parser or a validation rule
	opMultiple      = "multiple"      // several root fields
	opIntrospection = "introspection" // __schema or __type only
	opTypename      = "typename"      // __typename only
)

// operationLabel names an operation for logs and metrics from a bounded
// set: the one root field it selects (a name of the schema, never the
// client's operation name), or one of the labels above.
func operationLabel(s *shape, roots map[string]bool) string {
	if s == nil {
		return opInvalid
	}
	var only string
	n := 0
	introspection := false
	for name := range s.rootFields {
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

// refusedError is the error of a request refused after it was parsed.
func refusedError(code domain.Code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, string(code))
	return err
}
