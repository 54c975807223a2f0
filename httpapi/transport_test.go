package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestRequestErrorStatus(t *testing.T) {
	coded := func(code string) gqlerror.List {
		err := gqlerror.Errorf("x")
		if code != "" {
			errcode.Set(err, code)
		}
		return gqlerror.List{err}
	}
	cases := []struct {
		accept, code string
		wantType     string
		wantStatus   int
	}{
		{"", errcode.ValidationFailed, mediaJSON, http.StatusUnprocessableEntity},
		{"*/*", errcode.ParseFailed, mediaJSON, http.StatusUnprocessableEntity},
		{"", "PERSISTED_QUERY_NOT_FOUND", mediaJSON, http.StatusOK},
		{"application/json", errcode.ValidationFailed, mediaJSON, http.StatusOK},
		{"application/json; charset=utf-8", codeComplexity, mediaJSON, http.StatusOK},
		{"application/graphql-response+json", errcode.ValidationFailed, mediaGraphQLResponse, http.StatusBadRequest},
		{"application/graphql-response+json, application/json;q=0.9", "PERSISTED_QUERY_NOT_FOUND", mediaGraphQLResponse, http.StatusBadRequest},
		{"text/html", errcode.ValidationFailed, mediaGraphQLResponse, http.StatusBadRequest},
	}
	for _, c := range cases {
		ct, explicit := negotiate(c.accept)
		if ct != c.wantType {
			t.Errorf("Accept %q: content type %q, want %q", c.accept, ct, c.wantType)
		}
		if got := requestErrorStatus(coded(c.code), ct, explicit); got != c.wantStatus {
			t.Errorf("Accept %q, code %s: status %d, want %d", c.accept, c.code, got, c.wantStatus)
		}
	}
}

func TestQuoteInput(t *testing.T) {
	if got := quoteInput(strings.Repeat("é", 1000)); len(got) > maxQuoted+8 || !strings.HasSuffix(got, `…"`) {
		t.Errorf("quoteInput of 2,000 bytes = %d bytes %q", len(got), got)
	}
	if got := quoteInput("query"); got != `"query"` {
		t.Errorf("quoteInput(query) = %s", got)
	}
}
