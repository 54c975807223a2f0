package e2e

import (
	"fmt"
	"testing"

	"importops/apptest"
	"importops/db/dbtest"
)

// What staff work costs in SQL statements (the counting driver of
// e2e/statements_test.go), and that it does not grow with the
// organization. README "Performance" quotes these figures.
func TestStatementsPerMutation(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.New(t, conn)
	t.Parallel()
	org := env.NewOrg(t, "Statement Imports", "NZ")
	customer := stCreateCustomer(t, env, org.Token, "Aroha Ngata")

	measure := func(do func()) int64 {
		s := count.Statements()
		do()
		return count.Statements() - s
	}
	seedOne := func(i int) (vehicleStmts, linkStmts int64) {
		var id string
		vehicleStmts = measure(func() {
			var out struct{ CreateVehicle struct{ ID string } }
			env.Do(t, org.Token, `mutation ($in: CreateVehicleInput!) { createVehicle(input: $in) { id title stage } }`,
				apptest.Vars{"in": apptest.Vars{"year": 2019, "make": "Toyota", "model": "Hilux",
					"vin": fmt.Sprintf("JTM%014d", i), "stockNumber": fmt.Sprintf("SN-%d", i), "customerId": customer}}).
				Decode(t, &out)
			id = out.CreateVehicle.ID
		})
		linkStmts = measure(func() {
			env.Do(t, org.Token, `mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { url } }`, apptest.Vars{"v": id}).
				Decode(t, &struct{}{})
		})
		return vehicleStmts, linkStmts
	}

	// The bearer token's lookup, then the insert (its customer checked
	// inside it). Each nested object the answer asks for (customer,
	// trackingLink, ...) adds one statement, through its loader.
	const wantVehicle = 2
	// The token, then one statement that locks the vehicle and inserts
	// the link and its event (picked photos add a transaction: BEGIN, the
	// lock, their check, their insert, COMMIT).
	const wantLink = 2
	first, firstLink := seedOne(0)
	for i := 1; i < 30; i++ {
		seedOne(i)
	}
	later, laterLink := seedOne(30)
	t.Logf("createVehicle: %d statements (1st) and %d (31st); createTrackingLink: %d and %d", first, later, firstLink, laterLink)
	if first != later || firstLink != laterLink {
		t.Errorf("statements grow with the organization: createVehicle %d then %d, createTrackingLink %d then %d",
			first, later, firstLink, laterLink)
	}
	if first > wantVehicle {
		t.Errorf("createVehicle with a customer costs %d statements, want at most %d", first, wantVehicle)
	}
	if firstLink > wantLink {
		t.Errorf("createTrackingLink costs %d statements, want at most %d", firstLink, wantLink)
	}

	t.Run("totalCount costs a statement only when selected", func(t *testing.T) {
		list := func(query string) (stmts int64, out map[string]map[string]any) {
			stmts = measure(func() { env.Do(t, org.Token, query, nil).Decode(t, &out) })
			return stmts, out
		}
		without, _ := list(`{ vehicles(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }`)
		for _, q := range []string{
			`{ vehicles(first: 5) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`,
			`{ vehicles(first: 5) { edges { node { id } } ... on VehicleConnection { n: totalCount } pageInfo { hasNextPage } } }`,
			`query { vehicles(first: 5) { ...counted edges { node { id } } pageInfo { hasNextPage } } } fragment counted on VehicleConnection { totalCount }`,
		} {
			with, out := list(q)
			if with != without+1 {
				t.Errorf("with totalCount %d statements, without %d: want exactly one more\n%s", with, without, q)
			}
			v := out["vehicles"]
			n, ok := v["totalCount"]
			if !ok {
				n = v["n"]
			}
			if n != float64(31) {
				t.Errorf("totalCount = %v, want 31\n%s", n, q)
			}
		}
		// @skip leaves it out.
		if skipped, _ := list(`{ vehicles(first: 5) { totalCount @skip(if: true) edges { node { id } } pageInfo { hasNextPage } } }`); skipped != without {
			t.Errorf("totalCount @skip(if: true) costs %d statements, without it %d", skipped, without)
		}
	})
}
