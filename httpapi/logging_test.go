package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"importops/config"
)

// A panic outside a resolver (here /readyz without a store) is that
// request's 500, logged with its stack; the server keeps serving.
func TestPanicInHandler(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := httptest.NewServer(New(Deps{Config: cfg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusInternalServerError || string(body) != "internal error\n" {
		t.Errorf("a panicking handler: %d %q, want 500 internal error", res.StatusCode, body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), `"outcome":"INTERNAL_SERVER_ERROR"`) {
		t.Errorf("the panic or its request line is missing from the logs:\n%s", logs.String())
	}
	res, err = http.Get(srv.URL + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("after the panic: %v %v", res, err)
	}
	res.Body.Close()
}
