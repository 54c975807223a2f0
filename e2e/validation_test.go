package e2e

// Input validation: every refused input is BAD_USER_INPUT (or NOT_FOUND for
// ids), writes nothing, and its message carries no database text.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"importops/apptest"
)

func stBaseVehicleInput() apptest.Vars {
	return apptest.Vars{"year": 2019, "make": "Toyota", "model": "Land Cruiser"}
}

func stWith(base apptest.Vars, k string, v any) apptest.Vars {
	out := apptest.Vars{}
	for key, val := range base {
		out[key] = val
	}
	out[k] = v
	return out
}

func TestValidationCreateVehicle(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Vehicles Ltd", "NZ")
	t.Parallel()
	year := time.Now().Year()
	base := stBaseVehicleInput()
	price := func(amount, currency string) apptest.Vars {
		return apptest.Vars{"amount": amount, "currency": currency}
	}

	// Refused cases run one after another: each checks the row count.
	refused := []struct {
		name string
		in   apptest.Vars
	}{
		{"year 1885, before the first automobile", stWith(base, "year", 1885)},
		{"year 0", stWith(base, "year", 0)},
		{"year -2019", stWith(base, "year", -2019)},
		{"year after next year + 1", stWith(base, "year", year+3)},
		{"empty make", stWith(base, "make", "")},
		{"blank make", stWith(base, "make", "   ")},
		{"make of 101 characters", stWith(base, "make", strings.Repeat("M", 101))},
		{"empty model", stWith(base, "model", "")},
		{"model of 101 characters", stWith(base, "model", strings.Repeat("m", 101))},
		{"VIN of 18 characters", stWith(base, "vin", "JTMHV05J6041234567")},
		{"make with a NUL byte", stWith(base, "make", "Toy\x00ota")},
		{"negative amount", stWith(base, "agreedSalePrice", price("-1", "NZD"))},
		{"three decimals in NZD", stWith(base, "agreedSalePrice", price("12.345", "NZD"))},
		{"decimals in JPY", stWith(base, "agreedSalePrice", price("1500000.5", "JPY"))},
		{"amount that is not a number", stWith(base, "agreedSalePrice", price("twelve", "NZD"))},
		{"amount with a currency sign", stWith(base, "agreedSalePrice", price("$12", "NZD"))},
		{"empty amount", stWith(base, "agreedSalePrice", price("", "NZD"))},
		{"currency XYZ1", stWith(base, "agreedSalePrice", price("1", "XYZ1"))},
		{"currency QQQ", stWith(base, "agreedSalePrice", price("1", "QQQ"))},
		{"currency 12$", stWith(base, "agreedSalePrice", price("1", "12$"))},
		{"currency ABC", stWith(base, "agreedSalePrice", price("1", "ABC"))},
		{"empty currency", stWith(base, "agreedSalePrice", price("1", ""))},
		{"currency symbol", stWith(base, "agreedSalePrice", price("1", "$"))},
		{"estimatedArrival that is not a date", stWith(base, "estimatedArrival", "2026-13-45")},
		{"estimatedArrival with a time", stWith(base, "estimatedArrival", "2026-09-30T00:00:00Z")},
	}
	for _, tc := range refused {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			before := stCount(t, "vehicles", org.ID)
			res := env.Do(t, org.Token, stCreateVehicleMutation, apptest.Vars{"in": tc.in})
			stExpectError(t, res, "BAD_USER_INPUT")
			if after := stCount(t, "vehicles", org.ID); after != before {
				t.Errorf("vehicles went from %d to %d: a refused createVehicle wrote a row", before, after)
			}
		})
	}

	t.Run("refuses a float literal amount", func(t *testing.T) {
		before := stCount(t, "vehicles", org.ID)
		res := env.Do(t, org.Token, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux",
			agreedSalePrice: {amount: 12500.5, currency: "NZD"}}) { id } }`, nil)
		stExpectError(t, res, "BAD_USER_INPUT")
		if after := stCount(t, "vehicles", org.ID); after != before {
			t.Errorf("vehicles went from %d to %d", before, after)
		}
	})

	accepted := []struct {
		name string
		in   apptest.Vars
	}{
		{"year 1886", stWith(base, "year", 1886)},
		{"year next year + 1", stWith(base, "year", year+2)},
		{"make of 100 characters", stWith(base, "make", strings.Repeat("M", 100))},
		{"make of 100 non-ASCII characters", stWith(base, "make", strings.Repeat("é", 100))},
		{"model of 100 characters", stWith(base, "model", strings.Repeat("m", 100))},
		{"VIN of 17 characters", stWith(base, "vin", "JTMHV05J604123456")},
	}
	for _, tc := range accepted {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			res := env.Do(t, org.Token, stCreateVehicleMutation, apptest.Vars{"in": tc.in})
			if len(res.Errors) > 0 {
				t.Errorf("createVehicle refused a valid input: %s", res.Body)
			}
		})
	}
}

func TestValidationUpdateVehicle(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Updates Ltd", "NZ")
	t.Parallel()
	v := stCreateVehicle(t, env, org.Token, apptest.Vars{"year": 2019, "make": "Toyota", "model": "Land Cruiser",
		"vin": "JTMHV05J604123456", "agreedSalePrice": apptest.Vars{"amount": "100", "currency": "NZD"}})
	const m = `mutation($id: ID!, $in: UpdateVehicleInput!) { updateVehicle(id: $id, input: $in) { id } }`
	for _, tc := range []struct {
		name string
		in   apptest.Vars
	}{
		{"year 1885", apptest.Vars{"year": 1885}},
		{"year after next year + 1", apptest.Vars{"year": time.Now().Year() + 3}},
		{"empty make", apptest.Vars{"make": ""}},
		{"model of 101 characters", apptest.Vars{"model": strings.Repeat("m", 101)}},
		{"VIN of 18 characters", apptest.Vars{"vin": "JTMHV05J6041234567"}},
		{"negative price", apptest.Vars{"agreedSalePrice": apptest.Vars{"amount": "-1", "currency": "NZD"}}},
		{"unknown currency", apptest.Vars{"agreedSalePrice": apptest.Vars{"amount": "1", "currency": "QQQ"}}},
		{"a valid change next to an invalid one", apptest.Vars{"stage": "DELIVERED", "year": 1885}},
	} {
		t.Run("refuses "+tc.name+" and changes nothing", func(t *testing.T) {
			res := env.Do(t, org.Token, m, apptest.Vars{"id": v.ID, "in": tc.in})
			stExpectError(t, res, "BAD_USER_INPUT")
			if got := stDescribe(*stVehicleByID(t, env, org.Token, v.ID)); got != stDescribe(v) {
				t.Errorf("vehicle after refused update\n  %s\nwant unchanged\n  %s", got, stDescribe(v))
			}
		})
	}
}

func TestValidationCostsAndPayments(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Ledger Ltd", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)
	const addCost = `mutation($v: ID!, $in: CostInput!) { addCost(vehicleId: $v, input: $in) { id } }`
	const pay = `mutation($v: ID!, $in: PaymentInput!) { recordPayment(vehicleId: $v, input: $in) { id } }`
	money := func(amount, currency string) apptest.Vars {
		return apptest.Vars{"amount": amount, "currency": currency}
	}

	for _, tc := range []struct {
		name string
		in   apptest.Vars
	}{
		{"negative amount", apptest.Vars{"category": "Freight", "amount": money("-1", "NZD")}},
		{"too many decimals", apptest.Vars{"category": "Freight", "amount": money("1.001", "NZD")}},
		{"unknown currency", apptest.Vars{"category": "Freight", "amount": money("1", "QQQ")}},
		{"currency XYZ1", apptest.Vars{"category": "Freight", "amount": money("1", "XYZ1")}},
		{"empty category", apptest.Vars{"category": "", "amount": money("1", "NZD")}},
	} {
		t.Run("addCost refuses "+tc.name, func(t *testing.T) {
			before := stCount(t, "cost_items", org.ID)
			stExpectError(t, env.Do(t, org.Token, addCost, apptest.Vars{"v": v, "in": tc.in}), "BAD_USER_INPUT")
			if after := stCount(t, "cost_items", org.ID); after != before {
				t.Errorf("cost_items went from %d to %d", before, after)
			}
		})
	}

	for _, tc := range []struct {
		name string
		in   apptest.Vars
	}{
		{"negative amount", apptest.Vars{"amount": money("-1", "NZD"), "receivedAt": "2026-01-01T00:00:00Z"}},
		{"decimals in JPY", apptest.Vars{"amount": money("0.5", "JPY"), "receivedAt": "2026-01-01T00:00:00Z"}},
		{"unknown currency", apptest.Vars{"amount": money("1", "QQQ"), "receivedAt": "2026-01-01T00:00:00Z"}},
		{"receivedAt that is not a time", apptest.Vars{"amount": money("1", "NZD"), "receivedAt": "yesterday"}},
	} {
		t.Run("recordPayment refuses "+tc.name, func(t *testing.T) {
			before := stCount(t, "payments", org.ID)
			stExpectError(t, env.Do(t, org.Token, pay, apptest.Vars{"v": v, "in": tc.in}), "BAD_USER_INPUT")
			if after := stCount(t, "payments", org.ID); after != before {
				t.Errorf("payments went from %d to %d", before, after)
			}
		})
	}
}

func TestValidationNotes(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Notes Ltd", "NZ")
	t.Parallel()
	v := newVehicle(t, env, org.Token)
	const add = `mutation($v: ID!, $b: String!) { addNote(vehicleId: $v, body: $b, scope: INTERNAL) { id } }`

	for name, body := range map[string]string{
		"an empty body":               "",
		"a blank body":                " \n\t ",
		"a body of 10,001 characters": strings.Repeat("n", 10001),
	} {
		t.Run("addNote refuses "+name, func(t *testing.T) {
			before := stCount(t, "notes", org.ID)
			stExpectError(t, env.Do(t, org.Token, add, apptest.Vars{"v": v, "b": body}), "BAD_USER_INPUT")
			if after := stCount(t, "notes", org.ID); after != before {
				t.Errorf("notes went from %d to %d", before, after)
			}
		})
	}

	t.Run("addNote accepts 10,000 characters", func(t *testing.T) {
		res := env.Do(t, org.Token, add, apptest.Vars{"v": v, "b": strings.Repeat("ā", 10000)})
		if len(res.Errors) > 0 {
			t.Errorf("addNote refused 10,000 characters: %s", res.Errors[0].Message)
		}
	})

	t.Run("updateNote refuses 10,001 characters and keeps the body", func(t *testing.T) {
		noteID := addNote(t, env, org.Token, v, "original", "CUSTOMER")
		res := env.Do(t, org.Token, `mutation($id: ID!, $b: String) { updateNote(id: $id, body: $b) { id } }`,
			apptest.Vars{"id": noteID, "b": strings.Repeat("n", 10001)})
		stExpectError(t, res, "BAD_USER_INPUT")
		var body string
		if err := testDB.Get(&body, `SELECT body FROM notes WHERE id = $1`, noteID); err != nil {
			t.Fatal(err)
		}
		if body != "original" {
			t.Errorf("note body = %q after refused update, want original", body)
		}
	})
}

func TestValidationOrganization(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Org Ltd", "NZ")
	t.Parallel()
	const m = `mutation($in: UpdateOrganizationInput!) { updateOrganization(input: $in) { id } }`
	read := func(t *testing.T) string {
		var s string
		if err := testDB.Get(&s, `SELECT name || '|' || country FROM organizations WHERE id = $1`, org.ID); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		in   apptest.Vars
	}{
		{"country ZZ (unknown region)", apptest.Vars{"country": "ZZ"}},
		{"country NZL (alpha-3)", apptest.Vars{"country": "NZL"}},
		{"country UK (reserved; ISO 3166-1 has GB)", apptest.Vars{"country": "UK"}},
		{"country EU (not a country)", apptest.Vars{"country": "EU"}},
		{"country 12", apptest.Vars{"country": "12"}},
		{"empty country", apptest.Vars{"country": ""}},
		{"country null", apptest.Vars{"country": nil}},
		{"empty name", apptest.Vars{"name": ""}},
		{"blank name", apptest.Vars{"name": "  "}},
		{"name null", apptest.Vars{"name": nil}},
		{"name of 101 characters", apptest.Vars{"name": strings.Repeat("n", 101)}},
		{"a good name with a bad country", apptest.Vars{"name": "Renamed Ltd", "country": "ZZ"}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			before := read(t)
			res := env.Do(t, org.Token, m, apptest.Vars{"in": tc.in})
			if after := read(t); after != before {
				t.Errorf("organization = %q after refused update, want %q", after, before)
			}
			stExpectError(t, res, "BAD_USER_INPUT")
		})
	}
}

func TestValidationCustomer(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation Customers Ltd", "NZ")
	t.Parallel()
	const m = `mutation($in: CustomerInput!) { createCustomer(input: $in) { id } }`
	for _, tc := range []struct {
		name string
		in   apptest.Vars
	}{
		{"empty name", apptest.Vars{"name": ""}},
		{"name of 101 characters", apptest.Vars{"name": strings.Repeat("c", 101)}},
		{"email without @", apptest.Vars{"name": "Ann", "email": "ann.example.com"}},
		{"email with a display name", apptest.Vars{"name": "Ann", "email": "Ann <ann@example.com>"}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			before := stCount(t, "customers", org.ID)
			stExpectError(t, env.Do(t, org.Token, m, apptest.Vars{"in": tc.in}), "BAD_USER_INPUT")
			if after := stCount(t, "customers", org.ID); after != before {
				t.Errorf("customers went from %d to %d", before, after)
			}
		})
	}
}

func TestValidationMalformedIDs(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Validation IDs Ltd", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)

	for _, id := range []string{"not-a-uuid", "", "00000000-0000-0000-0000-000000000000", "' OR 1=1 --", "7f1b1a4e7a534a539d3f2d5b1a1e0c11", strings.Repeat("9", 300)} {
		t.Run(fmt.Sprintf("vehicle(id: %.40q) is null", id), func(t *testing.T) {
			res := env.Do(t, org.Token, `query($id: ID!) { vehicle(id: $id) { id } }`, apptest.Vars{"id": id})
			var out struct{ Vehicle *struct{ ID string } }
			res.Decode(t, &out)
			if out.Vehicle != nil {
				t.Errorf("vehicle = %s, want null", res.Data)
			}
		})

		// Every mutation that takes the id of an existing object.
		ops := stStaffOperations(id, id, id, id)
		for _, op := range ops {
			switch op.name {
			case "viewer", "vehicles", "customers", "logout", "updateOrganization", "uploadOrganizationLogo", "createCustomer", "vehicle",
				"trackingLinks":
				continue
			}
			t.Run(fmt.Sprintf("%s with id %.40q is NOT_FOUND", op.name, id), func(t *testing.T) {
				stExpectError(t, op.do(t, env, org.Token), "NOT_FOUND")
			})
		}

		t.Run(fmt.Sprintf("setHeroPhoto of a real vehicle with photoId %.40q is NOT_FOUND", id), func(t *testing.T) {
			res := env.Do(t, org.Token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`,
				apptest.Vars{"v": vehicleID, "p": id})
			stExpectError(t, res, "NOT_FOUND")
		})
	}

	t.Run("nothing was created by the refused calls", func(t *testing.T) {
		for table, want := range map[string]int{"vehicles": 1, "notes": 0, "photos": 0, "cost_items": 0, "payments": 0, "tracking_links": 0} {
			if n := stCount(t, table, org.ID); n != want {
				t.Errorf("%s has %d rows, want %d", table, n, want)
			}
		}
		if n := len(stMediaFiles(t, env.MediaDir)); n != 0 {
			t.Errorf("MEDIA_DIR holds %d files, want 0", n)
		}
	})
}
