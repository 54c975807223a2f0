package e2e

import (
	"net/http"
	"testing"

	"importops/apptest"
	"importops/db"
	"importops/db/dbtest"
)

// The SQL statements a request costs, counted by a wrapper around lib/pq's
// connections (every query, command, BEGIN/COMMIT and execution of a
// prepared statement; prepares are counted apart). The server runs on a
// pool of its own, so the counts are this test's alone.
func TestStatementCounts(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.New(t, conn)
	t.Parallel()
	fleet := env.SeedFleet(t, "Counted Imports", 100)

	// measure runs one request and returns the statements it cost.
	measure := func(t *testing.T, do func()) (statements, prepares int64) {
		t.Helper()
		s, p := count.Statements(), count.Prepares()
		do()
		return count.Statements() - s, count.Prepares() - p
	}

	t.Run("the staff list costs the same at 10 and 100 vehicles, at most 15", func(t *testing.T) {
		list := func(n int) func() {
			return func() {
				var out struct {
					Vehicles struct {
						Edges []struct {
							Node struct {
								Customer     *struct{ ID string }
								HeroPhoto    *struct{ ID string }
								Photos       []struct{ ID string }
								Notes        []struct{ Author *struct{ ID string } }
								Costs        []struct{ ID string }
								Payments     []struct{ ID string }
								TrackingLink *struct {
									Photos    []struct{ ID string }
									CreatedBy *struct{ ID string }
								}
							}
						}
					}
				}
				env.Do(t, fleet.Org.Token, apptest.FleetQuery, apptest.Vars{"first": n}).Decode(t, &out)
				if len(out.Vehicles.Edges) != n {
					t.Fatalf("vehicles(first: %d) returned %d edges", n, len(out.Vehicles.Edges))
				}
				// Every nested object is really there: a batch that lost
				// keys would show here, not in the count.
				for _, e := range out.Vehicles.Edges {
					v := e.Node
					if v.Customer == nil || v.HeroPhoto == nil || len(v.Photos) != 2 || len(v.Notes) != 2 ||
						v.Notes[0].Author == nil || len(v.Costs) != 1 || len(v.Payments) != 1 ||
						v.TrackingLink == nil || len(v.TrackingLink.Photos) != 1 || v.TrackingLink.CreatedBy == nil {
						t.Fatalf("vehicle with missing nested objects: %+v", v)
					}
				}
			}
		}
		// Dataloaders batch by time; repeat to catch a batch that splits.
		var counts []int64
		for range 3 {
			for _, n := range []int{10, 100} {
				s, p := measure(t, list(n))
				t.Logf("vehicles(first: %d): %d statements, %d prepares", n, s, p)
				counts = append(counts, s)
			}
		}
		for _, c := range counts {
			if c != counts[0] {
				t.Fatalf("statements per list vary with its length: %v (10, 100, 10, 100, …)", counts)
			}
		}
		if counts[0] > 15 {
			t.Fatalf("the staff list costs %d statements, want at most 15", counts[0])
		}
	})

	t.Run("publicTracking: cold at most 2, 20 warm none", func(t *testing.T) {
		slug := fleet.Slugs[0]
		public := func() {
			var out struct {
				PublicTracking *struct{ Vehicle struct{ Title string } }
			}
			env.Do(t, "", apptest.PublicQuery, apptest.Vars{"slug": slug}).Decode(t, &out)
			if out.PublicTracking == nil {
				t.Fatal("publicTracking is null for a working link")
			}
		}
		caWarm(t, env, slug) // the seeding's notifications have all arrived
		env.Tracking.Invalidate(db.FlushAll)
		s, p := measure(t, public)
		t.Logf("cold publicTracking: %d statements, %d prepares", s, p)
		if s > 2 {
			t.Fatalf("a cold publicTracking costs %d statements, want at most 2", s)
		}
		hits, _ := env.Tracking.CacheStats()
		s, _ = measure(t, func() {
			for range 20 {
				public()
			}
		})
		if s != 0 {
			t.Fatalf("20 warm publicTracking calls cost %d statements, want 0", s)
		}
		if h, _ := env.Tracking.CacheStats(); h-hits != 20 {
			t.Fatalf("cache hits went up by %d over 20 warm calls, want 20", h-hits)
		}
		// The page and its photos are served from the same cache.
		s, _ = measure(t, func() {
			if res, _ := env.Get(t, "/t/"+slug); res.StatusCode != http.StatusOK {
				t.Fatalf("GET /t/{slug}: status %d", res.StatusCode)
			}
		})
		if s != 0 {
			t.Fatalf("a warm tracking page costs %d statements, want 0", s)
		}
	})
}
