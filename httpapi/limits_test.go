package httpapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// admitRequest is what the server checks of a request before GraphQL
// sees it: its headers (admitGraphQL), then its envelope (httpTransport).
func admitRequest(w http.ResponseWriter, r *http.Request) (*graphql.RawParams, *refusal) {
	if f := admitGraphQL(r); f != nil {
		return nil, f
	}
	switch {
	case r.Method == http.MethodGet:
		return decodeQueryString(r.URL.RawQuery)
	case isJSON(r.Header.Get("Content-Type")):
		return decodeBody(w, r)
	}
	return nil, nil
}

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
		{"a case variant of a key", "POST", "application/json", `{"query":"{ __typename }","Query":"mutation { logout }"}`, "", nil, http.StatusBadRequest},
		{"a key twice", "POST", "application/json", `{"query":"mutation { logout }","query":"{ __typename }"}`, "", nil, http.StatusBadRequest},
		{"an unknown key", "POST", "application/json", `{"query":"{ __typename }","qeury":"x"}`, "", nil, http.StatusBadRequest},
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
		{"GET with query twice", "GET", "", "", "query=%7B__typename%7D&query=%7B__typename%7D", nil, http.StatusBadRequest},
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
			p, f := admitRequest(httptest.NewRecorder(), r)
			switch {
			case c.want == 0 && f != nil:
				t.Fatalf("refused with %d %q, want admitted", f.status, f.message)
			case c.want != 0 && f == nil:
				t.Fatalf("admitted, want %d", c.want)
			case f != nil && f.status != c.want:
				t.Fatalf("refused with %d, want %d", f.status, c.want)
			}
			if f == nil && p != nil && p.Query != "{ __typename }" && p.Query != "{__typename}" {
				t.Errorf("the query handed on is %q, want the one sent", p.Query)
			}
		})
	}
}

// FuzzGraphQLRequest: whatever the body and content type, the admission
// never panics; what it admits as JSON is exactly one envelope, which
// encoding/json reads the same way (so no key was matched loosely); what
// it refuses is a coded error that never echoes more than a short prefix
// of the body.
func FuzzGraphQLRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"query":"{ __typename }"}`))
	f.Add("application/json", []byte(`{"query":"query($s:String!){publicTracking(slug:$s){expiresAt}}","variables":{"s":"x"},"operationName":null}`))
	f.Add("application/json", []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`))
	f.Add("application/json", []byte(`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1}}}`))
	f.Add("application/json", []byte(`{"query":"{ __typename }","variables":"x"}`))
	f.Add("application/json", []byte(`{"query":"{ __typename }","Query":"mutation { logout }"}`))
	f.Add("application/json", []byte("\"\xff\""))
	f.Add("application/json; charset=utf-8", []byte(`{}`))
	f.Add("text/plain", []byte(`{"query":"mutation { logout }"}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\n"))
	f.Add("", []byte(``))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		params, ref := admitRequest(w, r)
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
			if n := len(resp.Errors[0].Message); n > len(envelopeKeys)+2*maxQuoted+64 {
				t.Fatalf("a refusal of %d bytes: %s", n, w.Body)
			}
			return
		}
		if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/json" {
			return
		}
		var loose graphql.RawParams
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&loose); err != nil {
			t.Fatalf("admitted %q, which encoding/json cannot decode: %v", body, err)
		}
		if loose.Query != params.Query || loose.OperationName != params.OperationName {
			t.Fatalf("admitted %q as query %q, encoding/json reads %q", body, params.Query, loose.Query)
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
		fields := map[string]bool{}
		for _, f := range c.fields {
			fields[f] = true
		}
		if got := operationLabel(fields, roots); got != c.want {
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
