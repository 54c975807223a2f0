package e2e

// Concurrent staff actions on one vehicle's link: the rule "each vehicle
// has at most one active link" holds, and regenerate leaves exactly one
// working URL.

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"importops/apptest"
)

const tlConcurrency = 16

// tlPost is env.Do for goroutines other than the test's: it returns an
// error instead of failing the test (t.Fatal must not be called there).
func tlPost(env *apptest.Env, token, query string, vars apptest.Vars) (apptest.Response, error) {
	res, raw, err := postGraphQL(env, token, query, vars)
	if err != nil {
		return apptest.Response{}, err
	}
	var out apptest.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return apptest.Response{}, fmt.Errorf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	out.Status, out.Body = res.StatusCode, raw
	return out, nil
}

// tlAllAtOnce sends the same operation n times, released together, and
// returns every response.
func tlAllAtOnce(t *testing.T, env *apptest.Env, n int, token, query string, vars apptest.Vars) []apptest.Response {
	t.Helper()
	out := make([]apptest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = tlPost(env, token, query, vars)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func TestConcurrentCreateTrackingLink(t *testing.T) {
	env, org := tlStart(t, "Concurrent Create Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)

	responses := tlAllAtOnce(t, env, tlConcurrency, org.Token,
		`mutation($v: ID!) { createTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": vehicleID})

	var winners []string
	for i, res := range responses {
		switch res.Code() {
		case "":
			var out struct{ CreateTrackingLink struct{ Slug string } }
			if err := json.Unmarshal(res.Data, &out); err != nil || out.CreateTrackingLink.Slug == "" {
				t.Fatalf("response %d: success without a slug: %s", i, res.Body)
			}
			winners = append(winners, out.CreateTrackingLink.Slug)
		case "CONFLICT":
		default:
			t.Errorf("response %d: code %q, want success or CONFLICT: %s", i, res.Code(), res.Body)
		}
	}
	t.Run("exactly one create succeeds", func(t *testing.T) {
		if len(winners) != 1 {
			t.Fatalf("%d creates succeeded (%v), want exactly 1; the others CONFLICT", len(winners), winners)
		}
	})
	t.Run("the database holds exactly one active link", func(t *testing.T) {
		if n := tlLinkCount(t, vehicleID, true); n != 1 {
			t.Fatalf("%d active links, want 1", n)
		}
	})
	t.Run("the vehicle's link is the one that won, and it works", func(t *testing.T) {
		if len(winners) != 1 {
			t.Skip("no single winner")
		}
		l := tlStaffLink(t, env, org.Token, vehicleID)
		if l == nil || l.Slug != winners[0] {
			t.Fatalf("vehicle.trackingLink = %+v, want slug %q", l, winners[0])
		}
		tlWantAvailable(t, env, winners[0])
	})
}

func TestConcurrentRegenerateTrackingLink(t *testing.T) {
	env, org := tlStart(t, "Concurrent Regenerate Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	original := createLink(t, env, org.Token, vehicleID, apptest.Vars{"showProgress": false})

	responses := tlAllAtOnce(t, env, tlConcurrency, org.Token, tlRegenerateQuery, apptest.Vars{"v": vehicleID})

	slugs := []string{original.Slug}
	seen := map[string]bool{original.Slug: true}
	t.Run("every call succeeds or fails cleanly", func(t *testing.T) {
		for i, res := range responses {
			switch code := res.Code(); code {
			case "":
				var out struct{ RegenerateTrackingLink staffLink }
				if err := json.Unmarshal(res.Data, &out); err != nil || out.RegenerateTrackingLink.Slug == "" {
					t.Fatalf("response %d: success without a slug: %s", i, res.Body)
				}
				l := out.RegenerateTrackingLink
				if seen[l.Slug] {
					t.Errorf("slug %q returned twice", l.Slug)
				}
				if l.ShowProgress {
					t.Errorf("regenerated link %q lost showProgress=false", l.Slug)
				}
				seen[l.Slug] = true
				slugs = append(slugs, l.Slug)
			case "INTERNAL_SERVER_ERROR":
				t.Errorf("response %d: INTERNAL_SERVER_ERROR: %s", i, res.Body)
			default:
				t.Logf("response %d failed cleanly with %s", i, code)
			}
		}
	})
	// Some regenerate must win: otherwise the original link is the one
	// that still works and nothing below would notice.
	if len(slugs) == 1 {
		t.Fatalf("none of the %d concurrent regenerates succeeded", tlConcurrency)
	}
	t.Run("exactly one URL still works and it is the vehicle's link", func(t *testing.T) {
		var working []string
		for _, s := range slugs {
			if publicTracking(t, env, s) != nil {
				working = append(working, s)
			}
		}
		if len(working) != 1 {
			t.Fatalf("%d of %d slugs work (%v), want exactly 1", len(working), len(slugs), working)
		}
		if working[0] == original.Slug {
			t.Fatalf("the original slug still works, not a regenerated one")
		}
		l := tlStaffLink(t, env, org.Token, vehicleID)
		if l == nil || l.Slug != working[0] {
			t.Fatalf("vehicle.trackingLink = %+v, want the working slug %q", l, working[0])
		}
		if n := tlLinkCount(t, vehicleID, true); n != 1 {
			t.Fatalf("%d active links, want 1", n)
		}
	})
	t.Run("the original URL is dead", func(t *testing.T) {
		tlWantUnavailable(t, env, original.Slug)
	})
}
