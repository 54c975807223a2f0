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

// A reverse proxy left out of TRUSTED_PROXIES is reported, once.
func TestUntrustedProxyIsReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted string
		want    int
	}{
		{"untrusted loopback proxy", "", 1},
		{"trusted proxy", "127.0.0.1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.FromEnv(func(k string) string {
				if k == "TRUSTED_PROXIES" {
					return tc.trusted
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			srv := httptest.NewServer(New(Deps{Config: cfg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
			defer srv.Close()
			for i := 0; i < 3; i++ {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
				req.Header.Set("X-Forwarded-For", "203.0.113.7")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			if n := strings.Count(logs.String(), `"level":"WARN"`); n != tc.want {
				t.Errorf("warnings: %d, want %d:\n%s", n, tc.want, logs.String())
			}
		})
	}
}
