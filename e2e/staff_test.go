package e2e

// The staff API end to end: viewer and organization, vehicles (create,
// update semantics, delete, paging, search and stage filters), customers,
// money, notes, costs and payments.
//
// Every top-level test creates its own server and organizations, then
// calls t.Parallel.

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"importops/apptest"
)

// ---- helpers shared by staff_test, auth_test, validation_test and media_test ----

// stCodes is the runtime contract's list of extensions.code values.
var stCodes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true,
	"CONFLICT": true, "RATE_LIMITED": true, "INTERNAL_SERVER_ERROR": true,
	"GRAPHQL_PARSE_FAILED": true, "GRAPHQL_VALIDATION_FAILED": true,
}

// stLeaks are fragments of database or Go runtime text that must never
// reach a client (compared case-insensitively).
var stLeaks = []string{"pq:", "sql", "violates", "syntax", "constraint", "duplicate key", "goroutine", ".go:"}

// stCheckErrors asserts that every error of res carries a code from the
// runtime contract and a message free of SQL or driver text.
func stCheckErrors(t testing.TB, res apptest.Response) {
	t.Helper()
	for i, e := range res.Errors {
		code, _ := e.Extensions["code"].(string)
		if !stCodes[code] {
			t.Errorf("error %d has extensions.code %q, not one of the runtime contract's codes: %s", i, code, res.Body)
		}
		low := strings.ToLower(e.Message)
		for _, leak := range stLeaks {
			if strings.Contains(low, leak) {
				t.Errorf("error %d message %q contains %q: database or runtime text reached the client", i, e.Message, leak)
			}
		}
	}
}

// stExpectError asserts that res failed with extensions.code want.
func stExpectError(t testing.TB, res apptest.Response, want string) {
	t.Helper()
	if len(res.Errors) == 0 {
		t.Fatalf("want a %s error, got none: %s", want, res.Body)
	}
	stCheckErrors(t, res)
	if got := res.Code(); got != want {
		t.Fatalf("extensions.code = %q, want %q: %s", got, want, res.Body)
	}
}

// stCount counts an organization's rows in table.
func stCount(t testing.TB, table, orgID string) int {
	t.Helper()
	var n int
	if err := testDB.Get(&n, "SELECT count(*) FROM "+table+" WHERE organization_id = $1", orgID); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

type stMoney struct{ Amount, Currency string }

type stVehicle struct {
	ID                 string
	Year               int
	Make, Model, Title string
	VIN, StockNumber   *string
	Stage              string
	EstimatedArrival   *string
	CreatedAt          string
	Customer           *struct{ ID, Name string }
	AgreedSalePrice    *stMoney
	HeroPhoto          *staffPhoto
	Photos             []staffPhoto
}

const stVehicleFields = `id year make model title vin stockNumber stage estimatedArrival createdAt
	customer { id name } agreedSalePrice { amount currency }
	heroPhoto { id url caption width height createdAt } photos { id url caption width height createdAt }`

// stDescribe renders the fields an update may change, for comparisons.
func stDescribe(v stVehicle) string {
	s := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	customer, price := "<null>", "<null>"
	if v.Customer != nil {
		customer = v.Customer.ID
	}
	if v.AgreedSalePrice != nil {
		price = v.AgreedSalePrice.Amount + " " + v.AgreedSalePrice.Currency
	}
	return fmt.Sprintf("year=%d make=%q model=%q title=%q vin=%s stock=%s stage=%s eta=%s customer=%s price=%s",
		v.Year, v.Make, v.Model, v.Title, s(v.VIN), s(v.StockNumber), v.Stage, s(v.EstimatedArrival), customer, price)
}

const stCreateVehicleMutation = `mutation($in: CreateVehicleInput!) { createVehicle(input: $in) { ` + stVehicleFields + ` } }`

// stCreateVehicle creates a vehicle and returns it.
func stCreateVehicle(t testing.TB, env *apptest.Env, token string, in apptest.Vars) stVehicle {
	t.Helper()
	var out struct{ CreateVehicle stVehicle }
	env.Do(t, token, stCreateVehicleMutation, apptest.Vars{"in": in}).Decode(t, &out)
	return out.CreateVehicle
}

// stVehicleByID reads vehicle(id:), nil when it answers null.
func stVehicleByID(t testing.TB, env *apptest.Env, token, id string) *stVehicle {
	t.Helper()
	var out struct{ Vehicle *stVehicle }
	env.Do(t, token, `query($id: ID!) { vehicle(id: $id) { `+stVehicleFields+` } }`, apptest.Vars{"id": id}).Decode(t, &out)
	return out.Vehicle
}

// stCreateCustomer creates a customer and returns its id.
func stCreateCustomer(t testing.TB, env *apptest.Env, token, name string) string {
	t.Helper()
	var out struct{ CreateCustomer struct{ ID string } }
	env.Do(t, token, `mutation($n: String!) { createCustomer(input: {name: $n}) { id } }`, apptest.Vars{"n": name}).Decode(t, &out)
	return out.CreateCustomer.ID
}

func stPtr[T any](v T) *T { return &v }

// ---- viewer and organization ----

func TestStaffViewer(t *testing.T) {
	env := apptest.New(t, testDB)
	nz := env.NewOrg(t, "Kiwi Imports", "NZ")
	jp := env.NewOrg(t, "Osaka Exports", "JP")
	de := env.NewOrg(t, "Hamburg Autos", "DE")
	t.Parallel()

	type viewer struct {
		Viewer struct {
			User         struct{ ID, Email, Name, Role string }
			Organization struct {
				ID, Name, Country, Locale, SubscriptionStatus string
				LogoURL                                       *string
			}
		}
	}
	const q = `{ viewer { user { id email name role } organization { id name country locale logoUrl subscriptionStatus } } }`

	t.Run("returns the caller and their organization", func(t *testing.T) {
		var got viewer
		env.Do(t, nz.Token, q, nil).Decode(t, &got)
		u, o := got.Viewer.User, got.Viewer.Organization
		if u.ID != nz.UserID || u.Email != nz.Email || u.Name != "Owner of Kiwi Imports" || u.Role != "OWNER" {
			t.Errorf("user = %+v, want id %s, email %s, name %q, role OWNER", u, nz.UserID, nz.Email, "Owner of Kiwi Imports")
		}
		if o.ID != nz.ID || o.Name != "Kiwi Imports" || o.Country != "NZ" || o.SubscriptionStatus != "ACTIVE" || o.LogoURL != nil {
			t.Errorf("organization = %+v, want id %s, Kiwi Imports, NZ, ACTIVE, no logo", o, nz.ID)
		}
	})

	for _, tc := range []struct {
		org          apptest.Org
		country, tag string
	}{{nz, "NZ", "en-NZ"}, {jp, "JP", "ja-JP"}, {de, "DE", "de-DE"}} {
		t.Run("locale of "+tc.country+" is "+tc.tag, func(t *testing.T) {
			var got viewer
			env.Do(t, tc.org.Token, q, nil).Decode(t, &got)
			if got.Viewer.Organization.Locale != tc.tag {
				t.Errorf("locale = %q, want %q", got.Viewer.Organization.Locale, tc.tag)
			}
		})
	}
}

func TestStaffUpdateOrganization(t *testing.T) {
	env := apptest.New(t, testDB)
	byName := env.NewOrg(t, "Old Name Ltd", "NZ")
	byCountry := env.NewOrg(t, "Moving Motors", "NZ")
	both := env.NewOrg(t, "Both Ltd", "NZ")
	t.Parallel()

	type org struct{ ID, Name, Country, Locale string }
	const m = `mutation($in: UpdateOrganizationInput!) { updateOrganization(input: $in) { id name country locale } }`
	const q = `{ viewer { organization { id name country locale } } }`
	read := func(t *testing.T, token string) org {
		t.Helper()
		var out struct{ Viewer struct{ Organization org } }
		env.Do(t, token, q, nil).Decode(t, &out)
		return out.Viewer.Organization
	}

	t.Run("OWNER renames; omitted country stays", func(t *testing.T) {
		var out struct{ UpdateOrganization org }
		env.Do(t, byName.Token, m, apptest.Vars{"in": apptest.Vars{"name": "New Name Ltd"}}).Decode(t, &out)
		want := org{ID: byName.ID, Name: "New Name Ltd", Country: "NZ", Locale: "en-NZ"}
		if out.UpdateOrganization != want {
			t.Errorf("updateOrganization = %+v, want %+v", out.UpdateOrganization, want)
		}
		if got := read(t, byName.Token); got != want {
			t.Errorf("viewer.organization after update = %+v, want %+v", got, want)
		}
	})

	t.Run("OWNER changes country; locale follows; omitted name stays", func(t *testing.T) {
		var out struct{ UpdateOrganization org }
		env.Do(t, byCountry.Token, m, apptest.Vars{"in": apptest.Vars{"country": "JP"}}).Decode(t, &out)
		want := org{ID: byCountry.ID, Name: "Moving Motors", Country: "JP", Locale: "ja-JP"}
		if out.UpdateOrganization != want {
			t.Errorf("updateOrganization = %+v, want %+v", out.UpdateOrganization, want)
		}
		if got := read(t, byCountry.Token); got != want {
			t.Errorf("viewer.organization after update = %+v, want %+v", got, want)
		}
	})

	t.Run("lower-case country code is accepted and stored upper-case", func(t *testing.T) {
		var out struct{ UpdateOrganization org }
		env.Do(t, both.Token, m, apptest.Vars{"in": apptest.Vars{"name": "Both Ltd (AU)", "country": "au"}}).Decode(t, &out)
		want := org{ID: both.ID, Name: "Both Ltd (AU)", Country: "AU", Locale: "en-AU"}
		if out.UpdateOrganization != want {
			t.Errorf("updateOrganization = %+v, want %+v", out.UpdateOrganization, want)
		}
	})
}

// ---- vehicles ----

func TestStaffCreateVehicle(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Create Vehicle Ltd", "NZ")
	t.Parallel()
	customerID := stCreateCustomer(t, env, org.Token, "Aroha Ngata")

	t.Run("every field is stored and read back", func(t *testing.T) {
		before := time.Now().Add(-time.Minute)
		v := stCreateVehicle(t, env, org.Token, apptest.Vars{
			"year": 2019, "make": "Toyota", "model": "Land Cruiser", "vin": "JTMHV05J604123456",
			"stockNumber": "STK-1001", "customerId": customerID, "estimatedArrival": "2026-09-30",
			"agreedSalePrice": apptest.Vars{"amount": "12500", "currency": "NZD"},
		})
		want := stVehicle{Year: 2019, Make: "Toyota", Model: "Land Cruiser", Title: "2019 Toyota Land Cruiser",
			VIN: stPtr("JTMHV05J604123456"), StockNumber: stPtr("STK-1001"), Stage: "PURCHASED",
			EstimatedArrival: stPtr("2026-09-30"), Customer: &struct{ ID, Name string }{customerID, "Aroha Ngata"},
			AgreedSalePrice: &stMoney{"12500.00", "NZD"}}
		if got := stDescribe(v); got != stDescribe(want) {
			t.Errorf("createVehicle returned\n  %s\nwant\n  %s", got, stDescribe(want))
		}
		if v.Customer == nil || v.Customer.Name != "Aroha Ngata" {
			t.Errorf("customer = %+v, want Aroha Ngata", v.Customer)
		}
		read := stVehicleByID(t, env, org.Token, v.ID)
		if read == nil {
			t.Fatalf("vehicle(id: %s) is null right after createVehicle", v.ID)
		}
		if got := stDescribe(*read); got != stDescribe(want) {
			t.Errorf("vehicle(id:) read back\n  %s\nwant\n  %s", got, stDescribe(want))
		}
		created, err := time.Parse(time.RFC3339Nano, v.CreatedAt)
		if err != nil || !strings.HasSuffix(v.CreatedAt, "Z") {
			t.Errorf("createdAt = %q, want an RFC 3339 time in UTC (err %v)", v.CreatedAt, err)
		} else if created.Before(before) || created.After(time.Now().Add(time.Minute)) {
			t.Errorf("createdAt = %s, want about now", created)
		}
		if v.HeroPhoto != nil || v.Photos == nil || len(v.Photos) != 0 {
			t.Errorf("new vehicle heroPhoto = %+v, photos = %#v; want null and []", v.HeroPhoto, v.Photos)
		}
	})

	t.Run("stage defaults to PURCHASED and optional fields to null", func(t *testing.T) {
		v := stCreateVehicle(t, env, org.Token, apptest.Vars{"year": 2015, "make": "Nissan", "model": "Leaf"})
		want := stVehicle{Year: 2015, Make: "Nissan", Model: "Leaf", Title: "2015 Nissan Leaf", Stage: "PURCHASED"}
		if got := stDescribe(v); got != stDescribe(want) {
			t.Errorf("createVehicle returned\n  %s\nwant\n  %s", got, stDescribe(want))
		}
	})

	t.Run("an explicit stage is kept", func(t *testing.T) {
		v := stCreateVehicle(t, env, org.Token, apptest.Vars{"year": 2015, "make": "Nissan", "model": "Leaf", "stage": "IN_TRANSIT"})
		if v.Stage != "IN_TRANSIT" {
			t.Errorf("stage = %s, want IN_TRANSIT", v.Stage)
		}
	})
}

func TestStaffUpdateVehicle(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Update Vehicle Ltd", "NZ")
	t.Parallel()
	aroha := stCreateCustomer(t, env, org.Token, "Aroha Ngata")
	ben := stCreateCustomer(t, env, org.Token, "Ben Smith")

	newBase := func(t *testing.T) stVehicle {
		return stCreateVehicle(t, env, org.Token, apptest.Vars{
			"year": 2019, "make": "Toyota", "model": "Land Cruiser", "vin": "JTMHV05J604123456",
			"stockNumber": "STK-1", "customerId": aroha, "stage": "IN_TRANSIT", "estimatedArrival": "2026-09-30",
			"agreedSalePrice": apptest.Vars{"amount": "12500", "currency": "NZD"},
		})
	}
	const m = `mutation($id: ID!, $in: UpdateVehicleInput!) { updateVehicle(id: $id, input: $in) { ` + stVehicleFields + ` } }`

	for _, tc := range []struct {
		name  string
		input apptest.Vars
		want  func(v *stVehicle)
	}{
		{"only stage set: stage changes, every other field stays", apptest.Vars{"stage": "ARRIVED"},
			func(v *stVehicle) { v.Stage = "ARRIVED" }},
		{"empty input changes nothing", apptest.Vars{}, func(*stVehicle) {}},
		{"vin null clears the vin", apptest.Vars{"vin": nil}, func(v *stVehicle) { v.VIN = nil }},
		{"stockNumber null clears it", apptest.Vars{"stockNumber": nil}, func(v *stVehicle) { v.StockNumber = nil }},
		{"customerId null clears the customer", apptest.Vars{"customerId": nil}, func(v *stVehicle) { v.Customer = nil }},
		{"estimatedArrival null clears it", apptest.Vars{"estimatedArrival": nil}, func(v *stVehicle) { v.EstimatedArrival = nil }},
		{"agreedSalePrice null clears it", apptest.Vars{"agreedSalePrice": nil}, func(v *stVehicle) { v.AgreedSalePrice = nil }},
		{"a new vin replaces the old", apptest.Vars{"vin": "BNR34100234"}, func(v *stVehicle) { v.VIN = stPtr("BNR34100234") }},
		{"make and year change the title", apptest.Vars{"make": "Lexus", "year": 2020}, func(v *stVehicle) {
			v.Make, v.Year, v.Title = "Lexus", 2020, "2020 Lexus Land Cruiser"
		}},
		{"a new customer replaces the old", apptest.Vars{"customerId": ben}, func(v *stVehicle) {
			v.Customer = &struct{ ID, Name string }{ben, "Ben Smith"}
		}},
		{"a new price in another currency", apptest.Vars{"agreedSalePrice": apptest.Vars{"amount": "1500000", "currency": "JPY"}},
			func(v *stVehicle) { v.AgreedSalePrice = &stMoney{"1500000", "JPY"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := newBase(t)
			want := base
			tc.want(&want)
			var out struct{ UpdateVehicle stVehicle }
			env.Do(t, org.Token, m, apptest.Vars{"id": base.ID, "in": tc.input}).Decode(t, &out)
			if got := stDescribe(out.UpdateVehicle); got != stDescribe(want) {
				t.Errorf("updateVehicle returned\n  %s\nwant\n  %s", got, stDescribe(want))
			}
			if got := stDescribe(*stVehicleByID(t, env, org.Token, base.ID)); got != stDescribe(want) {
				t.Errorf("vehicle read back\n  %s\nwant\n  %s", got, stDescribe(want))
			}
		})
	}

	for _, field := range []string{"year", "make", "model", "stage"} {
		t.Run(field+" null is BAD_USER_INPUT and changes nothing", func(t *testing.T) {
			t.Parallel()
			base := newBase(t)
			res := env.Do(t, org.Token, m, apptest.Vars{"id": base.ID, "in": apptest.Vars{field: nil, "vin": nil}})
			stExpectError(t, res, "BAD_USER_INPUT")
			if got := stDescribe(*stVehicleByID(t, env, org.Token, base.ID)); got != stDescribe(base) {
				t.Errorf("vehicle after refused update\n  %s\nwant unchanged\n  %s", got, stDescribe(base))
			}
		})
	}
}

func TestStaffDeleteVehicle(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Delete Vehicle Ltd", "NZ")
	t.Parallel()
	keep := newVehicle(t, env, org.Token)
	gone := newVehicle(t, env, org.Token)

	var out struct{ DeleteVehicle string }
	env.Do(t, org.Token, `mutation($id: ID!) { deleteVehicle(id: $id) }`, apptest.Vars{"id": gone}).Decode(t, &out)
	if out.DeleteVehicle != gone {
		t.Errorf("deleteVehicle = %q, want the id %q", out.DeleteVehicle, gone)
	}

	t.Run("vehicle(id:) is null", func(t *testing.T) {
		if v := stVehicleByID(t, env, org.Token, gone); v != nil {
			t.Errorf("vehicle(id:) of a deleted vehicle = %+v, want null", v)
		}
	})
	t.Run("vehicles lists only the live one", func(t *testing.T) {
		var list struct {
			Vehicles struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		env.Do(t, org.Token, `{ vehicles { totalCount edges { node { id } } } }`, nil).Decode(t, &list)
		if list.Vehicles.TotalCount != 1 || len(list.Vehicles.Edges) != 1 || list.Vehicles.Edges[0].Node.ID != keep {
			t.Errorf("vehicles after delete = %+v, want only %s with totalCount 1", list.Vehicles, keep)
		}
	})
	t.Run("deleting again is NOT_FOUND", func(t *testing.T) {
		stExpectError(t, env.Do(t, org.Token, `mutation($id: ID!) { deleteVehicle(id: $id) }`, apptest.Vars{"id": gone}), "NOT_FOUND")
	})
	t.Run("updating it is NOT_FOUND", func(t *testing.T) {
		res := env.Do(t, org.Token, `mutation($id: ID!) { updateVehicle(id: $id, input: {stage: DELIVERED}) { id } }`, apptest.Vars{"id": gone})
		stExpectError(t, res, "NOT_FOUND")
	})
}

// ---- paging ----

type stPageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

type stConnection struct {
	TotalCount int
	PageInfo   stPageInfo
	Edges      []struct {
		Cursor string
		Node   struct{ ID string }
	}
}

// stWalk pages through a connection with first = size and returns the ids
// in the order visited. It checks each page's pageInfo as it goes.
func stWalk(t *testing.T, fetch func(after *string) stConnection, size, total int) []string {
	t.Helper()
	var ids []string
	var after *string
	for page := 1; ; page++ {
		if page > total+2 {
			t.Fatalf("still paging after %d pages of %d items: hasNextPage never became false", page, total)
		}
		c := fetch(after)
		if len(c.Edges) == 0 && total > 0 {
			t.Fatalf("page %d is empty after %d of %d items", page, len(ids), total)
		}
		if len(c.Edges) > size {
			t.Fatalf("page %d has %d edges, more than first = %d", page, len(c.Edges), size)
		}
		for _, e := range c.Edges {
			ids = append(ids, e.Node.ID)
		}
		if len(c.Edges) > 0 {
			if c.PageInfo.EndCursor == nil || *c.PageInfo.EndCursor != c.Edges[len(c.Edges)-1].Cursor {
				t.Errorf("page %d endCursor = %v, want the last edge's cursor %q", page, c.PageInfo.EndCursor, c.Edges[len(c.Edges)-1].Cursor)
			}
		}
		wantNext := len(ids) < total
		if c.PageInfo.HasNextPage != wantNext {
			t.Errorf("page %d (items %d of %d) hasNextPage = %v, want %v", page, len(ids), total, c.PageInfo.HasNextPage, wantNext)
		}
		if !c.PageInfo.HasNextPage {
			return ids
		}
		after = c.PageInfo.EndCursor
	}
}

// stSameSet reports whether got holds each of want exactly once.
func stSameSet(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("item %s visited %d times, want exactly once", id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("unexpected item %s visited %d times", id, n)
	}
}

func TestStaffVehiclesPaging(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Paging Vehicles Ltd", "NZ")
	empty := env.NewOrg(t, "No Vehicles Ltd", "NZ")
	t.Parallel()
	var all []string
	for i := range 7 {
		all = append(all, stCreateVehicle(t, env, org.Token, apptest.Vars{"year": 2010 + i, "make": "Make", "model": fmt.Sprintf("Model %d", i)}).ID)
	}
	const q = `query($first: Int, $after: String) { vehicles(first: $first, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	fetch := func(t *testing.T, first int) func(after *string) stConnection {
		return func(after *string) stConnection {
			var out struct{ Vehicles stConnection }
			env.Do(t, org.Token, q, apptest.Vars{"first": first, "after": after}).Decode(t, &out)
			if out.Vehicles.TotalCount != len(all) {
				t.Errorf("totalCount = %d on a page, want %d", out.Vehicles.TotalCount, len(all))
			}
			return out.Vehicles
		}
	}

	for _, size := range []int{1, 3, 7, 100} {
		t.Run(fmt.Sprintf("first %d visits each vehicle exactly once", size), func(t *testing.T) {
			t.Parallel()
			stSameSet(t, stWalk(t, fetch(t, size), size, len(all)), all)
		})
	}

	t.Run("default page size lists all seven", func(t *testing.T) {
		var out struct{ Vehicles stConnection }
		env.Do(t, org.Token, `{ vehicles { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, nil).Decode(t, &out)
		if len(out.Vehicles.Edges) != 7 || out.Vehicles.PageInfo.HasNextPage {
			t.Errorf("vehicles without first: %d edges, hasNextPage %v; want 7 and false", len(out.Vehicles.Edges), out.Vehicles.PageInfo.HasNextPage)
		}
	})

	t.Run("an organization without vehicles gets an empty page", func(t *testing.T) {
		var out struct{ Vehicles stConnection }
		env.Do(t, empty.Token, q, apptest.Vars{"first": 10}).Decode(t, &out)
		v := out.Vehicles
		if v.TotalCount != 0 || len(v.Edges) != 0 || v.PageInfo.HasNextPage || v.PageInfo.EndCursor != nil {
			t.Errorf("empty vehicles = %+v, want no edges, totalCount 0, hasNextPage false, endCursor null", v)
		}
	})

	for _, first := range []int{0, -1, 101, 1000} {
		t.Run(fmt.Sprintf("first %d is BAD_USER_INPUT", first), func(t *testing.T) {
			stExpectError(t, env.Do(t, org.Token, q, apptest.Vars{"first": first}), "BAD_USER_INPUT")
		})
	}

	for _, after := range []string{"garbage", base64.RawURLEncoding.EncodeToString([]byte("not a cursor")), "' OR 1=1 --"} {
		t.Run(fmt.Sprintf("after %q is BAD_USER_INPUT", after), func(t *testing.T) {
			stExpectError(t, env.Do(t, org.Token, q, apptest.Vars{"first": 2, "after": after}), "BAD_USER_INPUT")
		})
	}
}

func TestStaffCustomersPaging(t *testing.T) {
	env := apptest.New(t, testDB)
	plain := env.NewOrg(t, "Paging Customers Ltd", "NZ")
	unicode := env.NewOrg(t, "Unicode Customers Ltd", "NZ")
	t.Parallel()

	const q = `query($first: Int, $after: String) { customers(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	fetch := func(t *testing.T, token string, first int) func(after *string) stConnection {
		return func(after *string) stConnection {
			var out struct{ Customers stConnection }
			env.Do(t, token, q, apptest.Vars{"first": first, "after": after}).Decode(t, &out)
			return out.Customers
		}
	}
	create := func(t *testing.T, token string, names ...string) []string {
		var ids []string
		for _, n := range names {
			ids = append(ids, stCreateCustomer(t, env, token, n))
		}
		return ids
	}

	t.Run("plain names", func(t *testing.T) {
		// Equal names page stably too.
		ids := create(t, plain.Token, "alice adams", "Bob Brown", "bob brown", "Carol Chen", "Dan Dunn", "Dan Dunn")
		for _, size := range []int{1, 2, 4, 6} {
			t.Run(fmt.Sprintf("first %d visits each customer exactly once", size), func(t *testing.T) {
				stSameSet(t, stWalk(t, fetch(t, plain.Token, size), size, len(ids)), ids)
			})
		}
		for _, first := range []int{0, 101} {
			t.Run(fmt.Sprintf("first %d is BAD_USER_INPUT", first), func(t *testing.T) {
				stExpectError(t, env.Do(t, plain.Token, q, apptest.Vars{"first": first}), "BAD_USER_INPUT")
			})
		}
		t.Run("after garbage is BAD_USER_INPUT", func(t *testing.T) {
			stExpectError(t, env.Do(t, plain.Token, q, apptest.Vars{"first": 2, "after": "garbage"}), "BAD_USER_INPUT")
		})
	})

	// Customers of an importer have names from everywhere. "İ" (Turkish
	// dotted capital I) lower-cases differently in Go and in PostgreSQL, a
	// classic way for a keyset cursor to skip rows.
	t.Run("non-ASCII names", func(t *testing.T) {
		ids := create(t, unicode.Token, "İzmir Motors", "Izzy Brown", "ivan ivanov", "Émile Zola", "Zoë Zhang", "Øyvind Berg", "ẞtraße GmbH")
		for _, size := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("first %d visits each customer exactly once", size), func(t *testing.T) {
				stSameSet(t, stWalk(t, fetch(t, unicode.Token, size), size, len(ids)), ids)
			})
		}
	})
}

// ---- search and stage filters ----

func TestStaffVehiclesSearchAndStage(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Search Ltd", "NZ")
	t.Parallel()
	aroha := stCreateCustomer(t, env, org.Token, "Aroha Ngata")
	ben := stCreateCustomer(t, env, org.Token, "Ben Smith")

	ids := map[string]string{}
	for label, in := range map[string]apptest.Vars{
		"cruiser": {"year": 2019, "make": "Toyota", "model": "Land Cruiser", "vin": "JTMHV05J604123456", "stockNumber": "STK-1001", "customerId": aroha, "stage": "IN_TRANSIT"},
		"skyline": {"year": 2015, "make": "Nissan", "model": "Skyline GT-R", "vin": "BNR34-100234", "stockNumber": "NZ_7", "customerId": ben, "stage": "IN_TRANSIT"},
		"mx5rf":   {"year": 2018, "make": "Mazda", "model": "MX_5 RF", "stage": "ARRIVED"},
		"miata":   {"year": 2018, "make": "Mazda", "model": "MX-5 Miata", "stockNumber": "NZ77"},
		"fit":     {"year": 2020, "make": "Honda", "model": "Fit 100% Hybrid"},
		"legacy":  {"year": 2012, "make": "Subaru", "model": "Legacy"},
	} {
		ids[label] = stCreateVehicle(t, env, org.Token, in).ID
	}

	const q = `query($stage: Stage, $search: String) { vehicles(first: 100, stage: $stage, search: $search) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	for _, tc := range []struct {
		name   string
		stage  any
		search any
		want   []string
	}{
		{"make, any case", nil, "tOyOtA", []string{"cruiser"}},
		{"model", nil, "land CRUISER", []string{"cruiser"}},
		{"part of a model", nil, "skyline", []string{"skyline"}},
		{"VIN, lower case", nil, "jtmhv05j6", []string{"cruiser"}},
		{"stock number", nil, "stk-1001", []string{"cruiser"}},
		{"customer name", nil, "AROHA", []string{"cruiser"}},
		{"customer surname", nil, "smith", []string{"skyline"}},
		{"two of one make", nil, "mazda", []string{"mx5rf", "miata"}},
		{"underscore is literal, not any character", nil, "MX_5", []string{"mx5rf"}},
		{"underscore alone", nil, "_", []string{"mx5rf", "skyline"}},
		{"underscore in a stock number", nil, "NZ_7", []string{"skyline"}},
		{"percent is literal, not any text", nil, "100%", []string{"fit"}},
		{"percent alone", nil, "%", []string{"fit"}},
		{"backslash matches nothing here", nil, `\`, nil},
		{"no match", nil, "Lamborghini", nil},
		{"stage alone", "IN_TRANSIT", nil, []string{"cruiser", "skyline"}},
		{"stage with nothing in it", "DELIVERED", nil, nil},
		{"default stage of the others", "PURCHASED", nil, []string{"miata", "fit", "legacy"}},
		{"stage and search together", "IN_TRANSIT", "nissan", []string{"skyline"}},
		{"stage and search that exclude each other", "ARRIVED", "toyota", nil},
		{"neither: everything", nil, nil, []string{"cruiser", "skyline", "mx5rf", "miata", "fit", "legacy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out struct{ Vehicles stConnection }
			env.Do(t, org.Token, q, apptest.Vars{"stage": tc.stage, "search": tc.search}).Decode(t, &out)
			var want, got []string
			for _, l := range tc.want {
				want = append(want, ids[l])
			}
			for _, e := range out.Vehicles.Edges {
				got = append(got, e.Node.ID)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				names := map[string]string{}
				for l, id := range ids {
					names[id] = l
				}
				var gotNames []string
				for _, id := range got {
					gotNames = append(gotNames, names[id])
				}
				t.Errorf("stage %v search %v matched %v, want %v", tc.stage, tc.search, gotNames, tc.want)
			}
			if out.Vehicles.TotalCount != len(tc.want) {
				t.Errorf("totalCount = %d, want %d (it must respect the filters)", out.Vehicles.TotalCount, len(tc.want))
			}
		})
	}

	t.Run("totalCount counts the filtered list, not the page", func(t *testing.T) {
		var out struct{ Vehicles stConnection }
		env.Do(t, org.Token, `{ vehicles(first: 1, stage: IN_TRANSIT) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, nil).Decode(t, &out)
		if len(out.Vehicles.Edges) != 1 || out.Vehicles.TotalCount != 2 || !out.Vehicles.PageInfo.HasNextPage {
			t.Errorf("first 1 of IN_TRANSIT: %d edges, totalCount %d, hasNextPage %v; want 1, 2, true",
				len(out.Vehicles.Edges), out.Vehicles.TotalCount, out.Vehicles.PageInfo.HasNextPage)
		}
	})

	t.Run("paging a filtered list stays inside the filter", func(t *testing.T) {
		fetch := func(after *string) stConnection {
			var out struct{ Vehicles stConnection }
			env.Do(t, org.Token, `query($after: String) { vehicles(first: 1, after: $after, search: "mazda") {
				totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`, apptest.Vars{"after": after}).Decode(t, &out)
			return out.Vehicles
		}
		stSameSet(t, stWalk(t, fetch, 1, 2), []string{ids["mx5rf"], ids["miata"]})
	})
}

// ---- customers ----

func TestStaffCreateCustomer(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Customers Ltd", "NZ")
	t.Parallel()
	type customer struct {
		ID, Name     string
		Email, Phone *string
	}
	const m = `mutation($in: CustomerInput!) { createCustomer(input: $in) { id name email phone } }`

	t.Run("all fields", func(t *testing.T) {
		var out struct{ CreateCustomer customer }
		env.Do(t, org.Token, m, apptest.Vars{"in": apptest.Vars{"name": "Aroha Ngata", "email": "aroha@example.co.nz", "phone": "+64 21 555 0101"}}).Decode(t, &out)
		c := out.CreateCustomer
		if c.ID == "" || c.Name != "Aroha Ngata" || c.Email == nil || *c.Email != "aroha@example.co.nz" || c.Phone == nil || *c.Phone != "+64 21 555 0101" {
			t.Errorf("createCustomer = %+v", c)
		}
		var list struct {
			Customers struct{ Edges []struct{ Node customer } }
		}
		env.Do(t, org.Token, `{ customers { edges { node { id name email phone } } } }`, nil).Decode(t, &list)
		found := false
		for _, e := range list.Customers.Edges {
			found = found || e.Node.ID == c.ID && e.Node.Name == "Aroha Ngata"
		}
		if !found {
			t.Errorf("customers does not list the new customer %s: %+v", c.ID, list)
		}
	})

	t.Run("name only", func(t *testing.T) {
		var out struct{ CreateCustomer customer }
		env.Do(t, org.Token, m, apptest.Vars{"in": apptest.Vars{"name": "Ben Smith"}}).Decode(t, &out)
		if c := out.CreateCustomer; c.Name != "Ben Smith" || c.Email != nil || c.Phone != nil {
			t.Errorf("createCustomer = %+v, want Ben Smith with null email and phone", c)
		}
	})
}

// ---- money ----

func TestStaffMoney(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Money Ltd", "NZ")
	t.Parallel()
	for _, tc := range []struct{ amount, currency, wantAmount, wantCurrency string }{
		{"12500", "NZD", "12500.00", "NZD"},
		{"12500.5", "NZD", "12500.50", "NZD"},
		{"12500.55", "NZD", "12500.55", "NZD"},
		{"0", "NZD", "0.00", "NZD"},
		{"1500000", "JPY", "1500000", "JPY"},
		{"12.5", "KWD", "12.500", "KWD"}, // ISO 4217: three decimals
		{"999999999.99", "USD", "999999999.99", "USD"},
		{"12500", "nzd", "12500.00", "NZD"}, // domain.NormalizeMoney upper-cases the code
	} {
		t.Run(tc.amount+" "+tc.currency, func(t *testing.T) {
			t.Parallel()
			want := stMoney{tc.wantAmount, tc.wantCurrency}
			v := stCreateVehicle(t, env, org.Token, apptest.Vars{"year": 2019, "make": "Toyota", "model": "Hilux",
				"agreedSalePrice": apptest.Vars{"amount": tc.amount, "currency": tc.currency}})
			if v.AgreedSalePrice == nil || *v.AgreedSalePrice != want {
				t.Errorf("createVehicle agreedSalePrice = %+v, want %+v", v.AgreedSalePrice, want)
			}
			read := stVehicleByID(t, env, org.Token, v.ID)
			if read.AgreedSalePrice == nil || *read.AgreedSalePrice != want {
				t.Errorf("agreedSalePrice read back = %+v, want %+v", read.AgreedSalePrice, want)
			}
			var cost struct{ AddCost struct{ Amount stMoney } }
			env.Do(t, org.Token, `mutation($v: ID!, $a: Decimal!, $c: String!) { addCost(vehicleId: $v, input: {category: "Shipping", amount: {amount: $a, currency: $c}}) { amount { amount currency } } }`,
				apptest.Vars{"v": v.ID, "a": tc.amount, "c": tc.currency}).Decode(t, &cost)
			if cost.AddCost.Amount != want {
				t.Errorf("addCost amount = %+v, want %+v", cost.AddCost.Amount, want)
			}
		})
	}
}

// ---- notes ----

type stNote struct {
	ID, Body, Scope      string
	Author               *struct{ ID, Email, Name, Role string }
	CreatedAt, UpdatedAt string
}

const stNoteFields = `id body scope author { id email name role } createdAt updatedAt`

func stAddNote(t testing.TB, env *apptest.Env, token, vehicleID, body, scope string) stNote {
	t.Helper()
	var out struct{ AddNote stNote }
	env.Do(t, token, `mutation($v: ID!, $b: String!, $s: NoteScope!) { addNote(vehicleId: $v, body: $b, scope: $s) { `+stNoteFields+` } }`,
		apptest.Vars{"v": vehicleID, "b": body, "s": scope}).Decode(t, &out)
	return out.AddNote
}

func stNotes(t testing.TB, env *apptest.Env, token, vehicleID string, scope any) []stNote {
	t.Helper()
	var out struct{ Vehicle struct{ Notes []stNote } }
	env.Do(t, token, `query($v: ID!, $s: NoteScope) { vehicle(id: $v) { notes(scope: $s) { `+stNoteFields+` } } }`,
		apptest.Vars{"v": vehicleID, "s": scope}).Decode(t, &out)
	return out.Vehicle.Notes
}

func stNoteBodies(notes []stNote) []string {
	var out []string
	for _, n := range notes {
		out = append(out, n.Body)
	}
	return out
}

func TestStaffNotes(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Notes Ltd", "NZ")
	t.Parallel()

	t.Run("addNote returns the note with the caller as author", func(t *testing.T) {
		t.Parallel()
		v := newVehicle(t, env, org.Token)
		n := stAddNote(t, env, org.Token, v, "Booked on the next ship", "CUSTOMER")
		if n.ID == "" || n.Body != "Booked on the next ship" || n.Scope != "CUSTOMER" {
			t.Errorf("addNote = %+v", n)
		}
		if n.Author == nil || n.Author.ID != org.UserID || n.Author.Email != org.Email || n.Author.Role != "OWNER" {
			t.Errorf("author = %+v, want the caller %s (%s)", n.Author, org.UserID, org.Email)
		}
		if _, err := time.Parse(time.RFC3339Nano, n.CreatedAt); err != nil {
			t.Errorf("createdAt %q: %v", n.CreatedAt, err)
		}
	})

	t.Run("notes are newest first and scope filters them", func(t *testing.T) {
		t.Parallel()
		v := newVehicle(t, env, org.Token)
		stAddNote(t, env, org.Token, v, "one: bought at auction", "CUSTOMER")
		stAddNote(t, env, org.Token, v, "two: haggled the price down", "INTERNAL")
		stAddNote(t, env, org.Token, v, "three: loaded on the ship", "CUSTOMER")
		for _, tc := range []struct {
			scope any
			want  []string
		}{
			{nil, []string{"three: loaded on the ship", "two: haggled the price down", "one: bought at auction"}},
			{"CUSTOMER", []string{"three: loaded on the ship", "one: bought at auction"}},
			{"INTERNAL", []string{"two: haggled the price down"}},
		} {
			if got := stNoteBodies(stNotes(t, env, org.Token, v, tc.scope)); !slices.Equal(got, tc.want) {
				t.Errorf("notes(scope: %v) = %q, want %q", tc.scope, got, tc.want)
			}
		}
	})

	const update = `mutation($id: ID!, $b: String, $s: NoteScope) { updateNote(id: $id, body: $b, scope: $s) { ` + stNoteFields + ` } }`

	t.Run("updateNote with only a body keeps the scope", func(t *testing.T) {
		t.Parallel()
		v := newVehicle(t, env, org.Token)
		n := stAddNote(t, env, org.Token, v, "draft", "INTERNAL")
		var out struct{ UpdateNote stNote }
		env.Do(t, org.Token, update, apptest.Vars{"id": n.ID, "b": "final"}).Decode(t, &out)
		if out.UpdateNote.Body != "final" || out.UpdateNote.Scope != "INTERNAL" {
			t.Errorf("updateNote = %+v, want body final, scope INTERNAL", out.UpdateNote)
		}
		created, _ := time.Parse(time.RFC3339Nano, n.CreatedAt)
		updated, err := time.Parse(time.RFC3339Nano, out.UpdateNote.UpdatedAt)
		if err != nil || !updated.After(created) {
			t.Errorf("updatedAt %q, want after createdAt %q", out.UpdateNote.UpdatedAt, n.CreatedAt)
		}
		if got := stNotes(t, env, org.Token, v, nil); len(got) != 1 || got[0].Body != "final" || got[0].Scope != "INTERNAL" {
			t.Errorf("notes after update = %+v", got)
		}
	})

	t.Run("updateNote with only a scope keeps the body", func(t *testing.T) {
		t.Parallel()
		v := newVehicle(t, env, org.Token)
		n := stAddNote(t, env, org.Token, v, "Arrives Tuesday", "INTERNAL")
		var out struct{ UpdateNote stNote }
		env.Do(t, org.Token, update, apptest.Vars{"id": n.ID, "s": "CUSTOMER"}).Decode(t, &out)
		if out.UpdateNote.Body != "Arrives Tuesday" || out.UpdateNote.Scope != "CUSTOMER" {
			t.Errorf("updateNote = %+v, want body kept, scope CUSTOMER", out.UpdateNote)
		}
		if got := stNoteBodies(stNotes(t, env, org.Token, v, "CUSTOMER")); !slices.Equal(got, []string{"Arrives Tuesday"}) {
			t.Errorf("notes(scope: CUSTOMER) after update = %q", got)
		}
	})

	t.Run("deleteNote removes it; deleting again is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		v := newVehicle(t, env, org.Token)
		keep := stAddNote(t, env, org.Token, v, "keep me", "CUSTOMER")
		gone := stAddNote(t, env, org.Token, v, "delete me", "CUSTOMER")
		var out struct{ DeleteNote string }
		env.Do(t, org.Token, `mutation($id: ID!) { deleteNote(id: $id) }`, apptest.Vars{"id": gone.ID}).Decode(t, &out)
		if out.DeleteNote != gone.ID {
			t.Errorf("deleteNote = %q, want %q", out.DeleteNote, gone.ID)
		}
		if got := stNotes(t, env, org.Token, v, nil); len(got) != 1 || got[0].ID != keep.ID {
			t.Errorf("notes after delete = %+v, want only %s", got, keep.ID)
		}
		stExpectError(t, env.Do(t, org.Token, `mutation($id: ID!) { deleteNote(id: $id) }`, apptest.Vars{"id": gone.ID}), "NOT_FOUND")
		stExpectError(t, env.Do(t, org.Token, update, apptest.Vars{"id": gone.ID, "b": "x"}), "NOT_FOUND")
	})
}

// ---- costs and payments ----

func TestStaffCostsAndPayments(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Ledger Ltd", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)

	type cost struct {
		ID, Category string
		Description  *string
		Amount       stMoney
	}
	type payment struct {
		ID         string
		Amount     stMoney
		ReceivedAt string
		Reference  *string
	}
	const addCost = `mutation($v: ID!, $in: CostInput!) { addCost(vehicleId: $v, input: $in) { id category description amount { amount currency } } }`
	const pay = `mutation($v: ID!, $in: PaymentInput!) { recordPayment(vehicleId: $v, input: $in) { id amount { amount currency } receivedAt reference } }`

	var c1, c2 struct{ AddCost cost }
	env.Do(t, org.Token, addCost, apptest.Vars{"v": v, "in": apptest.Vars{"category": "Shipping", "description": "Osaka to Auckland", "amount": apptest.Vars{"amount": "1850.5", "currency": "NZD"}}}).Decode(t, &c1)
	env.Do(t, org.Token, addCost, apptest.Vars{"v": v, "in": apptest.Vars{"category": "Auction fee", "amount": apptest.Vars{"amount": "45000", "currency": "JPY"}}}).Decode(t, &c2)
	var p1, p2 struct{ RecordPayment payment }
	env.Do(t, org.Token, pay, apptest.Vars{"v": v, "in": apptest.Vars{"amount": apptest.Vars{"amount": "2000", "currency": "NZD"}, "receivedAt": "2026-03-01T09:00:00+13:00", "reference": "DEP-1"}}).Decode(t, &p1)
	env.Do(t, org.Token, pay, apptest.Vars{"v": v, "in": apptest.Vars{"amount": apptest.Vars{"amount": "10500.25", "currency": "NZD"}, "receivedAt": "2026-03-15T00:00:00Z"}}).Decode(t, &p2)

	t.Run("addCost returns the cost at the currency's scale", func(t *testing.T) {
		if c := c1.AddCost; c.Category != "Shipping" || c.Description == nil || *c.Description != "Osaka to Auckland" || c.Amount != (stMoney{"1850.50", "NZD"}) {
			t.Errorf("addCost = %+v", c)
		}
		if c := c2.AddCost; c.Category != "Auction fee" || c.Description != nil || c.Amount != (stMoney{"45000", "JPY"}) {
			t.Errorf("addCost = %+v", c)
		}
	})

	t.Run("recordPayment returns receivedAt in UTC", func(t *testing.T) {
		p := p1.RecordPayment
		if p.Amount != (stMoney{"2000.00", "NZD"}) || p.Reference == nil || *p.Reference != "DEP-1" {
			t.Errorf("recordPayment = %+v", p)
		}
		got, err := time.Parse(time.RFC3339Nano, p.ReceivedAt)
		want := time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC) // 09:00 at +13:00
		if err != nil || !got.Equal(want) || !strings.HasSuffix(p.ReceivedAt, "Z") {
			t.Errorf("receivedAt = %q, want %s in UTC", p.ReceivedAt, want.Format(time.RFC3339))
		}
	})

	t.Run("the vehicle lists its costs and payments", func(t *testing.T) {
		var out struct {
			Vehicle struct {
				Costs    []cost
				Payments []payment
			}
		}
		env.Do(t, org.Token, `query($v: ID!) { vehicle(id: $v) {
			costs { id category description amount { amount currency } }
			payments { id amount { amount currency } receivedAt reference } } }`, apptest.Vars{"v": v}).Decode(t, &out)
		var costIDs, payIDs []string
		for _, c := range out.Vehicle.Costs {
			costIDs = append(costIDs, c.ID+" "+c.Amount.Amount+" "+c.Amount.Currency)
		}
		for _, p := range out.Vehicle.Payments {
			payIDs = append(payIDs, p.ID+" "+p.Amount.Amount+" "+p.Amount.Currency)
		}
		slices.Sort(costIDs)
		slices.Sort(payIDs)
		wantCosts := []string{c1.AddCost.ID + " 1850.50 NZD", c2.AddCost.ID + " 45000 JPY"}
		wantPays := []string{p1.RecordPayment.ID + " 2000.00 NZD", p2.RecordPayment.ID + " 10500.25 NZD"}
		slices.Sort(wantCosts)
		slices.Sort(wantPays)
		if !slices.Equal(costIDs, wantCosts) {
			t.Errorf("costs = %q, want %q", costIDs, wantCosts)
		}
		if !slices.Equal(payIDs, wantPays) {
			t.Errorf("payments = %q, want %q", payIDs, wantPays)
		}
	})

	t.Run("a vehicle without any has empty lists", func(t *testing.T) {
		other := newVehicle(t, env, org.Token)
		var out struct {
			Vehicle struct {
				Costs    []cost
				Payments []payment
			}
		}
		env.Do(t, org.Token, `query($v: ID!) { vehicle(id: $v) { costs { id } payments { id } } }`, apptest.Vars{"v": other}).Decode(t, &out)
		if out.Vehicle.Costs == nil || len(out.Vehicle.Costs) != 0 || out.Vehicle.Payments == nil || len(out.Vehicle.Payments) != 0 {
			t.Errorf("costs = %#v, payments = %#v; want [] and []", out.Vehicle.Costs, out.Vehicle.Payments)
		}
	})
}
