// Package perf holds the server's benchmarks: the public tracking query
// (cold, warm, and rendered from the cached link) and the staff vehicle
// list at 10 and 100 vehicles, each through the real HTTP handler on
// loopback over PostgreSQL.
//
//	go test -run '^$' -bench . -benchmem ./perf
//
// Each reports, besides time and allocations (client and server together,
// one process), the SQL statements per operation. Without -bench nothing
// here runs and no database is created.
package perf

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"importops/apptest"
	"importops/db"
	"importops/db/dbtest"
)

var testDB *sqlx.DB

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	dbtest.Main(m, "perf", &testDB)
}

// The fleet lives in the database for the whole run; each benchmark run
// starts a fresh server over it.
var (
	fleetOnce sync.Once
	fleet     apptest.Fleet
)

func start(b *testing.B) (*apptest.Env, *dbtest.Counter) {
	b.Helper()
	conn, count := dbtest.OpenCounting(b)
	env := apptest.New(b, conn)
	fleetOnce.Do(func() { fleet = env.SeedFleet(b, "Benchmark Imports", 100) })
	return env, count
}

// post sends one GraphQL request the way a client would and checks it
// answered without errors.
func post(b *testing.B, env *apptest.Env, token string, body []byte) {
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) ||
		bytes.Contains(out, []byte(`"publicTracking":null`)) {
		b.Fatalf("status %d: %s (%v)", res.StatusCode, out, err)
	}
}

func body(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func run(b *testing.B, count *dbtest.Counter, op func()) {
	op() // the statement is prepared, the connection open
	b.ReportAllocs()
	s, n := count.Statements(), 0
	for b.Loop() {
		op()
		n++
	}
	b.ReportMetric(float64(count.Statements()-s)/float64(n), "stmts/op")
}

// BenchmarkPublicTrackingCold: every lookup misses the cache and reads the
// database.
func BenchmarkPublicTrackingCold(b *testing.B) {
	env, count := start(b)
	q := body(apptest.PublicQuery, map[string]any{"slug": fleet.Slugs[0]})
	run(b, count, func() {
		env.Tracking.Invalidate(db.FlushAll)
		post(b, env, "", q)
	})
}

// BenchmarkPublicTrackingWarm: every request is answered with the bytes
// stored for it (httpapi/publiccache.go), checked against the cached link.
func BenchmarkPublicTrackingWarm(b *testing.B) {
	env, count := start(b)
	q := body(apptest.PublicQuery, map[string]any{"slug": fleet.Slugs[0]})
	run(b, count, func() { post(b, env, "", q) })
}

// BenchmarkPublicTrackingRendered: the link is cached, but the request is
// too large (trailing blanks) for the answer cache: GraphQL executes and
// marshals the view each time, as for a request seen for the first time.
func BenchmarkPublicTrackingRendered(b *testing.B) {
	env, count := start(b)
	q := append(body(apptest.PublicQuery, map[string]any{"slug": fleet.Slugs[0]}), bytes.Repeat([]byte(" "), 4096)...)
	run(b, count, func() { post(b, env, "", q) })
}

func benchmarkVehicles(b *testing.B, n int) {
	env, count := start(b)
	q := body(apptest.FleetQuery, map[string]any{"first": n})
	run(b, count, func() { post(b, env, fleet.Org.Token, q) })
}

// The staff list, every field of the contract selected.
func BenchmarkVehiclesList10(b *testing.B)  { benchmarkVehicles(b, 10) }
func BenchmarkVehiclesList100(b *testing.B) { benchmarkVehicles(b, 100) }

// BenchmarkTrackingPageWarm: the customer page, answered with the bytes
// stored on its cached link.
func BenchmarkTrackingPageWarm(b *testing.B) {
	env, count := start(b)
	url := env.BaseURL + "/t/" + fleet.Slugs[0]
	run(b, count, func() {
		res, err := env.Server.Client().Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || n < 1000 {
			b.Fatalf("status %d, %d bytes", res.StatusCode, n)
		}
	})
}

// BenchmarkPublicTrackingHandler: a warm publicTracking request through
// the root http.Handler, called directly, without a client or a
// connection: the cost of our own code on the hot path (the middleware
// chain and the stored answer), allocations included.
func BenchmarkPublicTrackingHandler(b *testing.B) {
	env, count := start(b)
	q := body(apptest.PublicQuery, map[string]any{"slug": fleet.Slugs[0]})
	h := env.Server.Handler
	rd := bytes.NewReader(q)
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", rd)
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{header: http.Header{}}
	run(b, count, func() {
		rd.Reset(q)
		req.Body = io.NopCloser(rd) // the handler may replace it
		clear(w.header)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n < 500 {
			b.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	})
}

type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
