package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

func TestAdmitGraphQL(t *testing.T) {
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", maxJSONBody) + `"}}`
	cases := []struct {
		name, method, contentType, body, query string
		headers                                map[string]string
		want                                   int // 0: admitted
	}{
		{"JSON", "POST", "application/json", `{"query":"{ __typename }"}`, "", nil, 0},
		{"JSON with charset", "POST", "application/json; charset=utf-8", `{"query":"{ __typename }","variables":null}`, "", nil, 0},
		{"batch", "POST", "application/json", ` [{"query":"{ __typename }"}]`, "", nil, http.StatusBadRequest},
		{"not JSON", "POST", "application/json", `query { __typename }`, "", nil, http.StatusBadRequest},
		{"query not a string", "POST", "application/json", `{"query":5}`, "", nil, http.StatusBadRequest},
		{"variables not an object", "POST", "application/json", `{"query":"{ __typename }","variables":[1]}`, "", nil, http.StatusBadRequest},
		{"trailing garbage", "POST", "application/json", `{"query":"{ __typename }"} {}`, "", nil, http.StatusBadRequest},
		{"over 1 MB", "POST", "application/json", big, "", nil, http.StatusRequestEntityTooLarge},
		{"text/plain", "POST", "text/plain", `{"query":"mutation { logout }"}`, "", nil, http.StatusUnsupportedMediaType},
		{"form", "POST", "application/x-www-form-urlencoded", `query=mutation`, "", nil, http.StatusUnsupportedMediaType},
		{"no content type", "POST", "", `{"query":"{ __typename }"}`, "", nil, http.StatusUnsupportedMediaType},
		{"application/graphql", "POST", "application/graphql", `{ __typename }`, "", nil, http.StatusUnsupportedMediaType},
		{"multipart without preflight", "POST", "multipart/form-data; boundary=x", "", "", nil, http.StatusBadRequest},
		{"multipart with GraphQL-Preflight", "POST", "multipart/form-data; boundary=x", "", "", map[string]string{"GraphQL-Preflight": "1"}, 0},
		{"multipart with Apollo-Require-Preflight", "POST", "multipart/form-data; boundary=x", "", "", map[string]string{"Apollo-Require-Preflight": "true"}, 0},
		{"GET", "GET", "", "", "query=%7B__typename%7D&variables=%7B%7D", nil, 0},
		{"GET with bad variables", "GET", "", "", "query=%7B__typename%7D&variables=%5B%5D", nil, http.StatusBadRequest},
		{"GET with a malformed query string", "GET", "", "", "query=%zz", nil, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "/graphql?"+c.query, strings.NewReader(c.body))
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			var tooLarge bool
			f := admitGraphQL(w, r, &tooLarge)
			switch {
			case c.want == 0 && f != nil:
				t.Fatalf("refused with %d %q, want admitted", f.status, f.message)
			case c.want != 0 && f == nil:
				t.Fatalf("admitted, want %d", c.want)
			case f != nil && f.status != c.want:
				t.Fatalf("refused with %d, want %d", f.status, c.want)
			}
			if f == nil && c.method == "POST" && strings.HasPrefix(c.contentType, "application/json") {
				got, _ := io.ReadAll(r.Body)
				if string(got) != c.body {
					t.Errorf("the body handed on is %q, want the original", got)
				}
			}
		})
	}
}

// FuzzGraphQLRequest: whatever the body and content type, admitGraphQL
// never panics; what it admits as JSON, gqlgen's POST transport decodes
// (so gqlgen never answers with an uncoded error that quotes the body);
// what it refuses is a coded error that never echoes the body.
func FuzzGraphQLRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"query":"{ __typename }"}`))
	f.Add("application/json", []byte(`{"query":"query($s:String!){publicTracking(slug:$s){expiresAt}}","variables":{"s":"x"},"operationName":null}`))
	f.Add("application/json", []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`))
	f.Add("application/json", []byte(`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1}}}`))
	f.Add("application/json", []byte(`{"query":"{ __typename }","variables":"x"}`))
	f.Add("application/json", []byte("\"\xff\""))
	f.Add("application/json; charset=utf-8", []byte(`{}`))
	f.Add("text/plain", []byte(`{"query":"mutation { logout }"}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\n"))
	f.Add("", []byte(``))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		var tooLarge bool
		ref := admitGraphQL(w, r, &tooLarge)
		if ref != nil {
			ref.write(w)
			var resp struct {
				Errors []struct {
					Message    string
					Extensions struct{ Code string }
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || len(resp.Errors) != 1 || resp.Errors[0].Extensions.Code == "" {
				t.Fatalf("refusal is not one coded GraphQL error: %s", w.Body)
			}
			known := false // a fixed message: nothing of the body
			for _, r := range []refusal{errTooLarge, errBatch, errNotGraphQL, errBadQueryString, errNoPreflight, errMediaType, errReadBody} {
				known = known || resp.Errors[0].Message == r.message
			}
			if !known {
				t.Fatalf("refusal with an unexpected message: %s", w.Body)
			}
			return
		}
		if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/json" {
			return
		}
		handedOn, _ := io.ReadAll(r.Body)
		var params graphql.RawParams
		dec := json.NewDecoder(bytes.NewReader(handedOn))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			t.Fatalf("admitted %q, which gqlgen cannot decode: %v", body, err)
		}
	})
}

func TestOperationLabel(t *testing.T) {
	roots := map[string]bool{"vehicles": true, "login": true, "publicTracking": true}
	cases := []struct {
		fields []string
		want   string
	}{
		{[]string{"vehicles"}, "vehicles"},
		{[]string{"vehicles", "__typename"}, "vehicles"},
		{[]string{"vehicles", "login"}, opMultiple},
		{[]string{"__schema"}, opIntrospection},
		{[]string{"__typename"}, opTypename},
		{[]string{"vehicles", "__type"}, opMultiple},
		{[]string{"anything the client sent"}, opInvalid},
	}
	for _, c := range cases {
		s := &shape{rootFields: map[string]bool{}}
		for _, f := range c.fields {
			s.rootFields[f] = true
		}
		if got := operationLabel(s, roots); got != c.want {
			t.Errorf("operationLabel(%v) = %q, want %q", c.fields, got, c.want)
		}
	}
	if got := operationLabel(nil, roots); got != opInvalid {
		t.Errorf("operationLabel(nil) = %q", got)
	}
}

func TestStripSuggestion(t *testing.T) {
	for in, want := range map[string]string{
		`Cannot query field "vehicl" on type "PublicTracking". Did you mean "vehicle"?`: `Cannot query field "vehicl" on type "PublicTracking".`,
		`Unknown argument "firs" on field "Query.vehicles".`:                            `Unknown argument "firs" on field "Query.vehicles".`,
	} {
		if got := stripSuggestion(in); got != want {
			t.Errorf("stripSuggestion(%q) = %q, want %q", in, got, want)
		}
	}
}
