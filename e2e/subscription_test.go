package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/domain"
)

// The streams' events arrive within seconds; the tests never assert how
// fast.
const subWithin = 5 * time.Second

const subQuery = `subscription($s: String!) { publicTrackingUpdated(slug: $s) {
  organization { name language }
  progress { current stages { stage label current } }
  estimatedArrival
  notes { body }
  photos { caption }
} }`

type subView struct {
	Organization struct{ Name, Language string }
	Progress     *struct {
		Current string
		Stages  []struct {
			Stage, Label string
			Current      bool
		}
	}
	EstimatedArrival *string
	Notes            []struct{ Body string }
	Photos           []struct{ Caption *string }
}

// subNext waits for the next event, which must be a "next" without
// errors, and returns its view (nil for the end event).
func subNext(t *testing.T, s *apptest.Stream) *subView {
	t.Helper()
	ev := s.Next(t, subWithin)
	if ev.Kind != "next" {
		t.Fatalf("want a next event, got %q", ev.Kind)
	}
	var p struct {
		Data *struct {
			PublicTrackingUpdated *subView
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatalf("event payload %s: %v", ev.Payload, err)
	}
	if len(p.Errors) > 0 || p.Data == nil {
		t.Fatalf("event with errors: %s", ev.Payload)
	}
	return p.Data.PublicTrackingUpdated
}

// subWantEnd: the next event is null, then the stream completes.
func subWantEnd(t *testing.T, s *apptest.Stream) {
	t.Helper()
	if v := subNext(t, s); v != nil {
		t.Fatalf("want null (link not available), got %+v", v)
	}
	if ev := s.Next(t, subWithin); ev.Kind != "complete" {
		t.Fatalf("after null want complete, got %q", ev.Kind)
	}
}

func subOpen(t *testing.T, env *apptest.Env, transport, slug string) *apptest.Stream {
	t.Helper()
	return env.Subscribe(t, transport, subQuery, apptest.Vars{"s": slug})
}

var subTransports = []string{apptest.SSE, apptest.SSEGet, apptest.WebSocket}

func TestSubscriptionFollowsChanges(t *testing.T) {
	env, org := tlStart(t, "Live Imports", "DE")
	for _, tr := range subTransports {
		t.Run(tr, func(t *testing.T) {
			vehicleID := createVehicle(t, env, org.Token, apptest.Vars{"year": 2020, "make": "BMW", "model": "X5", "stage": "PURCHASED"})
			link := createLink(t, env, org.Token, vehicleID, nil)
			s := subOpen(t, env, tr, link.Slug)

			first := subNext(t, s)
			if first == nil || first.Progress == nil || first.Progress.Current != "PURCHASED" {
				t.Fatalf("first event: want the current view at PURCHASED, got %+v", first)
			}
			if first.Organization.Language != "de" || first.Progress.Stages[0].Label != "Gekauft" {
				t.Fatalf("first event: want German labels, got %+v", first)
			}

			steps := []struct {
				name  string
				do    func()
				check func(v *subView) bool
			}{
				{"stage", func() {
					env.Do(t, org.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {stage: IN_TRANSIT}) { id } }`, apptest.Vars{"v": vehicleID})
				}, func(v *subView) bool { return v.Progress != nil && v.Progress.Current == "IN_TRANSIT" }},
				{"estimated arrival", func() {
					env.Do(t, org.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {estimatedArrival: "2027-01-15"}) { id } }`, apptest.Vars{"v": vehicleID})
				}, func(v *subView) bool { return v.EstimatedArrival != nil && *v.EstimatedArrival == "2027-01-15" }},
				{"customer note", func() {
					addNote(t, env, org.Token, vehicleID, "Auf dem Schiff.", "CUSTOMER")
				}, func(v *subView) bool { return len(v.Notes) == 1 && v.Notes[0].Body == "Auf dem Schiff." }},
				{"picked photo", func() {
					p := tlUploadPhoto(t, env, org.Token, vehicleID, "Am Hafen", 10, 10)
					updateLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p.ID}})
				}, func(v *subView) bool { return len(v.Photos) == 1 && *v.Photos[0].Caption == "Am Hafen" }},
				{"options", func() {
					updateLink(t, env, org.Token, vehicleID, apptest.Vars{"showProgress": false})
				}, func(v *subView) bool { return v.Progress == nil }},
				{"organization name", func() {
					env.Do(t, org.Token, `mutation { updateOrganization(input: {name: "Live Imports GmbH"}) { id } }`, nil)
				}, func(v *subView) bool { return v.Organization.Name == "Live Imports GmbH" }},
				{"language", func() {
					env.Do(t, org.Token, `mutation { updateOrganization(input: {language: "fr", name: "Live Imports"}) { id } }`, nil)
				}, func(v *subView) bool { return v.Organization.Language == "fr" }},
			}
			for _, st := range steps {
				st.do()
				if v := subNext(t, s); v == nil || !st.check(v) {
					t.Fatalf("after the %s change: got %+v", st.name, v)
				}
			}
			env.Do(t, org.Token, `mutation { updateOrganization(input: {language: "de"}) { id } }`, nil)
			subNext(t, s)

			// An internal note changes nothing the customer sees: no event.
			addNote(t, env, org.Token, vehicleID, "Zoll anrufen", "INTERNAL")
			if ev, quiet := s.Quiet(time.Second); !quiet {
				t.Fatalf("an internal note sent an event: %s", ev.Payload)
			}

			tlRevoke(t, env, org.Token, vehicleID)
			subWantEnd(t, s)
		})
	}
}

func TestSubscriptionEnds(t *testing.T) {
	env, org := tlStart(t, "Ending Imports", "NZ")
	for _, tr := range subTransports {
		t.Run(tr, func(t *testing.T) {
			t.Run("unknown slug", func(t *testing.T) {
				subWantEnd(t, subOpen(t, env, tr, tlRandomSlug()))
			})
			t.Run("regenerate", func(t *testing.T) {
				vehicleID := newVehicle(t, env, org.Token)
				link := createLink(t, env, org.Token, vehicleID, nil)
				s := subOpen(t, env, tr, link.Slug)
				if subNext(t, s) == nil {
					t.Fatal("first event is null")
				}
				fresh := tlRegenerate(t, env, org.Token, vehicleID)
				subWantEnd(t, s)
				// The new slug streams.
				if subNext(t, subOpen(t, env, tr, fresh.Slug)) == nil {
					t.Fatal("the regenerated link's stream starts with null")
				}
			})
			t.Run("expiry while open", func(t *testing.T) {
				vehicleID := newVehicle(t, env, org.Token)
				link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"expiresAt": tlFuture(2 * time.Second)})
				s := subOpen(t, env, tr, link.Slug)
				if subNext(t, s) == nil {
					t.Fatal("first event is null")
				}
				// No write happens: the stream ends at expiresAt by itself.
				subWantEnd(t, s)
			})
			t.Run("vehicle deleted", func(t *testing.T) {
				vehicleID := newVehicle(t, env, org.Token)
				link := createLink(t, env, org.Token, vehicleID, nil)
				s := subOpen(t, env, tr, link.Slug)
				subNext(t, s)
				tlDeleteVehicle(t, env, org.Token, vehicleID)
				subWantEnd(t, s)
			})
		})
	}
}

func TestSubscriptionLocked(t *testing.T) {
	env, org := tlStart(t, "Locked Imports", "NZ")
	var streams []*apptest.Stream
	for _, tr := range subTransports {
		vehicleID := newVehicle(t, env, org.Token)
		link := createLink(t, env, org.Token, vehicleID, nil)
		s := subOpen(t, env, tr, link.Slug)
		if subNext(t, s) == nil {
			t.Fatal("first event is null")
		}
		streams = append(streams, s)
	}
	if _, err := env.Store.SetSubscription(context.Background(), org.ID, domain.SubscriptionLocked); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		subWantEnd(t, s)
	}
}

// Another organization's writes never reach a stream, even for a vehicle
// that looks the same.
func TestSubscriptionOtherOrganization(t *testing.T) {
	env, org := tlStart(t, "Watched Imports", "NZ")
	other := env.NewOrg(t, "Other Imports", "NZ")
	for _, tr := range subTransports {
		t.Run(tr, func(t *testing.T) {
			mine := newVehicle(t, env, org.Token)
			link := createLink(t, env, org.Token, mine, nil)
			theirs := newVehicle(t, env, other.Token)
			createLink(t, env, other.Token, theirs, nil)
			s := subOpen(t, env, tr, link.Slug)
			subNext(t, s)

			env.Do(t, other.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {stage: DELIVERED}) { id } }`, apptest.Vars{"v": theirs})
			addNote(t, env, other.Token, theirs, "Not yours", "CUSTOMER")
			env.Do(t, other.Token, `mutation { updateOrganization(input: {name: "Renamed Other"}) { id } }`, nil)
			if _, err := env.Store.SetSubscription(context.Background(), other.ID, domain.SubscriptionLocked); err != nil {
				t.Fatal(err)
			}
			if ev, quiet := s.Quiet(1500 * time.Millisecond); !quiet {
				t.Fatalf("another organization's change was delivered: %s", ev.Payload)
			}
			if _, err := env.Store.SetSubscription(context.Background(), other.ID, domain.SubscriptionActive); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A change made through one server reaches a stream on another server of
// the same database, through LISTEN/NOTIFY.
func TestSubscriptionSecondInstance(t *testing.T) {
	a := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	b := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	t.Parallel()
	org := a.NewOrg(t, "Replica Imports", "JP")
	for _, tr := range subTransports {
		t.Run(tr, func(t *testing.T) {
			vehicleID := newVehicle(t, a, org.Token)
			link := createLink(t, a, org.Token, vehicleID, nil)
			s := subOpen(t, b, tr, link.Slug)
			if v := subNext(t, s); v == nil || v.Progress.Current != "PURCHASED" {
				t.Fatalf("first event on b: %+v", v)
			}
			a.Do(t, org.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {stage: ARRIVED}) { id } }`, apptest.Vars{"v": vehicleID})
			v := subNext(t, s)
			if v == nil || v.Progress.Current != "ARRIVED" || v.Progress.Stages[3].Label != "到着" {
				t.Fatalf("b did not deliver a's stage change: %+v", v)
			}
			tlRevoke(t, a, org.Token, vehicleID)
			subWantEnd(t, s)
		})
	}
}

// Streams per client address are limited when rate limits are on.
func TestSubscriptionLimitPerClient(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"RATE_LIMITS": "on"}})
	t.Parallel()
	org := env.NewOrg(t, "Busy Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	link := createLink(t, env, org.Token, vehicleID, nil)
	var open []*apptest.Stream
	for range 16 {
		s := subOpen(t, env, apptest.SSE, link.Slug)
		if subNext(t, s) == nil {
			t.Fatal("first event is null")
		}
		open = append(open, s)
	}
	ev := subOpen(t, env, apptest.SSE, link.Slug).Next(t, subWithin)
	var p struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil || len(p.Errors) == 0 || p.Errors[0].Extensions.Code != "RATE_LIMITED" {
		t.Fatalf("17th stream of one client: want RATE_LIMITED, got %s", ev.Payload)
	}
	// A closed stream frees its slot.
	open[0].Close()
	deadline := time.Now().Add(subWithin)
	for {
		s := subOpen(t, env, apptest.SSE, link.Slug)
		ev := s.Next(t, subWithin)
		var q struct{ Errors []json.RawMessage }
		if json.Unmarshal(ev.Payload, &q) == nil && len(q.Errors) == 0 {
			break
		}
		s.Close()
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot was not given back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// GET with Accept: text/event-stream runs subscriptions only: a mutation
// (or a query) is refused and runs nothing.
func TestSubscriptionOverGETRefusesOthers(t *testing.T) {
	env, org := tlStart(t, "Get Imports", "NZ")
	for _, op := range []string{
		`mutation { updateOrganization(input: {name: "Changed over GET"}) { id } }`,
		`query { viewer { user { id } } }`,
	} {
		req, _ := http.NewRequest(http.MethodGet, env.BaseURL+"/graphql?"+url.Values{"query": {op}}.Encode(), nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+org.Token)
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(body), `"BAD_USER_INPUT"`) {
			t.Errorf("%s over GET SSE: status %d, body %s", op, res.StatusCode, body)
		}
	}
	var out struct {
		Viewer struct{ Organization struct{ Name string } }
	}
	env.Do(t, org.Token, `{ viewer { organization { name } } }`, nil).Decode(t, &out)
	if out.Viewer.Organization.Name != "Get Imports" {
		t.Fatalf("a mutation over GET ran: name %q", out.Viewer.Organization.Name)
	}
}
