package e2e

import (
	"testing"

	"importops/apptest"
	"importops/db/dbtest"
)

// TestLinkDeskStatementCounts: the org-wide list with each link's events
// (and their actors), vehicle, creator, state and share message costs the
// same number of statements for 10 links as for 50: every nested field is
// read through a dataloader, one batch per kind.
func TestLinkDeskStatementCounts(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.New(t, conn)
	t.Parallel()
	fleet := env.SeedFleet(t, "Counted Links", 50)
	// A second event on some links, so events are really batched lists.
	for _, vid := range fleet.VehicleIDs[:20] {
		updateLink(t, env, fleet.Org.Token, vid, map[string]any{"showProgress": false})
	}
	const query = `query($first: Int!) { trackingLinks(first: $first) { totalCount edges { node {
		id state endedAt openCount shareMessage
		events { kind at changed actor { id name } }
		vehicle { id title }
		createdBy { id name }
	} } } }`
	list := func(n int) int64 {
		before := count.Statements()
		var out struct {
			TrackingLinks struct {
				Edges []struct {
					Node struct {
						State     string
						Events    []struct{ Actor *struct{ ID string } }
						Vehicle   *struct{ ID string }
						CreatedBy *struct{ ID string }
					}
				}
			}
		}
		env.Do(t, fleet.Org.Token, query, apptest.Vars{"first": n}).Decode(t, &out)
		if len(out.TrackingLinks.Edges) != n {
			t.Fatalf("trackingLinks(first: %d) returned %d edges", n, len(out.TrackingLinks.Edges))
		}
		for _, e := range out.TrackingLinks.Edges {
			l := e.Node
			if l.State != "LIVE" || len(l.Events) == 0 || l.Events[0].Actor == nil || l.Vehicle == nil || l.CreatedBy == nil {
				t.Fatalf("link with missing nested objects: %+v", l)
			}
		}
		return count.Statements() - before
	}
	// Dataloaders batch by time; repeat to catch a batch that splits.
	var counts []int64
	for range 3 {
		for _, n := range []int{10, 50} {
			s := list(n)
			t.Logf("trackingLinks(first: %d): %d statements", n, s)
			counts = append(counts, s)
		}
	}
	for _, c := range counts {
		if c != counts[0] {
			t.Fatalf("statements per list vary with its length: %v (10, 50, 10, 50, …)", counts)
		}
	}
	// The token, the page, its count, then one batch each: the
	// organization, vehicles, events with their actors, creators.
	if counts[0] > 7 {
		t.Fatalf("the list costs %d statements, want at most 7", counts[0])
	}

	// totalCount is counted only when it is selected.
	bare := func(q string) int64 {
		before := count.Statements()
		env.Do(t, fleet.Org.Token, q, nil).Decode(t, &struct{}{})
		return count.Statements() - before
	}
	without := bare(`{ trackingLinks(first: 10) { edges { node { id } } } }`)
	with := bare(`{ trackingLinks(first: 10) { totalCount edges { node { id } } } }`)
	if with != without+1 {
		t.Fatalf("trackingLinks costs %d statements without totalCount and %d with it: want exactly one more with it", without, with)
	}
}
