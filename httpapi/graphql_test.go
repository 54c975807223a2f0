package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"importops/config"
	"importops/tracking"
)

// A panic in a resolver (here in the lookup it waits for) is that one
// field's "internal error", logged with its stack; the server answers the
// next request as usual.
func TestPanicInResolver(t *testing.T) {
	cfg, err := config.FromEnv(func(k string) string {
		if k == "RATE_LIMITS" {
			return "off"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	// A tracking service without a store: a plausible slug makes
	// publicTracking's resolver dereference nil.
	h := New(Deps{
		Config:   cfg,
		Tracking: tracking.NewService(nil, "http://localhost"),
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(query string) (int, []byte) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"query": query})
		res, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	slug := strings.Repeat("A", tracking.SlugLen)
	status, body := post(`{ publicTracking(slug: "` + slug + `") { expiresAt } }`)
	var resp struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Errors) != 1 {
		t.Fatalf("status %d, body %s; want one error", status, body)
	}
	if e := resp.Errors[0]; e.Message != "internal error" || e.Extensions.Code != "INTERNAL_SERVER_ERROR" {
		t.Errorf("error = %+v, want internal error / INTERNAL_SERVER_ERROR", e)
	}
	if bytes.Contains(body, []byte("goroutine")) || bytes.Contains(body, []byte("nil pointer")) {
		t.Errorf("the answer carries the panic: %s", body)
	}
	// The lookup's statement runs apart from the resolver (tracking's
	// batcher), which hands the panic back as an error with its stack.
	if !strings.Contains(logs.String(), "panic") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs.String())
	}
	if status, body := post(`{ __typename }`); status != http.StatusOK || !bytes.Contains(body, []byte(`"Query"`)) {
		t.Errorf("after the panic: %d %s", status, body)
	}
}
