package perf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"importops/apptest"
)

// BenchmarkSeedVehicle: one vehicle as scripts/load-scale seeds it, a
// createVehicle then a createTrackingLink, from 8 concurrent clients: the
// statements and time of the two mutations.
//
//	go test -run '^$' -bench SeedVehicle -benchtime 2000x -cpuprofile cpu.out ./perf
func BenchmarkSeedVehicle(b *testing.B) {
	env, count := start(b)
	org := env.NewOrg(b, fmt.Sprintf("Seeding Imports %p", b), "NZ")
	var n atomic.Int64
	seedOne := func() {
		i := n.Add(1)
		var v struct {
			Data struct{ CreateVehicle struct{ ID string } }
		}
		postDecode(b, env, org.Token, body(`mutation ($in: CreateVehicleInput!) { createVehicle(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"year": 2019, "make": "Toyota", "model": "Land Cruiser",
				"vin": fmt.Sprintf("JTM%014d", i), "stockNumber": fmt.Sprintf("B-%d", i), "stage": "IN_TRANSIT",
				"agreedSalePrice": map[string]any{"amount": "45000.00", "currency": "NZD"}}}), &v)
		postDecode(b, env, org.Token, body(`mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { url } }`,
			map[string]any{"v": v.Data.CreateVehicle.ID}), nil)
	}
	seedOne()
	s := count.Statements()
	b.ReportAllocs()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((8 + procs - 1) / procs) // goroutines: parallelism × GOMAXPROCS
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			seedOne()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(count.Statements()-s)/float64(b.N), "stmts/op")
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "mutations/s")
}

// postDecode is post, decoding the answer into out (when not nil).
func postDecode(b *testing.B, env *apptest.Env, token string, q []byte, out any) {
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(q))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := env.Server.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
		b.Fatalf("status %d: %s (%v)", res.StatusCode, raw, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.Fatal(err)
		}
	}
}
