package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestTracesExportedOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, serve
// sends its spans to that collector over OTLP/HTTP (a stand-in collector
// here: the one fake, for a service outside our control), at the latest
// when it shuts down; the spans name routes and operations, and carry no
// token. Without the variable, nothing is sent (the other tests run with
// a collector nowhere).
func TestTracesExportedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	// The exporter reads the standard variables from the process itself.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	env := testEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})
	org := createOrgJSON(t, env, randomEmail())

	s, stop := startServeStoppable(t, env)
	var viewer map[string]any
	s.gql(t, org.Token, `query TracedViewer { viewer { user { email } } }`, nil, &viewer)
	stop()

	mu.Lock()
	all := bytes.Join(bodies, nil)
	mu.Unlock()
	for _, want := range []string{"POST /graphql", "query TracedViewer", "importops", "db.query.text"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("the exported spans lack %q (%d exports, %d bytes)", want, len(bodies), len(all))
		}
	}
	if bytes.Contains(all, []byte(org.Token)) {
		t.Error("the exported spans carry the bearer token")
	}
}

// startServeStoppable is startServe with a stop that returns once serve
// has shut down.
func startServeStoppable(t *testing.T, env func(string) string) (*serveRun, func()) {
	t.Helper()
	var stop func()
	s := startServeWith(t, env, func(f func()) { stop = f })
	return s, stop
}
