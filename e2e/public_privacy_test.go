package e2e

// What the customer never sees, that every unavailable link looks the
// same, and that one organization cannot touch another's vehicles.

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/domain"
)

// tlSecrets are distinctive private values seeded on a vehicle. Fragments
// are listed too, so that a value reformatted on the way out (an amount
// without its decimals, an escaped "+") is still caught.
var tlSecrets = []string{
	"ZZVINSECRET12345", "ZZVINSECRET",
	"STOCK-SECRET-987", "STOCK-SECRET",
	"COSTSECRET", "31337.77", "31337",
	"45678.91", "45678",
	"PAYSECRET", "22222.33", "22222",
	"INTERNAL-SECRET-NOTE",
	"Customer Secretname", "Secretname",
	"secret.customer@example.com", "secret.customer",
	"+64 21 555 0199", "555 0199", "5550199",
	"OtherVehicleSecret",
}

func tlHeaderBytes(h http.Header) []byte {
	var b bytes.Buffer
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.Bytes()
}

// tlSecretVehicle is a vehicle loaded with private data, with a link that
// shows everything that can be shown.
type tlSecretVehicle struct {
	VehicleID string
	Slug      string
	LogoURL   string
}

func tlSeedSecrets(t *testing.T, env *apptest.Env, org apptest.Org) tlSecretVehicle {
	t.Helper()
	var cust struct{ CreateCustomer struct{ ID string } }
	env.Do(t, org.Token, `mutation($in: CustomerInput!) { createCustomer(input: $in) { id } }`, apptest.Vars{"in": apptest.Vars{
		"name": "Customer Secretname", "email": "secret.customer@example.com", "phone": "+64 21 555 0199",
	}}).Decode(t, &cust)

	var s tlSecretVehicle
	s.LogoURL = uploadLogo(t, env, org.Token, tlNewImage(t, 24, 12).PNG)
	s.VehicleID = createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2020, "make": "Subaru", "model": "Forester", "stage": "CUSTOMS_CLEARED",
		"vin": "ZZVINSECRET12345", "stockNumber": "STOCK-SECRET-987", "customerId": cust.CreateCustomer.ID,
		"estimatedArrival": time.Now().AddDate(0, 0, 12).Format("2006-01-02"),
		"agreedSalePrice":  apptest.Vars{"amount": "45678.91", "currency": "NZD"},
	})
	hero := tlUploadPhoto(t, env, org.Token, s.VehicleID, "front view", 16, 9)
	tlSetHero(t, env, org.Token, s.VehicleID, hero.ID)
	a := tlUploadPhoto(t, env, org.Token, s.VehicleID, "side view", 12, 9)
	b := tlUploadPhoto(t, env, org.Token, s.VehicleID, "rear view", 10, 9)
	addNote(t, env, org.Token, s.VehicleID, "Cleared customs this morning", "CUSTOMER")
	addNote(t, env, org.Token, s.VehicleID, "INTERNAL-SECRET-NOTE", "INTERNAL")
	var cost struct{ AddCost struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $in: CostInput!) { addCost(vehicleId: $v, input: $in) { id } }`, apptest.Vars{
		"v": s.VehicleID, "in": apptest.Vars{"category": "COSTSECRET", "description": "COSTSECRET", "amount": apptest.Vars{"amount": "31337.77", "currency": "NZD"}},
	}).Decode(t, &cost)
	var pay struct{ RecordPayment struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $in: PaymentInput!) { recordPayment(vehicleId: $v, input: $in) { id } }`, apptest.Vars{
		"v": s.VehicleID, "in": apptest.Vars{"amount": apptest.Vars{"amount": "22222.33", "currency": "NZD"},
			"receivedAt": time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339), "reference": "PAYSECRET"},
	}).Decode(t, &pay)

	// Another vehicle of the same organization, with a link of its own.
	otherID := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2017, "make": "OtherVehicleSecret", "model": "OtherVehicleSecret", "customerId": cust.CreateCustomer.ID,
	})
	createLink(t, env, org.Token, otherID, nil)

	link := createLink(t, env, org.Token, s.VehicleID, apptest.Vars{
		"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true,
		"photoIds": []string{a.ID, b.ID}, "expiresAt": tlFuture(30 * 24 * time.Hour),
	})
	s.Slug = link.Slug
	return s
}

// ---------------------------------------------------------------------------
// 3. What the customer never sees

func TestPublicPrivacyNoPrivateValues(t *testing.T) {
	env, org := tlStart(t, "Privacy Motors", "NZ")
	s := tlSeedSecrets(t, env, org)
	view := tlWantAvailable(t, env, s.Slug)

	t.Run("publicTracking with every public field", func(t *testing.T) {
		res := publicTrackingRes(t, env, s.Slug)
		if len(res.Errors) != 0 {
			t.Fatalf("errors: %s", res.Body)
		}
		noSecrets(t, "publicTracking response", res.Body, tlSecrets)
	})
	t.Run("publicTracking over GET", func(t *testing.T) {
		q := url.Values{"query": {apptest.PublicQuery}, "variables": {`{"slug":"` + s.Slug + `"}`}}
		res, body := env.Get(t, "/graphql?"+q.Encode())
		if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"publicTracking":{`)) {
			t.Fatalf("GET /graphql publicTracking: status %d body %.300s", res.StatusCode, body)
		}
		noSecrets(t, "GET /graphql publicTracking body", body, tlSecrets)
		noSecrets(t, "GET /graphql publicTracking headers", tlHeaderBytes(res.Header), tlSecrets)
	})
	t.Run("tracking page body and headers", func(t *testing.T) {
		res, body := tlPage(t, env, s.Slug)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page status %d", res.StatusCode)
		}
		noSecrets(t, "tracking page body", body, tlSecrets)
		noSecrets(t, "tracking page headers", tlHeaderBytes(res.Header), tlSecrets)
	})
	t.Run("public photo and logo responses", func(t *testing.T) {
		urls := []string{s.LogoURL}
		if view.HeroPhoto == nil {
			t.Fatal("heroPhoto is null; the seeded hero should be shown")
		}
		urls = append(urls, view.HeroPhoto.URL)
		for _, p := range view.Photos {
			urls = append(urls, p.URL)
		}
		if len(urls) != 4 {
			t.Fatalf("want logo, hero and 2 picked photos, got %d URLs", len(urls))
		}
		for _, u := range urls {
			noSecrets(t, "URL "+u, []byte(u), tlSecrets)
			res, _ := env.Get(t, u)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", u, res.StatusCode)
			}
			noSecrets(t, "headers of "+u, tlHeaderBytes(res.Header), tlSecrets)
		}
	})
	t.Run("anonymous staff queries are UNAUTHENTICATED", func(t *testing.T) {
		for name, q := range map[string]string{
			"vehicle": `query($v: ID!) { vehicle(id: $v) { id title vin stockNumber customer { name email phone }
				notes { body scope } costs { category description amount { amount } } agreedSalePrice { amount }
				payments { reference amount { amount } } trackingLink { slug } } }`,
			"vehicles":  `query { vehicles(search: "Secret") { totalCount edges { node { id title vin stockNumber } } } }`,
			"customers": `query { customers { edges { node { name email phone } } } }`,
			"viewer":    `query { viewer { user { email name } organization { id name } } }`,
		} {
			t.Run(name, func(t *testing.T) {
				res := env.Do(t, "", q, apptest.Vars{"v": s.VehicleID})
				tlWantCode(t, res, "UNAUTHENTICATED")
				noSecrets(t, "anonymous "+name, res.Body, tlSecrets)
			})
		}
	})
	t.Run("public types have no private fields to ask for", func(t *testing.T) {
		for _, sel := range []string{
			`vehicle { vin }`, `vehicle { stockNumber }`, `vehicle { customer { name } }`,
			`costs { amount }`, `payments { reference }`, `notes(scope: INTERNAL) { body }`,
		} {
			res := env.Do(t, "", `query($s: String!) { publicTracking(slug: $s) { `+sel+` } }`, apptest.Vars{"s": s.Slug})
			tlWantCode(t, res, "GRAPHQL_VALIDATION_FAILED")
			noSecrets(t, "publicTracking { "+sel+" }", res.Body, tlSecrets)
		}
	})
	t.Run("introspection of PublicTracking", func(t *testing.T) {
		tlCheckPublicSchema(t, env)
	})
}

// tlCheckPublicSchema walks, through anonymous introspection, every type
// reachable from PublicTracking and checks that none of them is a staff
// type or has a field named like a private value. Anonymous
// introspection is on outside production, and apptest runs in
// development: an error here fails the test rather than skipping the
// check.
func tlCheckPublicSchema(t *testing.T, env *apptest.Env) {
	t.Helper()
	res := env.Do(t, "", `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`, nil)
	if len(res.Errors) != 0 {
		t.Fatalf("introspection failed, so the public schema could not be checked: %s", res.Body)
	}
	type typeRef struct {
		Name   *string
		OfType *typeRef
	}
	var out struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct {
					Name string
					Type typeRef
				}
			}
		} `json:"__schema"`
	}
	res.Decode(t, &out)
	byName := map[string]int{}
	for i, ty := range out.Schema.Types {
		byName[ty.Name] = i
	}
	private := []string{"vin", "stock", "customer", "cost", "price", "payment", "internal", "scope", "email", "phone", "author", "createdby", "id"}
	staffTypes := []string{"Vehicle", "Customer", "CostItem", "Payment", "Money", "Note", "User", "Organization", "TrackingLink", "Photo", "Viewer"}
	seen := map[string]bool{}
	queue := []string{"PublicTracking"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		if slices.Contains(staffTypes, name) {
			t.Errorf("staff type %s is reachable from PublicTracking", name)
		}
		i, ok := byName[name]
		if !ok {
			t.Fatalf("type %s not in the schema", name)
		}
		for _, f := range out.Schema.Types[i].Fields {
			low := strings.ToLower(f.Name)
			for _, p := range private {
				if low == p || (p != "id" && strings.Contains(low, p)) {
					t.Errorf("%s.%s is reachable from PublicTracking and looks private", name, f.Name)
				}
			}
			for r := &f.Type; r != nil; r = r.OfType {
				if r.Name != nil && !strings.HasPrefix(*r.Name, "__") {
					queue = append(queue, *r.Name)
				}
			}
		}
	}
	if !seen["PublicVehicle"] || !seen["PublicOrganization"] {
		t.Fatalf("walk did not reach the public types: %v", seen)
	}
}

// ---------------------------------------------------------------------------
// 10. Unavailable looks the same for every reason

func TestPublicPrivacyUnavailableLooksTheSame(t *testing.T) {
	env, org := tlStart(t, "Same Imports", "NZ")
	locked := env.NewOrg(t, "Locked Imports", "NZ")

	// newLink makes a working link on a fresh vehicle of o.
	newLink := func(t *testing.T, o apptest.Org) (vehicleID, slug string) {
		t.Helper()
		vehicleID = newVehicle(t, env, o.Token)
		slug = createLink(t, env, o.Token, vehicleID, nil).Slug
		tlWantAvailable(t, env, slug) // it worked before it was closed
		return vehicleID, slug
	}

	slugs := map[string]string{"unknown": tlRandomSlug()}
	{
		v, slug := newLink(t, org)
		tlRevoke(t, env, org.Token, v)
		slugs["revoked"] = slug
	}
	{
		v, slug := newLink(t, org)
		tlRegenerate(t, env, org.Token, v)
		slugs["replaced"] = slug
	}
	{
		_, slug := newLink(t, org)
		tlExpireNow(t, slug)
		slugs["expired"] = slug
	}
	{
		_, slug := newLink(t, locked)
		if _, err := env.Store.SetSubscription(context.Background(), locked.ID, domain.SubscriptionLocked); err != nil {
			t.Fatal(err)
		}
		slugs["billing-locked"] = slug
	}
	{
		v, slug := newLink(t, org)
		tlDeleteVehicle(t, env, org.Token, v)
		slugs["deleted"] = slug
	}

	type answer struct {
		graphql    []byte
		pageStatus int
		page       []byte
		pageType   string
	}
	answers := map[string]answer{}
	for reason, slug := range slugs {
		res := publicTrackingRes(t, env, slug)
		pres, page := tlPage(t, env, slug)
		answers[reason] = answer{graphql: res.Body, pageStatus: pres.StatusCode, page: page, pageType: pres.Header.Get("Content-Type")}
	}
	ref := answers["unknown"]

	t.Run("unknown slug is null and a 404 page", func(t *testing.T) {
		tlWantUnavailable(t, env, slugs["unknown"])
	})
	for _, reason := range []string{"revoked", "replaced", "expired", "billing-locked", "deleted"} {
		t.Run(reason, func(t *testing.T) {
			got := answers[reason]
			if !bytes.Equal(got.graphql, ref.graphql) {
				t.Errorf("publicTracking bytes differ from an unknown slug's:\n %s: %s\n unknown: %s", reason, got.graphql, ref.graphql)
			}
			if got.pageStatus != http.StatusNotFound {
				t.Errorf("page status %d, want 404", got.pageStatus)
			}
			if !bytes.Equal(got.page, ref.page) || got.pageType != ref.pageType {
				t.Errorf("page differs from an unknown slug's:\n %s (%s): %s\n unknown (%s): %s", reason, got.pageType, got.page, ref.pageType, ref.page)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 11. One organization cannot reach another's vehicles

func TestPublicPrivacyCrossOrganization(t *testing.T) {
	env, orgA := tlStart(t, "Org A Imports", "NZ")
	orgB := env.NewOrg(t, "Org B Imports", "NZ")

	vehicleA := createVehicle(t, env, orgA.Token, apptest.Vars{
		"year": 2016, "make": "Honda", "model": "Odyssey", "vin": "AORGVIN123", "stockNumber": "A-1",
	})
	photoA := tlUploadPhoto(t, env, orgA.Token, vehicleA, "a photo", 10, 10)
	heroA := tlUploadPhoto(t, env, orgA.Token, vehicleA, "a hero", 12, 10)
	tlSetHero(t, env, orgA.Token, vehicleA, heroA.ID)
	noteA := addNote(t, env, orgA.Token, vehicleA, "A's note", "CUSTOMER")
	linkA := createLink(t, env, orgA.Token, vehicleA, apptest.Vars{"photoIds": []string{photoA.ID}})
	vehicleB := newVehicle(t, env, orgB.Token) // B has vehicles of its own

	// snapshot is everything A's staff see of the vehicle, minus signed
	// URLs (they carry a timestamp).
	snapshot := func(t *testing.T) []byte {
		t.Helper()
		res := env.Do(t, orgA.Token, `query($v: ID!) { vehicle(id: $v) {
			id year make model vin stockNumber stage estimatedArrival
			heroPhoto { id } photos { id caption }
			notes { id body scope updatedAt }
			costs { id } payments { id }
			trackingLink { `+staffLinkFields+` }
		} }`, apptest.Vars{"v": vehicleA})
		if len(res.Errors) != 0 || bytes.Contains(res.Data, []byte(`"vehicle":null`)) {
			t.Fatalf("A cannot read its own vehicle: %s", res.Body)
		}
		return res.Data
	}
	before := snapshot(t)

	mutations := []struct {
		name  string
		query string
		vars  apptest.Vars
		file  bool
	}{
		{"updateVehicle", `mutation($id: ID!) { updateVehicle(id: $id, input: {make: "Hacked"}) { id } }`, apptest.Vars{"id": vehicleA}, false},
		{"deleteVehicle", `mutation($id: ID!) { deleteVehicle(id: $id) }`, apptest.Vars{"id": vehicleA}, false},
		{"uploadVehiclePhoto", `mutation($id: ID!, $file: Upload!) { uploadVehiclePhoto(vehicleId: $id, file: $file) { id } }`, apptest.Vars{"id": vehicleA}, true},
		{"deleteVehiclePhoto", `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, apptest.Vars{"id": photoA.ID}, false},
		{"setHeroPhoto", `mutation($id: ID!, $p: ID) { setHeroPhoto(vehicleId: $id, photoId: $p) { id } }`, apptest.Vars{"id": vehicleA, "p": photoA.ID}, false},
		{"setHeroPhoto null", `mutation($id: ID!) { setHeroPhoto(vehicleId: $id, photoId: null) { id } }`, apptest.Vars{"id": vehicleA}, false},
		{"addNote", `mutation($id: ID!) { addNote(vehicleId: $id, body: "B was here", scope: CUSTOMER) { id } }`, apptest.Vars{"id": vehicleA}, false},
		{"updateNote", `mutation($id: ID!) { updateNote(id: $id, body: "B was here", scope: INTERNAL) { id } }`, apptest.Vars{"id": noteA}, false},
		{"deleteNote", `mutation($id: ID!) { deleteNote(id: $id) }`, apptest.Vars{"id": noteA}, false},
		{"addCost", `mutation($id: ID!) { addCost(vehicleId: $id, input: {category: "B", amount: {amount: "1.00", currency: "NZD"}}) { id } }`, apptest.Vars{"id": vehicleA}, false},
		{"recordPayment", `mutation($id: ID!, $at: Time!) { recordPayment(vehicleId: $id, input: {amount: {amount: "1.00", currency: "NZD"}, receivedAt: $at}) { id } }`, apptest.Vars{"id": vehicleA, "at": time.Now().UTC().Format(time.RFC3339)}, false},
		{"createTrackingLink", `mutation($id: ID!) { createTrackingLink(vehicleId: $id) { slug } }`, apptest.Vars{"id": vehicleA}, false},
		{"updateTrackingLink", `mutation($id: ID!) { updateTrackingLink(vehicleId: $id, options: {showPhoto: false, expiresAt: null}) { slug } }`, apptest.Vars{"id": vehicleA}, false},
		{"revokeTrackingLink", `mutation($id: ID!) { revokeTrackingLink(vehicleId: $id) { id } }`, apptest.Vars{"id": vehicleA}, false},
		{"regenerateTrackingLink", `mutation($id: ID!) { regenerateTrackingLink(vehicleId: $id) { slug } }`, apptest.Vars{"id": vehicleA}, false},
	}
	for _, m := range mutations {
		t.Run(m.name+" is NOT_FOUND", func(t *testing.T) {
			var res apptest.Response
			if m.file {
				res = env.Upload(t, orgB.Token, m.query, m.vars, "file", "x.png", testPNG(t, 10, 10))
			} else {
				res = env.Do(t, orgB.Token, m.query, m.vars)
			}
			tlWantCode(t, res, "NOT_FOUND")
			for _, v := range []string{"Honda", "Odyssey", "AORGVIN123", "A's note"} {
				if bytes.Contains(res.Body, []byte(v)) {
					t.Fatalf("the NOT_FOUND answer carries A's value %q: %s", v, res.Body)
				}
			}
		})
	}

	t.Run("A's vehicle is unchanged", func(t *testing.T) {
		if after := snapshot(t); !bytes.Equal(after, before) {
			t.Fatalf("org B changed org A's vehicle:\nbefore %s\nafter  %s", before, after)
		}
	})
	t.Run("A's link still works at the same URL", func(t *testing.T) {
		v := tlWantAvailable(t, env, linkA.Slug)
		if v.HeroPhoto == nil || len(v.Photos) != 1 || len(v.Notes) != 1 || v.Vehicle.Make != "Honda" {
			t.Fatalf("A's public view changed: %+v", v)
		}
	})
	t.Run("vehicle(id) is null for B", func(t *testing.T) {
		res := env.Do(t, orgB.Token, `query($v: ID!) { vehicle(id: $v) { id vin } }`, apptest.Vars{"v": vehicleA})
		var out struct{ Vehicle *struct{ ID string } }
		res.Decode(t, &out)
		if out.Vehicle != nil {
			t.Fatalf("org B reads org A's vehicle: %s", res.Body)
		}
	})
	t.Run("vehicles does not list it for B", func(t *testing.T) {
		for _, search := range []any{nil, "Honda", "AORGVIN123"} {
			var out struct {
				Vehicles struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			env.Do(t, orgB.Token, `query($s: String) { vehicles(search: $s) { edges { node { id } } } }`, apptest.Vars{"s": search}).Decode(t, &out)
			var ids []string
			for _, e := range out.Vehicles.Edges {
				ids = append(ids, e.Node.ID)
			}
			if slices.Contains(ids, vehicleA) {
				t.Fatalf("vehicles(search: %v) for B lists A's vehicle", search)
			}
			if search == nil && !slices.Contains(ids, vehicleB) {
				t.Fatalf("vehicles for B = %v, want B's own vehicle %s listed", ids, vehicleB)
			}
		}
	})
}
