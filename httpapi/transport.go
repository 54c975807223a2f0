package httpapi

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"importops/domain"
)

// refusal is a GraphQL request refused at the HTTP layer.
type refusal struct {
	status  int
	code    domain.Code
	message string
}

func (f refusal) write(w http.ResponseWriter) {
	body, _ := stdjson.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": f.message, "extensions": map[string]any{"code": f.code},
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	w.Write(body)
}

// httpTransport serves GraphQL over HTTP (GET, and POST application/json)
// as the GraphQL-over-HTTP spec asks. It is ours rather than gqlgen's
// because the envelope must be decoded once, strictly: encoding/json
// matches keys case-insensitively and lets the last duplicate win, so
// {"query":"{ __typename }","Query":"mutation { logout }"} would run the
// logout past anything that looked at "query".
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodGet || isJSON(r.Header.Get("Content-Type")))
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	var params *graphql.RawParams
	var f *refusal
	if r.Method == http.MethodGet {
		params, f = decodeQueryString(r.URL.RawQuery)
	} else {
		params, f = decodeBody(w, r)
	}
	if f != nil {
		requestInfo(ctx).setOperation(opRefused, "", string(f.code))
		f.write(w)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	contentType, explicitJSON := negotiate(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		// A request error: nothing ran, so the answer has no data entry.
		status := requestErrorStatus(errs, contentType, explicitJSON)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResult(w, r, status, struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		// A GET must be safe: a link or an <img> must not change anything.
		requestInfo(ctx).setOperation(opRefused, "", string(errGetMutation.code))
		errGetMutation.write(w)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, r, responses(ctx))
}

// The GraphQL-over-HTTP media types.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// negotiate picks the answer's media type from the (first) Accept header,
// as gqlgen does and as the stored answers' key reads it, and says
// whether the client asked for application/json by name.
func negotiate(accept string) (contentType string, explicitJSON bool) {
	if accept == "" {
		return mediaJSON, false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		switch {
		case err != nil:
		case mt == mediaGraphQLResponse:
			return mediaGraphQLResponse, false
		case mt == mediaJSON:
			return mediaJSON, true
		case mt == "*/*" || mt == "application/*":
			return mediaJSON, false
		}
	}
	return mediaGraphQLResponse, false
}

// requestErrorStatus is the status of a request refused before execution
// (parse, validation, variables, limits). The spec asks 4xx under
// application/graphql-response+json and 200 under application/json. A
// client that names neither (no Accept, */*) keeps this server's earlier
// answer: 422 for a request that is not acceptable GraphQL, 200 for the
// rest (a persisted query not found: Apollo clients then send the query).
func requestErrorStatus(errs gqlerror.List, contentType string, explicitJSON bool) int {
	switch {
	case contentType == mediaGraphQLResponse:
		return http.StatusBadRequest
	case explicitJSON:
		return http.StatusOK
	}
	for _, e := range errs {
		switch code, _ := e.Extensions["code"].(string); code {
		case errcode.ParseFailed, errcode.ValidationFailed, codeComplexity, string(domain.BadInput):
			return http.StatusUnprocessableEntity
		}
	}
	return http.StatusOK
}

// writeResult sends one JSON answer, with the longest Retry-After a rate
// limit asked for during the request.
func writeResult(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := stdjson.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal GraphQL response: %w", err)) // gqlgen's recover answers it
	}
	setRetryAfter(w, r)
	w.WriteHeader(status)
	w.Write(b)
}

// writeResponse sends an executed operation's answer. Its data is JSON
// already, written by gqlgen's marshalers: it goes out as it is, where
// json.Marshal would parse it again to compact and escape it (a tenth of
// the CPU and allocations of a long list). An incremental (@defer) part
// has more keys; json.Marshal writes those.
func writeResponse(w http.ResponseWriter, r *http.Request, resp *graphql.Response) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		writeResult(w, r, http.StatusOK, resp)
		return
	}
	var errs, exts []byte
	var err error
	if len(resp.Errors) > 0 {
		if errs, err = stdjson.Marshal(resp.Errors); err != nil {
			panic(fmt.Errorf("marshal GraphQL errors: %w", err))
		}
	}
	if len(resp.Extensions) > 0 {
		if exts, err = stdjson.Marshal(resp.Extensions); err != nil {
			panic(fmt.Errorf("marshal GraphQL extensions: %w", err))
		}
	}
	setRetryAfter(w, r)
	w.WriteHeader(http.StatusOK)
	// The keys in json.Marshal's order of graphql.Response's fields.
	if errs != nil {
		io.WriteString(w, `{"errors":`)
		w.Write(errs)
		io.WriteString(w, `,"data":`)
	} else {
		io.WriteString(w, `{"data":`)
	}
	if resp.Data == nil {
		io.WriteString(w, "null")
	} else {
		w.Write(resp.Data)
	}
	if exts != nil {
		io.WriteString(w, `,"extensions":`)
		w.Write(exts)
	}
	io.WriteString(w, "}")
}

func setRetryAfter(w http.ResponseWriter, r *http.Request) {
	if _, _, _, wait := requestInfo(r.Context()).snapshot(); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	}
}

const envelopeKeys = `the body must be one JSON object {"query": "...", "operationName": "...", "variables": {...}, "extensions": {...}}, each key spelt exactly so and at most once`

var (
	errBatch          = refusal{http.StatusBadRequest, domain.BadInput, "batched requests are not supported: send one operation per request"}
	errNotGraphQL     = refusal{http.StatusBadRequest, domain.BadInput, envelopeKeys}
	errBadQueryString = refusal{http.StatusBadRequest, domain.BadInput, "the query string is not a GraphQL request"}
	errReadBody       = refusal{http.StatusBadRequest, domain.BadInput, "could not read the request body"}
	errGetMutation    = refusal{http.StatusNotAcceptable, domain.BadInput, "GET requests only allow query operations: send a mutation with POST"}
	errMultipart      = refusal{http.StatusUnprocessableEntity, domain.BadInput, "not a GraphQL multipart request: send the parts operations, map, then one part per file named in map"}
)

func badEnvelope(format string, args ...any) *refusal {
	return &refusal{http.StatusBadRequest, domain.BadInput, envelopeKeys + ": " + fmt.Sprintf(format, args...)}
}

func badQueryString(format string, args ...any) *refusal {
	return &refusal{http.StatusBadRequest, domain.BadInput, errBadQueryString.message + ": " + fmt.Sprintf(format, args...)}
}

// envelope is a GraphQL request's JSON body. Only these keys, spelt
// exactly so, each at most once.
type envelope struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     jsontext.Value `json:"variables"`
	Extensions    jsontext.Value `json:"extensions"`
}

// decodeBody reads a POST body of at most maxJSONBody and decodes its
// envelope once.
func decodeBody(w http.ResponseWriter, r *http.Request) (*graphql.RawParams, *refusal) {
	if r.ContentLength > maxJSONBody {
		return nil, &errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
		return nil, &errTooLarge
	} else if err != nil {
		return nil, &errReadBody
	}
	return decodeEnvelope(body)
}

// decodeEnvelope decodes a request's envelope (a JSON body, or an
// upload's operations part) once, strictly.
func decodeEnvelope(body []byte) (*graphql.RawParams, *refusal) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return nil, &errBatch
	}
	var e envelope
	if err := json.Unmarshal(body, &e, json.RejectUnknownMembers(true)); err != nil {
		if serr, ok := errors.AsType[*json.SemanticError](err); ok && errors.Is(serr.Err, json.ErrUnknownName) {
			return nil, badEnvelope("unknown key %s", quoteInput(serr.JSONPointer.LastToken()))
		}
		if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok && errors.Is(serr.Err, jsontext.ErrDuplicateName) {
			return nil, badEnvelope("the key %s appears more than once", quoteInput(serr.JSONPointer.LastToken()))
		}
		return nil, &errNotGraphQL
	}
	p := &graphql.RawParams{Query: e.Query, OperationName: e.OperationName}
	if decodeObject(e.Variables, &p.Variables) != nil || decodeObject(e.Extensions, &p.Extensions) != nil {
		return nil, &errNotGraphQL
	}
	return p, nil
}

// decodeQueryString reads a GET request's parameters; a repeated one is
// refused rather than one of its values picked.
func decodeQueryString(raw string) (*graphql.RawParams, *refusal) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &errBadQueryString
	}
	for _, k := range []string{"query", "operationName", "variables", "extensions"} {
		if len(q[k]) > 1 {
			return nil, badQueryString("the parameter %s appears more than once", k)
		}
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if decodeObject([]byte(q.Get("variables")), &p.Variables) != nil || decodeObject([]byte(q.Get("extensions")), &p.Extensions) != nil {
		return nil, &errBadQueryString
	}
	return p, nil
}

// decodeObject decodes a JSON object (or nothing, or null) as gqlgen's own
// transports do: numbers stay json.Number, so an Int keeps every digit.
// IsValid refuses duplicate keys and invalid UTF-8 first, as the strict
// decoder does for a whole body.
func decodeObject(raw []byte, into *map[string]any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '{' || !jsontext.Value(raw).IsValid() {
		return errNotObject
	}
	dec := stdjson.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(into)
}

var errNotObject = errors.New("not a JSON object")

// maxQuoted is how much of a client's input an error message quotes.
const maxQuoted = 64

// quoteInput quotes client input for an error message, at most maxQuoted
// bytes of it: a 900 KB name must not become a 900 KB answer.
func quoteInput(s string) string {
	return strconv.Quote(clip(s, maxQuoted))
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// multipartTransport is gqlgen's MultipartForm (uploads), behind the
// upload gate (admitUpload), its refusals of a malformed form replaced,
// unread, with our own: they carry no code and quote the client's part
// names.
type multipartTransport struct {
	graphql.Transport
	h *handlers
}

func (t multipartTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	r, release, f := t.h.admitUpload(w, r)
	if f != nil {
		requestInfo(r.Context()).setOperation(opRefused, "", string(f.code))
		if f.code == domain.RateLimited {
			w.Header().Set("Retry-After", "5")
		}
		// Closing the connection spares reading the unread body (net/http
		// would otherwise drain up to 256 KB first).
		w.Header().Set("Connection", "close")
		f.write(w)
		return
	}
	defer release()
	mw := &multipartWriter{ResponseWriter: w, r: r}
	r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxMultipartBody), tooLarge: &mw.tooLarge}
	if f := checkOperations(r); f != nil {
		requestInfo(r.Context()).setOperation(opRefused, "", string(f.code))
		w.Header().Set("Connection", "close")
		f.write(w)
		return
	}
	t.Transport.Do(mw, r, noteExecution{exec, &mw.executed})
}

// checkOperations holds an upload's operations part to the JSON body's
// rules (decodeEnvelope): gqlgen decodes it with encoding/json, which
// matches keys case-insensitively and lets the last duplicate win. It
// reads the body up to the end of that part and puts back what it read,
// so gqlgen sees the stream unchanged. A form that does not begin with
// operations is left to gqlgen to refuse.
func checkOperations(r *http.Request) *refusal {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil
	}
	var read bytes.Buffer
	body := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&read, body), body}
	// At most maxJSONBody and some headers are read, and kept, here.
	parts := multipart.NewReader(io.TeeReader(io.LimitReader(body, maxJSONBody+1<<16), &read), params["boundary"])
	part, err := parts.NextPart()
	if err == nil && part.FormName() != "operations" {
		return nil
	}
	var ops []byte
	if err == nil {
		ops, err = io.ReadAll(io.LimitReader(part, maxJSONBody+1))
	}
	switch _, tooBig := errors.AsType[*http.MaxBytesError](err); {
	case tooBig || len(ops) > maxJSONBody:
		return &errTooLarge
	case err != nil:
		return &errMultipart
	}
	_, f := decodeEnvelope(ops)
	return f
}

// limitedBody notes that its http.MaxBytesReader refused to read on.
type limitedBody struct {
	io.ReadCloser
	tooLarge *bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		*b.tooLarge = true
	}
	return n, err
}

// multipartWriter holds back an error answer written before the operation
// was handed to the executor, and sends a fixed refusal instead.
type multipartWriter struct {
	http.ResponseWriter
	r                                  *http.Request
	executed, tooLarge, replaced, sent bool
}

func (w *multipartWriter) WriteHeader(status int) {
	if w.sent || w.replaced {
		return
	}
	if status >= 400 && !w.executed {
		w.replaced = true
		f := errMultipart
		if w.tooLarge || status == http.StatusRequestEntityTooLarge {
			f = errTooLarge
		}
		requestInfo(w.r.Context()).setOperation(opRefused, "", string(f.code))
		f.write(w.ResponseWriter)
		return
	}
	w.sent = true
	setRetryAfter(w.ResponseWriter, w.r)
	w.ResponseWriter.WriteHeader(status)
}

func (w *multipartWriter) Write(b []byte) (int, error) {
	if !w.sent && !w.replaced {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *multipartWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// noteExecution notes that the transport handed the operation on.
type noteExecution struct {
	graphql.GraphExecutor
	executed *bool
}

func (n noteExecution) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	*n.executed = true
	return n.GraphExecutor.CreateOperationContext(ctx, p)
}
