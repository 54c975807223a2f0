package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"importops/apptest"
	"importops/db/dbtest"
	"importops/tracking"
)

// secResponse is one raw HTTP answer of the server.
type secResponse struct {
	status int
	header http.Header
	body   []byte
	errors []apptest.Error
}

// secSend sends a request and reads the whole answer (secAnswer).
func secSend(t testing.TB, env *apptest.Env, method, path string, header map[string]string, body io.Reader) secResponse {
	t.Helper()
	req, err := http.NewRequest(method, env.BaseURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return secAnswer(res, raw)
}

// secPost POSTs a GraphQL JSON request.
func secPost(t testing.TB, env *apptest.Env, token, query string, vars apptest.Vars) secResponse {
	t.Helper()
	res, raw, err := postGraphQL(env, token, query, vars)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	return secAnswer(res, raw)
}

// secAnswer is res with its body raw; a JSON body's GraphQL errors, when
// it has any, are decoded.
func secAnswer(res *http.Response, raw []byte) secResponse {
	out := secResponse{status: res.StatusCode, header: res.Header, body: raw}
	var gql struct{ Errors []apptest.Error }
	if json.Unmarshal(raw, &gql) == nil {
		out.errors = gql.Errors
	}
	return out
}

// secCodes is every code the contract allows, with the ones the issue
// adds.
var secCodes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true, "CONFLICT": true,
	"RATE_LIMITED": true, "INTERNAL_SERVER_ERROR": true, "GRAPHQL_PARSE_FAILED": true,
	"GRAPHQL_VALIDATION_FAILED": true, "COMPLEXITY_LIMIT_EXCEEDED": true,
}

// secRefused asserts a refusal: the status, every error with a code and
// the first one's code want, and a short answer.
func secRefused(t testing.TB, what string, r secResponse, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, secShort(r.body))
	}
	if len(r.errors) == 0 {
		t.Errorf("%s: no GraphQL error in the answer: %s", what, secShort(r.body))
		return
	}
	for i, e := range r.errors {
		if code, _ := e.Extensions["code"].(string); !secCodes[code] {
			t.Errorf("%s: error %d has extensions.code %q: %s", what, i, code, secShort(r.body))
		}
	}
	if code, _ := r.errors[0].Extensions["code"].(string); code != want {
		t.Errorf("%s: code %q, want %q: %s", what, code, want, secShort(r.body))
	}
	if len(r.body) > 1024 || len(r.errors) > 5 {
		t.Errorf("%s: a refusal of %d bytes and %d errors, want a short answer: %s", what, len(r.body), len(r.errors), secShort(r.body))
	}
}

func secShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// secHealthy asserts the server still answers.
func secHealthy(t testing.TB, env *apptest.Env) {
	t.Helper()
	if r := secSend(t, env, "GET", "/healthz", nil, nil); r.status != http.StatusOK {
		t.Errorf("/healthz: %d", r.status)
	}
	if r := secPost(t, env, "", `{ __typename }`, nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"__typename":"Query"`)) {
		t.Errorf("{ __typename } after the attack: %d %s", r.status, secShort(r.body))
	}
}

// secPlausibleSlug is shaped like our slugs, so a lookup of it would go
// to the database if it ran.
var secPlausibleSlug = strings.Repeat("Q", tracking.SlugLen)

// TestSecurityGraphQLCop runs graphql-cop's checks, and the limits of the
// issue, against the server. Each attack is refused with a short, coded
// answer; none runs an SQL statement (the server's pool is counted), even
// with a bearer token, which is looked up only for a query that will run;
// the server is healthy afterwards.
func TestSecurityGraphQLCop(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	dev := apptest.NewWith(t, conn, apptest.Options{PublicCacheSize: -1})
	prod := apptest.NewWith(t, conn, apptest.Options{PublicCacheSize: -1, Env: map[string]string{"APP_ENV": "production"}})
	org := dev.NewOrg(t, "Cop Imports", "NZ")
	t.Parallel()

	repeat := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
			b.WriteByte(' ')
		}
		return b.String()
	}
	lookup := func(alias string) string {
		return alias + `publicTracking(slug: "` + secPlausibleSlug + `") { expiresAt }`
	}
	jsonBody := func(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }
	jsonHeader := map[string]string{"Content-Type": "application/json"}
	staffJSON := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + org.Token}
	// Two full pages of 100 vehicles: each is the largest query the staff
	// frontend sends (it passes, below); together they are over the limit.
	page := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(apptest.FleetQuery, "query ($first: Int!) {")), "}")
	twoPages := "query ($first: Int!) { a: " + page + " b: " + page + " }"
	// The same two pages of one vehicle are well within the limit: the
	// server remembers a query's complexity only when no variable can
	// change it, and a page size in a variable can (the case below).
	if r := secPost(t, dev, org.Token, twoPages, apptest.Vars{"first": 1}); r.status != http.StatusOK {
		t.Fatalf("two pages of 1 vehicle: status %d: %s", r.status, r.body)
	}
	nested := "__typename"
	for range 20 {
		nested = "ofType { " + nested + " }"
	}
	bigPad := strings.Repeat("A", 1<<20)

	cases := []struct {
		name   string
		env    *apptest.Env
		send   func() secResponse
		status int
		code   string
		// message, when set, must be found in the first error's message.
		message string
		// statements the refusal may run: an upload's bearer token is
		// looked up (one statement) before its body is read, so that no
		// anonymous client can make the server hold an upload.
		statements int
	}{
		{"alias overloading: 101 aliases", dev, func() secResponse {
			return secPost(t, dev, "", "{ "+repeat(101, func(i int) string { return lookup(fmt.Sprintf("a%d: ", i)) })+"}", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "aliases", 0},
		{"alias overloading with a token", dev, func() secResponse {
			return secPost(t, dev, org.Token, "{ "+repeat(101, func(i int) string { return fmt.Sprintf("a%d: viewer { user { id } }", i) })+"}", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "aliases", 0},
		{"field duplication: 500 × __typename", dev, func() secResponse {
			return secPost(t, dev, "", "query cop { "+repeat(500, func(int) string { return "__typename" })+"}", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "fields", 0},
		{"field duplication: 250 × publicTracking", dev, func() secResponse {
			return secPost(t, dev, "", "{ "+repeat(250, func(int) string { return lookup("") })+"}", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "fields", 0},
		{"directive overloading: graphql-cop's ten @aa", dev, func() secResponse {
			return secPost(t, dev, "", "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "", 0},
		{"directive overloading: 100 × @include", dev, func() secResponse {
			return secPost(t, dev, "", `{ publicTracking(slug: "`+secPlausibleSlug+`") `+strings.Repeat("@include(if: true) ", 100)+"{ expiresAt } }", nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "directives", 0},
		{"circular introspection", dev, func() secResponse {
			return secPost(t, dev, "", `query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }`, nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "introspection", 0},
		{"depth: 20 nested ofType", dev, func() secResponse {
			return secPost(t, dev, "", `{ __type(name: "Vehicle") { `+nested+` } }`, nil)
		}, 422, "GRAPHQL_VALIDATION_FAILED", "deep", 0},
		{"complexity: two pages of 100 vehicles", dev, func() secResponse {
			return secPost(t, dev, org.Token, twoPages, apptest.Vars{"first": 100})
		}, 422, "COMPLEXITY_LIMIT_EXCEEDED", "complexity", 0},
		{"page size: first 101", dev, func() secResponse {
			return secPost(t, dev, org.Token, `{ vehicles(first: 101) { totalCount } }`, nil)
		}, 422, "BAD_USER_INPUT", "between 1 and 100", 0},
		{"page size: first 0 in a variable", dev, func() secResponse {
			return secPost(t, dev, org.Token, `query ($n: Int) { customers(first: $n) { edges { cursor } } }`, apptest.Vars{"n": 0})
		}, 422, "BAD_USER_INPUT", "between 1 and 100", 0},
		{"parser token limit", dev, func() secResponse {
			return secPost(t, dev, "", "{ "+lookup("")+" "+strings.Repeat("__typename ", 3000)+"}", nil)
		}, 422, "GRAPHQL_PARSE_FAILED", "", 0},
		{"batching: an array of 10 queries", dev, func() secResponse {
			batch := make([]map[string]string, 10)
			for i := range batch {
				batch[i] = map[string]string{"query": "{ " + lookup("") + " }"}
			}
			return secSend(t, dev, "POST", "/graphql", jsonHeader, jsonBody(batch))
		}, 400, "BAD_USER_INPUT", "batched", 0},
		{"introspection in production, anonymous", prod, func() secResponse {
			return secPost(t, prod, "", `{ __schema { types { name fields { name } } } }`, nil)
		}, 200, "GRAPHQL_VALIDATION_FAILED", "introspection is disabled", 0},
		{"__type in production, anonymous", prod, func() secResponse {
			return secPost(t, prod, "", `{ __type(name: "Vehicle") { fields { name } } }`, nil)
		}, 200, "GRAPHQL_VALIDATION_FAILED", "introspection is disabled", 0},
		{"GET mutation", dev, func() secResponse {
			q := url.Values{"query": {`mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`},
				"variables": {`{"e":"` + org.Email + `","p":"` + org.Password + `"}`}}
			return secSend(t, dev, "GET", "/graphql?"+q.Encode(), nil, nil)
		}, 406, "BAD_USER_INPUT", "query operations", 0},
		{"GET mutation with a token", dev, func() secResponse {
			q := url.Values{"query": {`mutation { logout }`}}
			return secSend(t, dev, "GET", "/graphql?"+q.Encode(), map[string]string{"Authorization": "Bearer " + org.Token}, nil)
		}, 406, "BAD_USER_INPUT", "query operations", 0},
		{"text/plain mutation (a cross-site form)", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer " + org.Token},
				strings.NewReader(`{"query":"mutation { logout }"}`))
		}, 415, "BAD_USER_INPUT", "Content-Type", 0},
		{"urlencoded mutation", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
				strings.NewReader(`query=mutation+%7B+logout+%7D`))
		}, 415, "BAD_USER_INPUT", "Content-Type", 0},
		{"multipart without a preflight header", dev, func() secResponse {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("operations", `{"query":"mutation { logout }"}`)
			_ = mw.WriteField("map", `{}`)
			_ = mw.Close()
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": mw.FormDataContentType(), "Authorization": "Bearer " + org.Token}, &buf)
		}, 400, "BAD_USER_INPUT", "Preflight", 0},
		{"oversized JSON body", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", staffJSON, jsonBody(map[string]any{"query": "{ __typename }", "variables": map[string]string{"pad": bigPad}}))
		}, 413, "BAD_USER_INPUT", "too large", 0},
		{"oversized JSON body, chunked", dev, func() secResponse {
			body := io.MultiReader(strings.NewReader(`{"query":"{ __typename }","variables":{"pad":"`), strings.NewReader(bigPad), strings.NewReader(`"}}`))
			return secSend(t, dev, "POST", "/graphql", jsonHeader, io.NopCloser(body)) // no length: sent chunked
		}, 413, "BAD_USER_INPUT", "too large", 0},
		{"oversized upload, chunked", dev, func() secResponse {
			head := "--zz\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" +
				`{"query":"mutation ($f: Upload!) { uploadOrganizationLogo(file: $f) { id } }","variables":{"f":null}}` +
				"\r\n--zz\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}" +
				"\r\n--zz\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.png\"\r\n\r\n"
			body := io.MultiReader(strings.NewReader(head), io.LimitReader(secZeros{}, 22<<20), strings.NewReader("\r\n--zz--\r\n"))
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": "multipart/form-data; boundary=zz",
				"GraphQL-Preflight": "1", "Authorization": "Bearer " + org.Token}, body)
		}, 413, "BAD_USER_INPUT", "too large", 1},
		{"anonymous upload", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": "multipart/form-data; boundary=zz", "GraphQL-Preflight": "1"},
				strings.NewReader("--zz\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--zz--\r\n"))
		}, 401, "UNAUTHENTICATED", "Authorization", 0},
		{"malformed JSON", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query": "{ __typename }", "password": "hunter2`))
		}, 400, "BAD_USER_INPUT", "JSON object", 0},
		{"malformed multipart form", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", map[string]string{"Content-Type": "multipart/form-data; boundary=zz", "GraphQL-Preflight": "1",
				"Authorization": "Bearer " + org.Token},
				strings.NewReader("--zz\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--zz--\r\n"))
		}, 422, "BAD_USER_INPUT", "operations", 1},
		{"persisted query with a wrong hash", dev, func() secResponse {
			return secSend(t, dev, "POST", "/graphql", jsonHeader, jsonBody(map[string]any{"query": "{ __typename }",
				"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "00"}}}))
		}, 200, "BAD_USER_INPUT", "hash", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := count.Statements() + count.Prepares()
			r := c.send()
			secRefused(t, c.name, r, c.status, c.code)
			if len(r.errors) > 0 && !strings.Contains(r.errors[0].Message, c.message) {
				t.Errorf("message %q does not mention %q", r.errors[0].Message, c.message)
			}
			if bytes.Contains(r.body, []byte("AAAAAAAAAAAAAAAA")) || bytes.Contains(r.body, []byte("hunter2")) {
				t.Errorf("the answer echoes the request body: %s", secShort(r.body))
			}
			if n := count.Statements() + count.Prepares() - before; n != int64(c.statements) {
				t.Errorf("the refused request ran %d SQL statements, want %d", n, c.statements)
			}
			secHealthy(t, c.env)
		})
	}

	t.Run("the largest legitimate query runs", func(t *testing.T) {
		r := secPost(t, dev, org.Token, apptest.FleetQuery, apptest.Vars{"first": 100})
		if r.status != http.StatusOK || len(r.errors) != 0 {
			t.Errorf("FleetQuery(first: 100): %d %s", r.status, secShort(r.body))
		}
	})
	t.Run("the playground's introspection runs in development", func(t *testing.T) {
		r := secPost(t, dev, "", secIntrospectionQuery, nil)
		if r.status != http.StatusOK || len(r.errors) != 0 || !bytes.Contains(r.body, []byte(`"PublicTracking"`)) {
			t.Errorf("introspection in development: %d %s", r.status, secShort(r.body))
		}
	})
	t.Run("staff may introspect in production", func(t *testing.T) {
		r := secPost(t, prod, org.Token, secIntrospectionQuery, nil)
		if r.status != http.StatusOK || len(r.errors) != 0 || !bytes.Contains(r.body, []byte(`"Vehicle"`)) {
			t.Errorf("staff introspection in production: %d %s", r.status, secShort(r.body))
		}
	})
	t.Run("no playground in production", func(t *testing.T) {
		if r := secSend(t, prod, "GET", "/", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("GET / in production: %d, want 404", r.status)
		}
		if r := secSend(t, dev, "GET", "/", nil, nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte("graphiql")) && !bytes.Contains(r.body, []byte("GraphiQL")) {
			t.Errorf("GET / in development: %d, want the playground", r.status)
		}
	})
	t.Run("a GET query runs", func(t *testing.T) {
		r := secSend(t, dev, "GET", "/graphql?query="+url.QueryEscape(`{ __typename }`), nil, nil)
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"Query"`)) {
			t.Errorf("GET query: %d %s", r.status, secShort(r.body))
		}
	})
}

// TestSecurityNoFieldSuggestions: in production no error message suggests
// a name, whichever validation rule wrote it; in development they do.
func TestSecurityNoFieldSuggestions(t *testing.T) {
	dev := apptest.NewWith(t, testDB, apptest.Options{})
	prod := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"APP_ENV": "production"}})
	org := dev.NewOrg(t, "Suggest Imports", "NZ")
	t.Parallel()
	queries := []string{
		`{ publicTracking(slug: "x") { vehicl { titl } } }`,                                        // fields
		`{ publicTracking(slug: "x") { vehicle } }`,                                                // a selection missing
		`{ publicTracking(slugg: "x") { expiresAt } }`,                                             // an argument
		`{ vehicles(stage: IN_TRANSI) { totalCount } }`,                                            // an enum value
		`query ($s: Strin!) { publicTracking(slug: $s) { expiresAt } }`,                            // a type
		`mutation { createVehicle(input: {year: 2019, make: "T", model: "H", vinn: "x"}) { id } }`, // an input field
	}
	sawSuggestion := false
	for _, q := range queries {
		for _, token := range []string{"", org.Token} {
			r := secPost(t, prod, token, q, nil)
			if len(r.errors) == 0 {
				t.Errorf("production accepted %s", q)
			}
			if bytes.Contains(bytes.ToLower(r.body), []byte("did you mean")) {
				t.Errorf("production suggests a name for %s: %s", q, r.body)
			}
			if d := secPost(t, dev, token, q, nil); bytes.Contains(d.body, []byte("Did you mean")) {
				sawSuggestion = true
			}
		}
	}
	if !sawSuggestion {
		t.Error("development suggested nothing either: the queries do not exercise suggestions")
	}
}

// TestSecurityNoSecretsInDatabase reads every row of every table as text:
// no bearer token, no password appears in the clear.
func TestSecurityNoSecretsInDatabase(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Vault Imports", "NZ")
	t.Parallel()
	var login struct{ Login struct{ Token string } }
	env.Do(t, "", `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		apptest.Vars{"e": org.Email, "p": org.Password}).Decode(t, &login)
	secrets := map[string]string{"the NewOrg token": org.Token, "the login token": login.Login.Token, "the password": org.Password}

	var tables []string
	if err := testDB.Select(&tables, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("found only %d tables: %v", len(tables), tables)
	}
	for _, table := range tables {
		var rows []string
		if err := testDB.Select(&rows, `SELECT t::text FROM `+table+` t`); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range rows {
			for what, secret := range secrets {
				if strings.Contains(row, secret) {
					t.Errorf("table %s holds %s in the clear", table, what)
				}
			}
		}
	}
}

// TestSecurityLogs: one JSON line per request with its id, operation,
// duration and outcome; no token, password, slug, signature or private
// field value in any line, whatever the request carried.
func TestSecurityLogs(t *testing.T) {
	var logs logBuffer
	env := apptest.NewWith(t, testDB, apptest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	org := env.NewOrg(t, "Logged Imports", "NZ")
	t.Parallel()
	const vin, internalNote = "JTMHV05J704099887", "Bought at auction for 31,000 — do not tell the customer"
	var v struct{ CreateVehicle struct{ ID string } }
	env.Do(t, org.Token, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux", vin: "`+vin+`"}) { id } }`, nil).Decode(t, &v)
	env.Do(t, org.Token, `mutation ($v: ID!, $b: String!) { addNote(vehicleId: $v, body: $b, scope: INTERNAL) { id } }`,
		apptest.Vars{"v": v.CreateVehicle.ID, "b": internalNote})
	var link struct{ CreateTrackingLink struct{ Slug string } }
	env.Do(t, org.Token, `mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": v.CreateVehicle.ID}).Decode(t, &link)
	slug := link.CreateTrackingLink.Slug
	var login struct{ Login struct{ Token string } }
	env.Do(t, "", `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		apptest.Vars{"e": org.Email, "p": org.Password}).Decode(t, &login)
	env.Do(t, "", `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		apptest.Vars{"e": org.Email, "p": "wrong " + org.Password})
	env.Do(t, login.Login.Token, `{ vehicle(id: "`+v.CreateVehicle.ID+`") { vin notes { body } } }`, nil)
	env.Do(t, "", `query ($s: String!) { publicTracking(slug: $s) { vehicle { title } } }`, apptest.Vars{"s": slug})
	env.Do(t, "", `query Named { publicTracking(slug: "`+slug+`") { vehicle { title } } }`, nil)
	env.Get(t, "/t/"+slug)
	env.Get(t, "/t/"+slug+"/photos/00000000-0000-0000-0000-000000000000")
	env.Get(t, "/media/photos/00000000-0000-0000-0000-000000000000?exp=1&sig=secret-signature-value")
	secPost(t, env, org.Token, `{ vehicle(id: "x") { vin } `, nil) // a parse error

	text := logs.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	requests := 0
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] != "request" {
			continue
		}
		requests++
		for _, key := range []string{"id", "operation", "duration_ms", "outcome", "status", "route"} {
			if _, ok := rec[key]; !ok {
				t.Errorf("request line without %s: %s", key, line)
			}
		}
	}
	if requests < 12 {
		t.Errorf("%d request lines, want one per request (at least 12):\n%s", requests, text)
	}
	for what, secret := range map[string]string{
		"the NewOrg token": org.Token, "the login token": login.Login.Token, "the password": org.Password,
		"the slug": slug, "the VIN": vin, "the internal note": internalNote, "the signature": "secret-signature-value",
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the logs contain %s:\n%s", what, text)
		}
	}
	for _, want := range []string{`"operation":"publicTracking","outcome":"ok"`, `"operation":"login","outcome":"UNAUTHENTICATED"`,
		`"operation_name":"Named"`, `"route":"GET /t/{slug}"`, `"outcome":"GRAPHQL_PARSE_FAILED"`} {
		if !strings.Contains(text, want) {
			t.Errorf("no log line with %s:\n%s", want, text)
		}
	}
}

type secZeros struct{}

func (secZeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestSecurityMetrics: /metrics, for a scraper on a private network only,
// counts requests by operation and outcome, their latency, the database
// pool, the public cache and rate-limit refusals.
func TestSecurityMetrics(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}})
	org := env.NewOrg(t, "Metered Imports", "NZ")
	t.Parallel()
	env.Do(t, "", `{ publicTracking(slug: "`+secPlausibleSlug+`") { expiresAt } }`, nil)
	env.Do(t, org.Token, `{ viewer { user { id } } }`, nil)
	env.Do(t, "", `{ viewer { user { id } } }`, nil)
	env.Do(t, "", `{ nope }`, nil)
	env.Get(t, "/t/"+secPlausibleSlug)

	r := secSend(t, env, "GET", "/metrics", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics from loopback: %d", r.status)
	}
	text := string(r.body)
	for _, want := range []string{
		`importops_graphql_operations_total{operation="publicTracking",outcome="ok"} 1`,
		`importops_graphql_operations_total{operation="viewer",outcome="ok"} 1`,
		`importops_graphql_operations_total{operation="viewer",outcome="UNAUTHENTICATED"} 1`,
		`importops_graphql_operations_total{operation="invalid",outcome="GRAPHQL_VALIDATION_FAILED"} 1`,
		`importops_graphql_operation_duration_seconds_bucket{operation="publicTracking",le="+Inf"} 1`,
		`importops_http_requests_total{code="404",route="GET /t/{slug}"} 1`,
		`importops_http_request_duration_seconds_count{route="POST /graphql"}`,
		`go_sql_open_connections{db_name="importops"}`,
		`importops_public_cache_hits_total`,
		`importops_public_cache_misses_total`,
		`importops_rate_limited_total{limit="public_lookup"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if regexp.MustCompile(`operation="[^"]*nope`).MatchString(text) {
		t.Error("a client's field name became a label value")
	}
	if r := secSend(t, env, "GET", "/metrics", map[string]string{"X-Forwarded-For": "203.0.113.9"}, nil); r.status != http.StatusNotFound {
		t.Errorf("/metrics for an internet client behind the proxy: %d, want 404", r.status)
	}
}

// secIntrospectionQuery is GraphiQL's (graphql-js getIntrospectionQuery
// with descriptions, deprecations and nine levels of ofType).
const secIntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`
