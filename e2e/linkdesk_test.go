package e2e

// End-to-end tests of the link desk (shared/spec/link-desk.graphql, issue
// 11): link states, history, the org-wide list, previews, the share kit and
// links that retire after delivery. Open counting is in
// linkdesk_opens_test.go. Helpers are prefixed "ld".

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/domain"
	"importops/media"
	"importops/tracking"
)

// ldLink is a TrackingLink with the link desk's fields.
type ldLink struct {
	ID        string
	Slug      string
	URL       string
	State     string
	EndedAt   *time.Time
	ExpiresAt *time.Time
	CreatedAt time.Time
	OpenCount int
	Vehicle   *struct{ ID string }
	CreatedBy *struct{ ID string }
	Events    []ldEvent
}

type ldEvent struct {
	Kind    string
	At      time.Time
	Actor   *struct{ ID string }
	Changed []string
}

func (l ldLink) kinds() []string {
	out := make([]string, len(l.Events))
	for i, e := range l.Events {
		out[i] = e.Kind
	}
	return out
}

const ldLinkFields = `id slug url state endedAt expiresAt createdAt openCount
	vehicle { id } createdBy { id } events { kind at actor { id } changed }`

// ldHistory is vehicle(id).trackingLinkHistory, newest first.
func ldHistory(t *testing.T, env *apptest.Env, token, vehicleID string) []ldLink {
	t.Helper()
	var out struct {
		Vehicle struct{ TrackingLinkHistory []ldLink }
	}
	env.Do(t, token, `query($id: ID!) { vehicle(id: $id) { trackingLinkHistory { `+ldLinkFields+` } } }`,
		apptest.Vars{"id": vehicleID}).Decode(t, &out)
	return out.Vehicle.TrackingLinkHistory
}

type ldConnection struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
	Edges []struct {
		Cursor string
		Node   ldLink
	}
}

func (c ldConnection) ids() []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

const ldListQuery = `query($first: Int, $after: String, $state: TrackingLinkState, $before: Time) {
	trackingLinks(first: $first, after: $after, state: $state, expiringBefore: $before) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ` + ldLinkFields + ` } }
	}
}`

func ldList(t *testing.T, env *apptest.Env, token string, vars apptest.Vars) ldConnection {
	t.Helper()
	var out struct{ TrackingLinks ldConnection }
	env.Do(t, token, ldListQuery, vars).Decode(t, &out)
	return out.TrackingLinks
}

// ldLinkByID finds one of the organization's links in the org-wide list
// (ended links included: a deleted vehicle's link is only there).
func ldLinkByID(t *testing.T, env *apptest.Env, token, id string) ldLink {
	t.Helper()
	for _, e := range ldList(t, env, token, apptest.Vars{"first": 100}).Edges {
		if e.Node.ID == id {
			return e.Node
		}
	}
	t.Fatalf("link %s is not in trackingLinks", id)
	return ldLink{}
}

// ldWantState asserts the link's state and that state == LIVE exactly
// when both public paths work.
func ldWantState(t *testing.T, env *apptest.Env, token, linkID, slug, want string) ldLink {
	t.Helper()
	l := ldLinkByID(t, env, token, linkID)
	if l.State != want {
		t.Fatalf("link state = %s, want %s", l.State, want)
	}
	if want == "LIVE" {
		tlWantAvailable(t, env, slug)
	} else {
		tlWantUnavailable(t, env, slug)
	}
	return l
}

func ldSetSubscription(t *testing.T, env *apptest.Env, orgID string, s domain.SubscriptionStatus) {
	t.Helper()
	if _, err := env.Store.SetSubscription(context.Background(), orgID, s); err != nil {
		t.Fatalf("set subscription %s: %v", s, err)
	}
}

func ldSetStage(t *testing.T, env *apptest.Env, token, vehicleID, stage string) {
	t.Helper()
	env.Do(t, token, `mutation($id: ID!, $in: UpdateVehicleInput!) { updateVehicle(id: $id, input: $in) { id } }`,
		apptest.Vars{"id": vehicleID, "in": apptest.Vars{"stage": stage}}).Decode(t, &struct{}{})
}

func TestLinkDeskStates(t *testing.T) {
	env, org := tlStart(t, "State Imports", "NZ")
	vid := newVehicle(t, env, org.Token)
	first := createLink(t, env, org.Token, vid, nil)

	l := ldWantState(t, env, org.Token, first.ID, first.Slug, "LIVE")
	if l.EndedAt != nil || l.Vehicle == nil || l.Vehicle.ID != vid {
		t.Fatalf("a new link: endedAt %v, vehicle %+v; want null and its vehicle", l.EndedAt, l.Vehicle)
	}

	// Expiry, and moving it brings the same URL back.
	apptest.ExpireLink(t, testDB, first.Slug)
	ldWantState(t, env, org.Token, first.ID, first.Slug, "EXPIRED")
	// Expired and suspended: the organization-wide cause shows.
	ldSetSubscription(t, env, org.ID, domain.SubscriptionLocked)
	ldWantState(t, env, org.Token, first.ID, first.Slug, "SUSPENDED")
	ldSetSubscription(t, env, org.ID, domain.SubscriptionActive)
	ldWantState(t, env, org.Token, first.ID, first.Slug, "EXPIRED")
	updateLink(t, env, org.Token, vid, apptest.Vars{"expiresAt": tlFuture(time.Hour)})
	ldWantState(t, env, org.Token, first.ID, first.Slug, "LIVE")
	apptest.ExpireLink(t, testDB, first.Slug)
	updateLink(t, env, org.Token, vid, apptest.Vars{"expiresAt": nil})
	ldWantState(t, env, org.Token, first.ID, first.Slug, "LIVE")

	// Every status that is not open suspends; TRIALING works.
	for _, s := range []domain.SubscriptionStatus{domain.SubscriptionPastDue, domain.SubscriptionLocked, domain.SubscriptionCanceled} {
		ldSetSubscription(t, env, org.ID, s)
		ldWantState(t, env, org.Token, first.ID, first.Slug, "SUSPENDED")
	}
	ldSetSubscription(t, env, org.ID, domain.SubscriptionTrialing)
	ldWantState(t, env, org.Token, first.ID, first.Slug, "LIVE")
	ldSetSubscription(t, env, org.ID, domain.SubscriptionActive)

	// Regenerate ends the old link for good; the new one is live.
	second := tlRegenerate(t, env, org.Token, vid)
	old := ldWantState(t, env, org.Token, first.ID, first.Slug, "ENDED")
	if old.EndedAt == nil || old.Vehicle == nil || old.Vehicle.ID != vid {
		t.Fatalf("a regenerated link: endedAt %v, vehicle %+v; want set and its vehicle", old.EndedAt, old.Vehicle)
	}
	ldWantState(t, env, org.Token, second.ID, second.Slug, "LIVE")
	// Ended stays ended whatever the subscription does.
	ldSetSubscription(t, env, org.ID, domain.SubscriptionLocked)
	ldWantState(t, env, org.Token, first.ID, first.Slug, "ENDED")
	ldWantState(t, env, org.Token, second.ID, second.Slug, "SUSPENDED")
	ldSetSubscription(t, env, org.ID, domain.SubscriptionActive)

	// Revoke.
	tlRevoke(t, env, org.Token, vid)
	revoked := ldWantState(t, env, org.Token, second.ID, second.Slug, "ENDED")
	if revoked.EndedAt == nil || revoked.Vehicle == nil {
		t.Fatalf("a revoked link: endedAt %v, vehicle %+v; want set and its vehicle", revoked.EndedAt, revoked.Vehicle)
	}

	// Deleting the vehicle ends its link; the vehicle then reads as null.
	third := createLink(t, env, org.Token, vid, nil)
	ldWantState(t, env, org.Token, third.ID, third.Slug, "LIVE")
	tlDeleteVehicle(t, env, org.Token, vid)
	gone := ldWantState(t, env, org.Token, third.ID, third.Slug, "ENDED")
	if gone.EndedAt == nil || gone.Vehicle != nil {
		t.Fatalf("the link of a deleted vehicle: endedAt %v, vehicle %+v; want set and null", gone.EndedAt, gone.Vehicle)
	}
	ldWantState(t, env, org.Token, first.ID, first.Slug, "ENDED")
}

func TestLinkDeskEvents(t *testing.T) {
	env, org := tlStart(t, "History Imports", "NZ")
	vid := newVehicle(t, env, org.Token)
	photo := tlUploadPhoto(t, env, org.Token, vid, "dock", 8, 8)
	first := createLink(t, env, org.Token, vid, nil)

	// UPDATED names exactly what changed; an update that changes nothing
	// records nothing.
	updateLink(t, env, org.Token, vid, apptest.Vars{"showProgress": false, "showPhoto": true})
	updateLink(t, env, org.Token, vid, apptest.Vars{"photoIds": []string{photo.ID}, "expiresAt": tlFuture(48 * time.Hour)})
	updateLink(t, env, org.Token, vid, apptest.Vars{"showProgress": false, "photoIds": []string{photo.ID}})
	updateLink(t, env, org.Token, vid, apptest.Vars{"showCustomerNotes": false, "showEstimatedArrival": false, "expiresAt": nil})
	second := tlRegenerate(t, env, org.Token, vid)
	tlRevoke(t, env, org.Token, vid)
	third := createLink(t, env, org.Token, vid, nil)
	tlDeleteVehicle(t, env, org.Token, vid)

	wantEvents := func(id string, want []ldEvent) {
		t.Helper()
		l := ldLinkByID(t, env, org.Token, id)
		if len(l.Events) != len(want) {
			t.Fatalf("link %s events %v, want %d events", id, l.kinds(), len(want))
		}
		for i, e := range l.Events {
			w := want[i]
			if e.Kind != w.Kind || !slices.Equal(e.Changed, w.Changed) {
				t.Fatalf("event %d = %s %v, want %s %v", i, e.Kind, e.Changed, w.Kind, w.Changed)
			}
			if e.Actor == nil || e.Actor.ID != org.UserID {
				t.Fatalf("event %d (%s): actor %+v, want the signed-in user %s", i, e.Kind, e.Actor, org.UserID)
			}
			if i > 0 && e.At.Before(l.Events[i-1].At) {
				t.Fatalf("events are not oldest first: %v", l.Events)
			}
		}
	}
	ev := func(kind string, changed ...string) ldEvent {
		if changed == nil {
			changed = []string{}
		}
		return ldEvent{Kind: kind, Changed: changed}
	}
	wantEvents(first.ID, []ldEvent{
		ev("CREATED"),
		ev("UPDATED", "showProgress"),
		ev("UPDATED", "photoIds", "expiresAt"),
		ev("UPDATED", "showEstimatedArrival", "showCustomerNotes", "expiresAt"),
		ev("REGENERATED"),
	})
	wantEvents(second.ID, []ldEvent{ev("CREATED"), ev("REVOKED")})
	wantEvents(third.ID, []ldEvent{ev("CREATED"), ev("VEHICLE_DELETED")})

	// The history cannot be rewritten, even by hand.
	for _, stmt := range []string{
		`UPDATE tracking_link_events SET kind = 'CREATED' WHERE link_id = $1`,
		`DELETE FROM tracking_link_events WHERE link_id = $1`,
	} {
		if _, err := testDB.ExecContext(context.Background(), stmt, first.ID); err == nil {
			t.Fatalf("%s succeeded: events must be append-only", stmt)
		}
	}
	wantEvents(first.ID, []ldEvent{
		ev("CREATED"), ev("UPDATED", "showProgress"), ev("UPDATED", "photoIds", "expiresAt"),
		ev("UPDATED", "showEstimatedArrival", "showCustomerNotes", "expiresAt"), ev("REGENERATED"),
	})
}

func TestLinkDeskListAndHistory(t *testing.T) {
	env, org := tlStart(t, "List Imports", "NZ")
	other := env.NewOrg(t, "Other Imports", "NZ")
	otherVehicle := newVehicle(t, env, other.Token)
	otherLink := createLink(t, env, other.Token, otherVehicle, nil)

	// Five vehicles: live, expiring in 2 days, expiring in 20 days,
	// expired, revoked.
	var vids []string
	for range 5 {
		vids = append(vids, newVehicle(t, env, org.Token))
	}
	live := createLink(t, env, org.Token, vids[0], nil)
	soon := createLink(t, env, org.Token, vids[1], apptest.Vars{"expiresAt": tlFuture(48 * time.Hour)})
	later := createLink(t, env, org.Token, vids[2], apptest.Vars{"expiresAt": tlFuture(20 * 24 * time.Hour)})
	expired := createLink(t, env, org.Token, vids[3], nil)
	apptest.ExpireLink(t, testDB, expired.Slug)
	revoked := createLink(t, env, org.Token, vids[4], nil)
	tlRevoke(t, env, org.Token, vids[4])
	replacement := createLink(t, env, org.Token, vids[4], nil)

	all := ldList(t, env, org.Token, apptest.Vars{})
	want := []string{replacement.ID, revoked.ID, expired.ID, later.ID, soon.ID, live.ID}
	if !slices.Equal(all.ids(), want) || all.TotalCount != 6 {
		t.Fatalf("trackingLinks = %v (total %d), want newest first %v (total 6)", all.ids(), all.TotalCount, want)
	}
	if slices.Contains(all.ids(), otherLink.ID) {
		t.Fatal("trackingLinks lists another organization's link")
	}

	byState := func(state string) []string {
		return ldList(t, env, org.Token, apptest.Vars{"state": state}).ids()
	}
	if got := byState("LIVE"); !slices.Equal(got, []string{replacement.ID, later.ID, soon.ID, live.ID}) {
		t.Fatalf("LIVE links = %v", got)
	}
	if got := byState("EXPIRED"); !slices.Equal(got, []string{expired.ID}) {
		t.Fatalf("EXPIRED links = %v, want %v", got, expired.ID)
	}
	if got := byState("ENDED"); !slices.Equal(got, []string{revoked.ID}) {
		t.Fatalf("ENDED links = %v, want %v", got, revoked.ID)
	}
	if got := byState("SUSPENDED"); len(got) != 0 {
		t.Fatalf("SUSPENDED links of an active organization = %v, want none", got)
	}
	ldSetSubscription(t, env, org.ID, domain.SubscriptionPastDue)
	if got := byState("SUSPENDED"); !slices.Equal(got, []string{replacement.ID, expired.ID, later.ID, soon.ID, live.ID}) {
		t.Fatalf("SUSPENDED links of a past-due organization = %v", got)
	}
	if got := byState("LIVE"); len(got) != 0 {
		t.Fatalf("LIVE links of a past-due organization = %v, want none", got)
	}
	ldSetSubscription(t, env, org.ID, domain.SubscriptionActive)

	// Expiring soon: expiresAt set and before the given time.
	week := time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	soonList := ldList(t, env, org.Token, apptest.Vars{"before": week})
	if !slices.Equal(soonList.ids(), []string{expired.ID, soon.ID}) || soonList.TotalCount != 2 {
		t.Fatalf("expiringBefore a week = %v (total %d), want %v", soonList.ids(), soonList.TotalCount, []string{expired.ID, soon.ID})
	}
	liveSoon := ldList(t, env, org.Token, apptest.Vars{"before": week, "state": "LIVE"})
	if !slices.Equal(liveSoon.ids(), []string{soon.ID}) || liveSoon.TotalCount != 1 {
		t.Fatalf("LIVE and expiring within a week = %v, want %v", liveSoon.ids(), soon.ID)
	}

	// Pages of two, following cursors, give the whole list once.
	var paged []string
	vars := apptest.Vars{"first": 2}
	for {
		page := ldList(t, env, org.Token, vars)
		if page.TotalCount != 6 {
			t.Fatalf("totalCount of a page = %d, want 6", page.TotalCount)
		}
		paged = append(paged, page.ids()...)
		if !page.PageInfo.HasNextPage {
			break
		}
		if page.PageInfo.EndCursor == nil || *page.PageInfo.EndCursor != page.Edges[len(page.Edges)-1].Cursor {
			t.Fatalf("endCursor %v is not the last edge's cursor", page.PageInfo.EndCursor)
		}
		vars = apptest.Vars{"first": 2, "after": *page.PageInfo.EndCursor}
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged list = %v, want %v", paged, want)
	}
	for _, bad := range []apptest.Vars{{"first": 0}, {"first": 101}, {"after": "not-a-cursor"}} {
		tlWantCode(t, env.Do(t, org.Token, ldListQuery, bad), "BAD_USER_INPUT")
	}

	// A vehicle's history, newest first, ended ones included.
	hist := ldHistory(t, env, org.Token, vids[4])
	if len(hist) != 2 || hist[0].ID != replacement.ID || hist[1].ID != revoked.ID ||
		hist[0].State != "LIVE" || hist[1].State != "ENDED" {
		t.Fatalf("trackingLinkHistory = %+v, want the replacement (LIVE) then the revoked link (ENDED)", hist)
	}
	if h := ldHistory(t, env, org.Token, vids[0]); len(h) != 1 || h[0].ID != live.ID {
		t.Fatalf("trackingLinkHistory of a vehicle with one link = %+v", h)
	}

	// Another organization's vehicle (and so its history) is not found;
	// anonymous callers are refused.
	var foreign struct{ Vehicle *struct{ ID string } }
	env.Do(t, org.Token, `query($id: ID!) { vehicle(id: $id) { id trackingLinkHistory { id } } }`,
		apptest.Vars{"id": otherVehicle}).Decode(t, &foreign)
	if foreign.Vehicle != nil {
		t.Fatalf("vehicle(id) of another organization = %+v, want null", foreign.Vehicle)
	}
	tlWantCode(t, env.Do(t, "", ldListQuery, apptest.Vars{}), "UNAUTHENTICATED")
	tlWantCode(t, env.Do(t, "", `query($v: ID!) { trackingPreview(vehicleId: $v) { pageUrl } }`,
		apptest.Vars{"v": vids[0]}), "UNAUTHENTICATED")
}

// ldPreviewQuery asks everything a preview answers.
const ldPreviewQuery = `query($v: ID!, $o: TrackingLinkOptionsInput) {
	trackingPreview(vehicleId: $v, options: $o) {
		pageUrl
		tracking {
			organization { name logoUrl country locale }
			vehicle { year make model title }
			heroPhoto { url caption width height }
			progress { current stages { stage label reached current } }
			estimatedArrival
			notes { body createdAt }
			photos { url caption width height }
			expiresAt
		}
	}
}`

type ldPreview struct {
	PageURL  string          `json:"pageUrl"`
	Tracking json.RawMessage `json:"tracking"`
}

func ldPreviewOf(t *testing.T, env *apptest.Env, token, vehicleID string, opts apptest.Vars) (ldPreview, map[string]any) {
	t.Helper()
	vars := apptest.Vars{"v": vehicleID}
	if opts != nil {
		vars["o"] = opts
	}
	var out struct{ TrackingPreview ldPreview }
	env.Do(t, token, ldPreviewQuery, vars).Decode(t, &out)
	var tr map[string]any
	if err := json.Unmarshal(out.TrackingPreview.Tracking, &tr); err != nil {
		t.Fatal(err)
	}
	return out.TrackingPreview, tr
}

func TestLinkDeskPreview(t *testing.T) {
	env, org := tlStart(t, "Preview Imports", "NZ")
	secret := tlSeedSecrets(t, env, org) // a VIN, prices, an internal note…
	vid := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2020, "make": "Nissan", "model": "Leaf", "stage": "IN_TRANSIT", "estimatedArrival": "2030-01-15",
	})
	addNote(t, env, org.Token, vid, "Left the port on time.", "CUSTOMER")
	addNote(t, env, org.Token, vid, "Margin is thin on this one.", "INTERNAL")

	// Without a link: every option on, and no link is created.
	p, tr := ldPreviewOf(t, env, org.Token, vid, nil)
	if tr["progress"] == nil || tr["estimatedArrival"] != "2030-01-15" || len(tr["notes"].([]any)) != 1 {
		t.Fatalf("preview without a link should show everything: %s", p.Tracking)
	}
	if n := tlLinkCount(t, vid, false); n != 0 {
		t.Fatalf("trackingPreview created %d links", n)
	}
	// Options are respected.
	_, tr = ldPreviewOf(t, env, org.Token, vid, apptest.Vars{"showProgress": false, "showCustomerNotes": false})
	if tr["progress"] != nil || len(tr["notes"].([]any)) != 0 || tr["estimatedArrival"] == nil {
		t.Fatalf("preview with showProgress and showCustomerNotes off: %v", tr)
	}

	// With a link: its options when omitted, and exactly what
	// publicTracking answers for it.
	link := createLink(t, env, org.Token, vid, apptest.Vars{"showEstimatedArrival": false, "expiresAt": tlFuture(72 * time.Hour)})
	p, tr = ldPreviewOf(t, env, org.Token, vid, nil)
	var pub struct{ PublicTracking map[string]any }
	env.Do(t, "", apptest.PublicQuery, apptest.Vars{"slug": link.Slug}).Decode(t, &pub)
	if !reflect.DeepEqual(tr, pub.PublicTracking) {
		t.Fatalf("preview with the link's options\n%v\nis not what publicTracking answers\n%v", tr, pub.PublicTracking)
	}
	if tr["estimatedArrival"] != nil {
		t.Fatalf("preview ignores the link's showEstimatedArrival: false: %v", tr)
	}
	_, tr = ldPreviewOf(t, env, org.Token, vid, apptest.Vars{"showEstimatedArrival": true})
	if tr["estimatedArrival"] != "2030-01-15" {
		t.Fatalf("preview ignores its options: %v", tr)
	}
	if n := tlLinkCount(t, vid, false); n != 1 {
		t.Fatalf("%d links after previews, want the one created", n)
	}
	// Nothing else is written either: the link's history, opens and
	// update time stay as they were.
	if got := ldLinkByID(t, env, org.Token, link.ID); len(got.Events) != 1 || got.OpenCount != 0 {
		t.Fatalf("after previews the link has events %v and %d opens, want CREATED only and none", got.kinds(), got.OpenCount)
	}
	if after := tlStaffLink(t, env, org.Token, vid); after == nil || !after.UpdatedAt.Equal(link.UpdatedAt) {
		t.Fatalf("a preview changed the link: %+v, was updated at %v", after, link.UpdatedAt)
	}

	// Works while LOCKED, when the link itself does not.
	ldSetSubscription(t, env, org.ID, domain.SubscriptionLocked)
	tlWantUnavailable(t, env, link.Slug)
	p, tr = ldPreviewOf(t, env, org.Token, vid, nil)
	if tr["vehicle"] == nil {
		t.Fatalf("preview while LOCKED: %v", tr)
	}
	// Nothing private, in the answer or on the page, of a vehicle loaded
	// with private values.
	sp, _ := ldPreviewOf(t, env, org.Token, secret.VehicleID, nil)
	noSecrets(t, "preview answer", sp.Tracking, tlSecrets)
	if res, body := env.Get(t, sp.PageURL); res.StatusCode != http.StatusOK {
		t.Fatalf("preview page of the private vehicle: status %d", res.StatusCode)
	} else {
		noSecrets(t, "preview page", append(tlHeaderBytes(res.Header), body...), tlSecrets)
	}

	// The page: signed, anonymous, marked, never indexed, strict headers,
	// nothing private, and good for at most 15 minutes.
	u, err := url.Parse(p.PageURL)
	if err != nil || !strings.HasPrefix(p.PageURL, env.BaseURL+tracking.PreviewPrefix) {
		t.Fatalf("pageUrl %q is not a preview URL on this server", p.PageURL)
	}
	sec, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	if err != nil {
		t.Fatalf("pageUrl %q has no exp: %v", p.PageURL, err)
	}
	if d := time.Until(time.Unix(sec, 0)); d <= 0 || d > 15*time.Minute {
		t.Fatalf("pageUrl expires in %v, want within 15 minutes", d)
	}
	res, body := env.Get(t, p.PageURL)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Preview") ||
		!strings.Contains(string(body), "Nissan Leaf") {
		t.Fatalf("preview page: status %d, body %.400s", res.StatusCode, body)
	}
	// A snapshot: the live script would follow the preview's path as a slug.
	if strings.Contains(string(body), "tracking-live.js") {
		t.Fatal("the preview page loads the live script")
	}
	if !strings.Contains(res.Header.Get("X-Robots-Tag"), "noindex") {
		t.Fatalf("preview page X-Robots-Tag = %q", res.Header.Get("X-Robots-Tag"))
	}
	if strings.Contains(string(body), "Margin is thin") {
		t.Fatal("preview page shows an internal note")
	}
	ldSetSubscription(t, env, org.ID, domain.SubscriptionActive)
	real, _ := tlPage(t, env, link.Slug)
	for _, h := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Robots-Tag", "Cache-Control",
		"X-Content-Type-Options", "X-Frame-Options", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy",
		"Permissions-Policy", "Content-Type"} {
		if res.Header.Get(h) == "" || res.Header.Get(h) != real.Header.Get(h) {
			t.Fatalf("preview page %s = %q, the customer page's is %q", h, res.Header.Get(h), real.Header.Get(h))
		}
	}
	if strings.Contains(string(func() []byte { _, b := tlPage(t, env, link.Slug); return b }()), "Preview ·") {
		t.Fatal("the real customer page carries the preview marker")
	}

	// Tampered with, or past its time: "not available".
	q := u.Query()
	sig := q.Get("sig")
	tampered := []string{
		strings.Replace(p.PageURL, "sig="+sig, "sig="+flipLast(sig), 1),
		strings.Replace(p.PageURL, u.Path, u.Path[:len(u.Path)-2]+flipLast(u.Path[len(u.Path)-2:]), 1),
		strings.Replace(p.PageURL, "exp="+q.Get("exp"), "exp=9999999999", 1),
	}
	signer := media.NewSigner([]byte(apptest.TestSecretKey))
	tampered = append(tampered, env.BaseURL+signer.SignUntil(u.Path, time.Now().Add(-time.Second)))
	for _, bad := range tampered {
		res, body := env.Get(t, bad)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(strings.ToLower(string(body)), "not available") {
			t.Fatalf("GET %s: status %d, want the 404 not-available page", bad, res.StatusCode)
		}
	}
	// The same path signed until later works: only time made it fail.
	if res, _ := env.Get(t, env.BaseURL+signer.SignUntil(u.Path, time.Now().Add(time.Minute))); res.StatusCode != http.StatusOK {
		t.Fatalf("a freshly signed preview URL: status %d", res.StatusCode)
	}

	// Another organization's vehicle is never previewed.
	other := env.NewOrg(t, "Other Preview Imports", "NZ")
	tlWantCode(t, env.Do(t, other.Token, ldPreviewQuery, apptest.Vars{"v": vid}), "NOT_FOUND")
}

func flipLast(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

func TestLinkDeskRetireAfterDelivery(t *testing.T) {
	env, org := tlStart(t, "Retiring Imports", "NZ")
	const setDays = `mutation($in: UpdateOrganizationInput!) { updateOrganization(input: $in) { linkExpiryDaysAfterDelivery } }`
	days := func() *int {
		var out struct {
			Viewer struct {
				Organization struct{ LinkExpiryDaysAfterDelivery *int }
			}
		}
		env.Do(t, org.Token, `{ viewer { organization { linkExpiryDaysAfterDelivery } } }`, nil).Decode(t, &out)
		return out.Viewer.Organization.LinkExpiryDaysAfterDelivery
	}
	if d := days(); d != nil {
		t.Fatalf("linkExpiryDaysAfterDelivery starts at %d, want null (off)", *d)
	}
	env.Do(t, org.Token, setDays, apptest.Vars{"in": apptest.Vars{"linkExpiryDaysAfterDelivery": 7}}).Decode(t, &struct{}{})
	for _, bad := range []int{0, -1, 366} {
		tlWantCode(t, env.Do(t, org.Token, setDays, apptest.Vars{"in": apptest.Vars{"linkExpiryDaysAfterDelivery": bad}}), "BAD_USER_INPUT")
	}
	env.Do(t, org.Token, setDays, apptest.Vars{"in": apptest.Vars{"name": "Retiring Imports Ltd"}}).Decode(t, &struct{}{})
	if d := days(); d == nil || *d != 7 {
		t.Fatalf("after refused values and an update without it: %v, want 7", d)
	}

	near := func(got *time.Time, want time.Time) bool {
		return got != nil && got.Sub(want) < time.Minute && want.Sub(*got) < time.Minute
	}
	lastEvent := func(linkID string) ldEvent {
		l := ldLinkByID(t, env, org.Token, linkID)
		return l.Events[len(l.Events)-1]
	}

	// No expiry: DELIVERED sets now + 7 days, with an event by no one.
	a := newVehicle(t, env, org.Token)
	la := createLink(t, env, org.Token, a, nil)
	ldSetStage(t, env, org.Token, a, "DELIVERED")
	got := ldLinkByID(t, env, org.Token, la.ID)
	if !near(got.ExpiresAt, time.Now().Add(7*24*time.Hour)) {
		t.Fatalf("after DELIVERED expiresAt = %v, want about now + 7 days", got.ExpiresAt)
	}
	if e := lastEvent(la.ID); e.Kind != "EXPIRY_SET_ON_DELIVERY" || e.Actor != nil || len(e.Changed) != 0 {
		t.Fatalf("last event = %+v, want EXPIRY_SET_ON_DELIVERY with no actor", e)
	}
	if pub := tlWantAvailable(t, env, la.Slug); pub == nil {
		t.Fatal("a delivered link stops working before its time")
	}
	// Staying DELIVERED does not move it again.
	ldSetStage(t, env, org.Token, a, "DELIVERED")
	if again := ldLinkByID(t, env, org.Token, la.ID); !tlSameTime(again.ExpiresAt, got.ExpiresAt) || len(again.Events) != len(got.Events) {
		t.Fatalf("a second DELIVERED changed the link: %v → %v", got.ExpiresAt, again.ExpiresAt)
	}

	// Expiring sooner already: kept, no event.
	b := newVehicle(t, env, org.Token)
	lb := createLink(t, env, org.Token, b, apptest.Vars{"expiresAt": tlFuture(48 * time.Hour)})
	ldSetStage(t, env, org.Token, b, "DELIVERED")
	if got := ldLinkByID(t, env, org.Token, lb.ID); !tlSameTime(got.ExpiresAt, lb.ExpiresAt) || got.kinds()[len(got.Events)-1] != "CREATED" {
		t.Fatalf("a link expiring sooner: expiresAt %v (was %v), events %v", got.ExpiresAt, lb.ExpiresAt, got.kinds())
	}
	// Expiring later: brought forward.
	c := newVehicle(t, env, org.Token)
	lc := createLink(t, env, org.Token, c, apptest.Vars{"expiresAt": tlFuture(30 * 24 * time.Hour)})
	ldSetStage(t, env, org.Token, c, "DELIVERED")
	if got := ldLinkByID(t, env, org.Token, lc.ID); !near(got.ExpiresAt, time.Now().Add(7*24*time.Hour)) {
		t.Fatalf("a link expiring in 30 days after DELIVERED: %v, want about now + 7 days", got.ExpiresAt)
	}

	// Created for a vehicle already delivered: the same expiry, unless given.
	d := createVehicle(t, env, org.Token, apptest.Vars{"year": 2018, "make": "Mazda", "model": "MX-5", "stage": "DELIVERED"})
	ld := createLink(t, env, org.Token, d, nil)
	if !near(ld.ExpiresAt, time.Now().Add(7*24*time.Hour)) {
		t.Fatalf("a link created for a delivered vehicle: expiresAt %v, want about now + 7 days", ld.ExpiresAt)
	}
	if e := lastEvent(ld.ID); e.Kind != "EXPIRY_SET_ON_DELIVERY" || e.Actor != nil {
		t.Fatalf("last event of that link = %+v", e)
	}
	tlRevoke(t, env, org.Token, d)
	given := tlFuture(60 * 24 * time.Hour)
	ld2 := createLink(t, env, org.Token, d, apptest.Vars{"expiresAt": given})
	if want := tlMustTime(t, given); ld2.ExpiresAt == nil || !ld2.ExpiresAt.Equal(want) {
		t.Fatalf("a given expiresAt on a delivered vehicle's link: %v, want %v", ld2.ExpiresAt, want)
	}

	// Changing the setting never rewrites existing links; null turns it off.
	before := ldLinkByID(t, env, org.Token, la.ID).ExpiresAt
	env.Do(t, org.Token, setDays, apptest.Vars{"in": apptest.Vars{"linkExpiryDaysAfterDelivery": 30}}).Decode(t, &struct{}{})
	env.Do(t, org.Token, setDays, apptest.Vars{"in": apptest.Vars{"linkExpiryDaysAfterDelivery": nil}}).Decode(t, &struct{}{})
	if d := days(); d != nil {
		t.Fatalf("after null: %d, want off", *d)
	}
	if after := ldLinkByID(t, env, org.Token, la.ID).ExpiresAt; !tlSameTime(before, after) {
		t.Fatalf("changing the setting moved a link's expiry: %v → %v", before, after)
	}
	e := newVehicle(t, env, org.Token)
	le := createLink(t, env, org.Token, e, nil)
	ldSetStage(t, env, org.Token, e, "DELIVERED")
	if got := ldLinkByID(t, env, org.Token, le.ID); got.ExpiresAt != nil {
		t.Fatalf("with the setting off, DELIVERED set expiresAt %v", got.ExpiresAt)
	}
}
