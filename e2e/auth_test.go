package e2e

// Authentication and the organization boundary: who may call what, how
// tokens live and die, what is kept in the database, and that another
// organization's objects are NOT_FOUND.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"importops/apptest"
)

// stStaffOperation is one staff Query or Mutation field, called with real
// ids of the organization it is aimed at.
type stStaffOperation struct {
	name   string
	query  string
	vars   apptest.Vars
	upload bool // sent as a multipart request with the file in $file
}

// stStaffOperations lists every staff field of the contract's Query and
// Mutation types, aimed at the given objects.
func stStaffOperations(vehicleID, noteID, photoID, customerID string) []stStaffOperation {
	return []stStaffOperation{
		{name: "viewer", query: `{ viewer { user { id } } }`},
		{name: "vehicle", query: `query($id: ID!) { vehicle(id: $id) { id } }`, vars: apptest.Vars{"id": vehicleID}},
		{name: "vehicles", query: `{ vehicles { totalCount } }`},
		{name: "customers", query: `{ customers { edges { node { id } } } }`},
		{name: "logout", query: `mutation { logout }`},
		{name: "updateOrganization", query: `mutation { updateOrganization(input: {name: "Taken Over"}) { id } }`},
		{name: "uploadOrganizationLogo", query: `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { id } }`, upload: true},
		{name: "createCustomer", query: `mutation { createCustomer(input: {name: "Intruder"}) { id } }`},
		{name: "createVehicle", query: `mutation($c: ID) { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux", customerId: $c}) { id } }`, vars: apptest.Vars{"c": customerID}},
		{name: "updateVehicle", query: `mutation($id: ID!) { updateVehicle(id: $id, input: {make: "Changed", vin: null}) { id } }`, vars: apptest.Vars{"id": vehicleID}},
		{name: "deleteVehicle", query: `mutation($id: ID!) { deleteVehicle(id: $id) }`, vars: apptest.Vars{"id": vehicleID}},
		{name: "uploadVehiclePhoto", query: `mutation($v: ID!, $file: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $file) { id } }`, vars: apptest.Vars{"v": vehicleID}, upload: true},
		{name: "deleteVehiclePhoto", query: `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, vars: apptest.Vars{"id": photoID}},
		{name: "setHeroPhoto", query: `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`, vars: apptest.Vars{"v": vehicleID, "p": photoID}},
		{name: "setHeroPhoto null", query: `mutation($v: ID!) { setHeroPhoto(vehicleId: $v, photoId: null) { id } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "addNote", query: `mutation($v: ID!) { addNote(vehicleId: $v, body: "sneaky", scope: CUSTOMER) { id } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "updateNote", query: `mutation($id: ID!) { updateNote(id: $id, body: "sneaky") { id } }`, vars: apptest.Vars{"id": noteID}},
		{name: "deleteNote", query: `mutation($id: ID!) { deleteNote(id: $id) }`, vars: apptest.Vars{"id": noteID}},
		{name: "addCost", query: `mutation($v: ID!) { addCost(vehicleId: $v, input: {category: "x", amount: {amount: "1", currency: "NZD"}}) { id } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "recordPayment", query: `mutation($v: ID!) { recordPayment(vehicleId: $v, input: {amount: {amount: "1", currency: "NZD"}, receivedAt: "2026-01-01T00:00:00Z"}) { id } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "createTrackingLink", query: `mutation($v: ID!) { createTrackingLink(vehicleId: $v) { slug } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "updateTrackingLink", query: `mutation($v: ID!) { updateTrackingLink(vehicleId: $v, options: {showPhoto: false}) { slug } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "revokeTrackingLink", query: `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "regenerateTrackingLink", query: `mutation($v: ID!) { regenerateTrackingLink(vehicleId: $v) { slug } }`, vars: apptest.Vars{"v": vehicleID}},
		{name: "trackingLinks", query: `{ trackingLinks { totalCount } }`},
		{name: "trackingPreview", query: `query($v: ID!) { trackingPreview(vehicleId: $v) { pageUrl } }`, vars: apptest.Vars{"v": vehicleID}},
	}
}

func (op stStaffOperation) do(t testing.TB, env *apptest.Env, token string) apptest.Response {
	t.Helper()
	vars := apptest.Vars{}
	for k, v := range op.vars {
		vars[k] = v
	}
	if op.upload {
		return env.Upload(t, token, op.query, vars, "file", "car.png", testPNG(t, 4, 3))
	}
	return env.Do(t, token, op.query, vars)
}

// stSeed gives an organization one vehicle with every private field, a
// note, a cost, a payment and a photo.
type stSeed struct {
	vehicleID, noteID, photoID, customerID string
}

func stSeedOrg(t testing.TB, env *apptest.Env, token string) stSeed {
	t.Helper()
	customerID := stCreateCustomer(t, env, token, "Private Customer")
	vehicleID := createVehicle(t, env, token, apptest.Vars{"year": 2017, "make": "Seedmake", "model": "Seedmodel",
		"vin": "SEEDVIN1234567890", "stockNumber": "SEED-1", "customerId": customerID,
		"agreedSalePrice": apptest.Vars{"amount": "31000", "currency": "NZD"}})
	noteID := addNote(t, env, token, vehicleID, "private internal note", "INTERNAL")
	mustDo(t, env, token, `mutation($v: ID!) { addCost(vehicleId: $v, input: {category: "Freight", amount: {amount: "900", currency: "NZD"}}) { id } }`, apptest.Vars{"v": vehicleID})
	mustDo(t, env, token, `mutation($v: ID!) { recordPayment(vehicleId: $v, input: {amount: {amount: "5000", currency: "NZD"}, receivedAt: "2026-01-10T00:00:00Z"}) { id } }`, apptest.Vars{"v": vehicleID})
	photoID := uploadPhoto(t, env, token, vehicleID, "", testPNG(t, 5, 4)).ID
	return stSeed{vehicleID: vehicleID, noteID: noteID, photoID: photoID, customerID: customerID}
}

// stSnapshot is everything of an organization that a staff operation could
// change, read straight from the database.
func stSnapshot(t testing.TB, orgID string) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT name || '|' || country FROM organizations WHERE id = $1`,
		`SELECT coalesce(logo_key, '') FROM organizations WHERE id = $1`,
		`SELECT coalesce(string_agg(id::text || make || model || coalesce(vin, '') || stage || coalesce(hero_photo_id::text, '') || coalesce(deleted_at::text, 'live'), ',' ORDER BY id), '') FROM vehicles WHERE organization_id = $1`,
		`SELECT coalesce(string_agg(id::text || body || scope, ',' ORDER BY id), '') FROM notes WHERE organization_id = $1`,
		`SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM photos WHERE organization_id = $1`,
		`SELECT coalesce(string_agg(id::text || name, ',' ORDER BY id), '') FROM customers WHERE organization_id = $1`,
		`SELECT count(*)::text FROM cost_items WHERE organization_id = $1`,
		`SELECT count(*)::text FROM payments WHERE organization_id = $1`,
		`SELECT count(*)::text FROM tracking_links WHERE organization_id = $1`,
	} {
		var s string
		if err := testDB.Get(&s, q, orgID); err != nil {
			t.Fatalf("snapshot %q: %v", q, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n")
}

func TestAuthAnonymousCallers(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Anonymous Target Ltd", "NZ")
	t.Parallel()
	seed := stSeedOrg(t, env, org.Token)
	before := stSnapshot(t, org.ID)
	filesBefore := len(stMediaFiles(t, env.MediaDir))

	for _, op := range stStaffOperations(seed.vehicleID, seed.noteID, seed.photoID, seed.customerID) {
		t.Run(op.name+" is UNAUTHENTICATED without a token", func(t *testing.T) {
			res := op.do(t, env, "")
			stExpectError(t, res, "UNAUTHENTICATED")
		})
		t.Run(op.name+" is UNAUTHENTICATED with an unknown token", func(t *testing.T) {
			res := op.do(t, env, "this-token-was-never-issued-"+strings.Repeat("x", 20))
			stExpectError(t, res, "UNAUTHENTICATED")
		})
	}

	t.Run("nothing was written", func(t *testing.T) {
		if after := stSnapshot(t, org.ID); after != before {
			t.Errorf("organization changed under anonymous calls:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if n := len(stMediaFiles(t, env.MediaDir)); n != filesBefore {
			t.Errorf("MEDIA_DIR holds %d files after anonymous uploads, want %d", n, filesBefore)
		}
	})

	t.Run("login is open to anonymous callers", func(t *testing.T) {
		var out struct{ Login struct{ Token string } }
		env.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			apptest.Vars{"e": org.Email, "p": org.Password}).Decode(t, &out)
		if out.Login.Token == "" {
			t.Error("login returned an empty token")
		}
	})

	t.Run("publicTracking is open to anonymous callers", func(t *testing.T) {
		res := env.Do(t, "", `{ publicTracking(slug: "no-such-link") { vehicle { title } } }`, nil)
		var out struct{ PublicTracking *struct{} }
		res.Decode(t, &out)
		if out.PublicTracking != nil {
			t.Errorf("publicTracking of an unknown slug = %s, want null", res.Data)
		}
	})
}

const stLogin = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id email name role } } }`

func stLoginToken(t testing.TB, env *apptest.Env, email, password string) string {
	t.Helper()
	var out struct{ Login struct{ Token string } }
	env.Do(t, "", stLogin, apptest.Vars{"e": email, "p": password}).Decode(t, &out)
	if out.Login.Token == "" {
		t.Fatal("login returned an empty token")
	}
	return out.Login.Token
}

func stViewerID(t testing.TB, env *apptest.Env, token string) apptest.Response {
	t.Helper()
	return env.Do(t, token, `{ viewer { user { id } } }`, nil)
}

func TestAuthLogin(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Login Ltd", "NZ")
	t.Parallel()

	t.Run("right email and password give a working token", func(t *testing.T) {
		var out struct {
			Login struct {
				Token string
				User  struct{ ID, Email, Name, Role string }
			}
		}
		env.Do(t, "", stLogin, apptest.Vars{"e": org.Email, "p": org.Password}).Decode(t, &out)
		if out.Login.Token == "" || out.Login.Token == org.Token {
			t.Errorf("login token = %q, want a new non-empty token", out.Login.Token)
		}
		if u := out.Login.User; u.ID != org.UserID || u.Email != org.Email || u.Role != "OWNER" {
			t.Errorf("login user = %+v, want %s %s OWNER", u, org.UserID, org.Email)
		}
		var v struct {
			Viewer struct{ User struct{ ID string } }
		}
		stViewerID(t, env, out.Login.Token).Decode(t, &v)
		if v.Viewer.User.ID != org.UserID {
			t.Errorf("viewer with the new token = %s, want %s", v.Viewer.User.ID, org.UserID)
		}
	})

	countTokens := func(t *testing.T) int {
		var n int
		if err := testDB.Get(&n, `SELECT count(*) FROM auth_tokens WHERE user_id = $1`, org.UserID); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("wrong password and unknown email fail alike", func(t *testing.T) {
		tokensBefore := countTokens(t)
		wrong := env.Do(t, "", stLogin, apptest.Vars{"e": org.Email, "p": "not the password"})
		unknown := env.Do(t, "", stLogin, apptest.Vars{"e": "nobody-" + org.Email, "p": org.Password})
		empty := env.Do(t, "", stLogin, apptest.Vars{"e": org.Email, "p": ""})
		stExpectError(t, wrong, "UNAUTHENTICATED")
		stExpectError(t, unknown, "UNAUTHENTICATED")
		stExpectError(t, empty, "UNAUTHENTICATED")
		if wrong.Errors[0].Message != unknown.Errors[0].Message || wrong.Errors[0].Message != empty.Errors[0].Message {
			t.Errorf("messages differ: wrong password %q, unknown email %q, empty password %q",
				wrong.Errors[0].Message, unknown.Errors[0].Message, empty.Errors[0].Message)
		}
		if string(wrong.Data) != "null" || string(unknown.Data) != "null" {
			t.Errorf("failed logins returned data: %s / %s", wrong.Data, unknown.Data)
		}
		if n := countTokens(t); n != tokensBefore {
			t.Errorf("auth_tokens rows for the user went from %d to %d after failed logins", tokensBefore, n)
		}
	})
}

func TestAuthLogout(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Logout Ltd", "NZ")
	t.Parallel()
	first := stLoginToken(t, env, org.Email, org.Password)
	second := stLoginToken(t, env, org.Email, org.Password)

	var out struct{ Logout bool }
	env.Do(t, first, `mutation { logout }`, nil).Decode(t, &out)
	if !out.Logout {
		t.Error("logout = false, want true")
	}

	t.Run("the token used is revoked", func(t *testing.T) {
		stExpectError(t, stViewerID(t, env, first), "UNAUTHENTICATED")
		res := env.Do(t, first, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux"}) { id } }`, nil)
		stExpectError(t, res, "UNAUTHENTICATED")
		if n := stCount(t, "vehicles", org.ID); n != 0 {
			t.Errorf("a revoked token created %d vehicles", n)
		}
	})
	t.Run("logging out again with it is UNAUTHENTICATED", func(t *testing.T) {
		stExpectError(t, env.Do(t, first, `mutation { logout }`, nil), "UNAUTHENTICATED")
	})
	t.Run("the user's other tokens keep working", func(t *testing.T) {
		for name, token := range map[string]string{"second login": second, "token from NewOrg": org.Token} {
			if res := stViewerID(t, env, token); len(res.Errors) > 0 {
				t.Errorf("%s stopped working after logout of another token: %s", name, res.Body)
			}
		}
	})
}

func TestAuthSecretsAreStoredHashed(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Hashes Ltd", "NZ")
	t.Parallel()
	token := stLoginToken(t, env, org.Email, org.Password)

	t.Run("auth_tokens holds no token in the clear", func(t *testing.T) {
		var rows []struct {
			Hash []byte `db:"token_hash"`
			Row  string `db:"row"`
		}
		if err := testDB.Select(&rows, `SELECT token_hash, t::text AS row FROM auth_tokens t WHERE user_id = $1`, org.UserID); err != nil {
			t.Fatal(err)
		}
		if len(rows) < 2 {
			t.Fatalf("auth_tokens has %d rows for the user, want at least 2 (NewOrg and login)", len(rows))
		}
		raw, _ := base64.RawURLEncoding.DecodeString(token) // the token's random bytes, if it is base64
		for _, tok := range []string{token, org.Token} {
			for i, r := range rows {
				if bytes.Contains(r.Hash, []byte(tok)) || strings.Contains(r.Row, tok) {
					t.Errorf("auth_tokens row %d contains a bearer token in the clear: %s", i, r.Row)
				}
				if len(raw) >= 16 && bytes.Contains(r.Hash, raw) {
					t.Errorf("auth_tokens row %d contains the token's decoded bytes", i)
				}
			}
		}
	})

	t.Run("no table holds an invite or bearer token in the clear", func(t *testing.T) {
		inv := tmInviteUser(t, env, token, "scanned-"+randomSuffix()+"@example.com", "STAFF")
		inviteToken := tmToken(inv.URL)
		member, res := tmAccept(t, env, inviteToken, "Scanned Member", "scanned password")
		if len(res.Errors) > 0 {
			t.Fatalf("accept: %s", res.Body)
		}
		pending := tmToken(tmInviteUser(t, env, token, "pending-"+randomSuffix()+"@example.com", "ADMIN").URL)
		var tables []string
		if err := testDB.Select(&tables, `SELECT quote_ident(table_name) FROM information_schema.tables
			WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(tables, "invites") || !slices.Contains(tables, "auth_tokens") {
			t.Fatalf("the scan misses tables: %v", tables)
		}
		for _, table := range tables {
			var rows []string
			if err := testDB.Select(&rows, `SELECT t::text FROM `+table+` t`); err != nil {
				t.Fatal(err)
			}
			for name, secret := range map[string]string{"accepted invite": inviteToken, "pending invite": pending,
				"session": member.Token, "login": token} {
				raw, err := base64.RawURLEncoding.DecodeString(secret)
				if err != nil || len(raw) < 16 {
					t.Fatalf("the %s token %q is not base64url of at least 128 bits", name, secret)
				}
				for _, row := range rows {
					// bytea columns print as \x<hex>: of the text or of its bytes
					if strings.Contains(row, secret) || strings.Contains(row, hex.EncodeToString([]byte(secret))) ||
						strings.Contains(row, hex.EncodeToString(raw)) {
						t.Errorf("table %s holds the %s token in the clear: %s", table, name, row)
					}
				}
			}
		}
	})

	t.Run("users.password_hash is not the password", func(t *testing.T) {
		var hash string
		if err := testDB.Get(&hash, `SELECT password_hash FROM users WHERE id = $1`, org.UserID); err != nil {
			t.Fatal(err)
		}
		if hash == "" || strings.Contains(hash, org.Password) {
			t.Errorf("password_hash = %q holds the password %q", hash, org.Password)
		}
	})
}

func TestAuthOrganizationBoundary(t *testing.T) {
	env := apptest.New(t, testDB)
	mine := env.NewOrg(t, "Caller Ltd", "NZ")
	theirs := env.NewOrg(t, "Other Org Ltd", "NZ")
	t.Parallel()
	own := stSeedOrg(t, env, mine.Token)
	other := stSeedOrg(t, env, theirs.Token)
	before := stSnapshot(t, theirs.ID)
	filesBefore := len(stMediaFiles(t, env.MediaDir))

	t.Run("vehicle(id:) of another organization is null", func(t *testing.T) {
		res := env.Do(t, mine.Token, `query($id: ID!) { vehicle(id: $id) { id vin } }`, apptest.Vars{"id": other.vehicleID})
		var out struct{ Vehicle *struct{ ID string } }
		res.Decode(t, &out)
		if out.Vehicle != nil {
			t.Errorf("vehicle(id:) of another organization = %s, want null", res.Data)
		}
	})

	t.Run("lists hold only the caller's objects", func(t *testing.T) {
		var out struct {
			Vehicles struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
			Customers struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		env.Do(t, mine.Token, `{ vehicles(first: 100) { totalCount edges { node { id } } } customers(first: 100) { edges { node { id } } } }`, nil).Decode(t, &out)
		if out.Vehicles.TotalCount != 1 || len(out.Vehicles.Edges) != 1 || out.Vehicles.Edges[0].Node.ID != own.vehicleID {
			t.Errorf("vehicles = %+v, want only %s", out.Vehicles, own.vehicleID)
		}
		if len(out.Customers.Edges) != 1 || out.Customers.Edges[0].Node.ID != own.customerID {
			t.Errorf("customers = %+v, want only %s", out.Customers, own.customerID)
		}
	})

	// Every staff operation aimed at the other organization's objects.
	// viewer, vehicles, customers, logout, updateOrganization, logo upload
	// and createCustomer act on the caller's own organization.
	for _, op := range stStaffOperations(other.vehicleID, other.noteID, other.photoID, other.customerID) {
		switch op.name {
		case "viewer", "vehicles", "customers", "logout", "updateOrganization", "uploadOrganizationLogo", "createCustomer", "vehicle",
			"trackingLinks":
			continue
		}
		t.Run(op.name+" on another organization's object is NOT_FOUND", func(t *testing.T) {
			stExpectError(t, op.do(t, env, mine.Token), "NOT_FOUND")
		})
	}

	t.Run("updateVehicle to another organization's customer is NOT_FOUND", func(t *testing.T) {
		res := env.Do(t, mine.Token, `mutation($id: ID!, $c: ID) { updateVehicle(id: $id, input: {customerId: $c}) { id } }`,
			apptest.Vars{"id": own.vehicleID, "c": other.customerID})
		stExpectError(t, res, "NOT_FOUND")
		v := stVehicleByID(t, env, mine.Token, own.vehicleID)
		if v.Customer == nil || v.Customer.ID != own.customerID {
			t.Errorf("customer after refused update = %+v, want %s", v.Customer, own.customerID)
		}
	})

	t.Run("setHeroPhoto to another organization's photo is NOT_FOUND", func(t *testing.T) {
		res := env.Do(t, mine.Token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`,
			apptest.Vars{"v": own.vehicleID, "p": other.photoID})
		stExpectError(t, res, "NOT_FOUND")
		if v := stVehicleByID(t, env, mine.Token, own.vehicleID); v.HeroPhoto != nil {
			t.Errorf("heroPhoto = %+v after a refused setHeroPhoto, want null", v.HeroPhoto)
		}
	})

	t.Run("no createVehicle with another organization's customer happened", func(t *testing.T) {
		if n := stCount(t, "vehicles", mine.ID); n != 1 {
			t.Errorf("caller's organization has %d vehicles, want 1 (createVehicle with a foreign customerId must create nothing)", n)
		}
	})

	t.Run("the other organization is untouched", func(t *testing.T) {
		if after := stSnapshot(t, theirs.ID); after != before {
			t.Errorf("other organization changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if n := len(stMediaFiles(t, env.MediaDir)); n != filesBefore {
			t.Errorf("MEDIA_DIR holds %d files, want %d: an upload to a foreign vehicle was stored", n, filesBefore)
		}
	})

	t.Run("no error says FORBIDDEN or reveals the object", func(t *testing.T) {
		// Unknown and foreign ids must be indistinguishable.
		const q = `mutation($id: ID!) { updateVehicle(id: $id, input: {stage: DELIVERED}) { id } }`
		foreign := env.Do(t, mine.Token, q, apptest.Vars{"id": other.vehicleID})
		unknown := env.Do(t, mine.Token, q, apptest.Vars{"id": "7f1b1a4e-7a53-4a53-9d3f-2d5b1a1e0c11"})
		stExpectError(t, foreign, "NOT_FOUND")
		stExpectError(t, unknown, "NOT_FOUND")
		if foreign.Errors[0].Message != unknown.Errors[0].Message {
			t.Errorf("foreign id message %q differs from unknown id message %q", foreign.Errors[0].Message, unknown.Errors[0].Message)
		}
	})
}

func TestAuthStaffOnlyFieldsResolveForOwner(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Staff Only Ltd", "NZ")
	t.Parallel()
	seed := stSeedOrg(t, env, org.Token)

	res := env.Do(t, org.Token, `query($id: ID!) { vehicle(id: $id) {
		vin stockNumber customer { id name email phone }
		notes { id body scope author { id } } costs { id category amount { amount currency } }
		agreedSalePrice { amount currency } payments { id amount { amount currency } receivedAt } } }`,
		apptest.Vars{"id": seed.vehicleID})
	var out struct {
		Vehicle struct {
			VIN, StockNumber *string
			Customer         *struct{ ID, Name string }
			Notes            []struct{ ID, Body string }
			Costs            []struct{ ID string }
			AgreedSalePrice  *stMoney
			Payments         []struct{ ID string }
		}
	}
	res.Decode(t, &out)
	v := out.Vehicle
	if v.VIN == nil || *v.VIN != "SEEDVIN1234567890" {
		t.Errorf("vin = %v, want SEEDVIN1234567890", v.VIN)
	}
	if v.StockNumber == nil || *v.StockNumber != "SEED-1" {
		t.Errorf("stockNumber = %v, want SEED-1", v.StockNumber)
	}
	if v.Customer == nil || v.Customer.ID != seed.customerID || v.Customer.Name != "Private Customer" {
		t.Errorf("customer = %+v, want Private Customer", v.Customer)
	}
	if len(v.Notes) != 1 || v.Notes[0].Body != "private internal note" {
		t.Errorf("notes = %+v, want the internal note", v.Notes)
	}
	if len(v.Costs) != 1 {
		t.Errorf("costs = %+v, want one", v.Costs)
	}
	if v.AgreedSalePrice == nil || *v.AgreedSalePrice != (stMoney{"31000.00", "NZD"}) {
		t.Errorf("agreedSalePrice = %+v, want 31000.00 NZD", v.AgreedSalePrice)
	}
	if len(v.Payments) != 1 {
		t.Errorf("payments = %+v, want one", v.Payments)
	}
}
