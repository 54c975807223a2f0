package e2e

// The request envelope (issue 10, items 6 and 7): its keys are matched
// exactly, a duplicate or unknown key is refused before anything runs,
// and no answer quotes an oversized name back.

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"importops/apptest"
	"importops/db/dbtest"
	"importops/domain"
)

// envProduction is the production build as an attacker meets it.
var envProduction = map[string]string{"APP_ENV": "production", "RATE_LIMITS": "on"}

// TestEnvelopeKeys: case variants, duplicates and unknown keys of the
// POST body, and duplicate GET parameters, are refused with 400 and run
// nothing: the staff token that a smuggled logout would revoke still
// works, and no SQL statement ran.
func TestEnvelopeKeys(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.NewWith(t, conn, apptest.Options{PublicCacheSize: -1, Env: envProduction})
	org := env.NewOrg(t, "Envelope Imports", "NZ")
	t.Parallel()
	staff := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + org.Token}

	post := []struct{ name, body string }{
		{"a case variant of query", `{"query":"{ __typename }","Query":"mutation { logout }"}`},
		{"a case variant alone", `{"QUERY":"mutation { logout }"}`},
		{"query twice", `{"query":"{ __typename }","query":"mutation { logout }"}`},
		{"query twice, the mutation first", `{"query":"mutation { logout }","query":"{ __typename }"}`},
		{"a case variant of operationName", `{"query":"mutation A { logout } query B { __typename }","operationName":"B","OperationName":"A"}`},
		{"variables twice", `{"query":"mutation { logout }","variables":{},"variables":{}}`},
		{"an unknown key", `{"query":"mutation { logout }","password":"x"}`},
		{"a misspelt key", `{"qeury":"{ __typename }"}`},
	}
	for _, c := range post {
		t.Run("POST: "+c.name, func(t *testing.T) {
			before := count.Statements() + count.Prepares()
			r := secSend(t, env, "POST", "/graphql", staff, strings.NewReader(c.body))
			secRefused(t, c.name, r, http.StatusBadRequest, "BAD_USER_INPUT")
			if n := count.Statements() + count.Prepares() - before; n != 0 {
				t.Errorf("the refused request ran %d SQL statements, want 0", n)
			}
			envTokenWorks(t, env, org.Token)
		})
	}

	get := []struct{ name, query string }{
		{"query twice", "query=" + url.QueryEscape("{ viewer { user { id } } }") + "&query=" + url.QueryEscape("{ __typename }")},
		{"operationName twice", "query=" + url.QueryEscape("query A { viewer { user { id } } } query B { __typename }") + "&operationName=A&operationName=B"},
		{"variables twice", "query=" + url.QueryEscape("{ __typename }") + "&variables=%7B%7D&variables=%7B%7D"},
	}
	for _, c := range get {
		t.Run("GET: "+c.name, func(t *testing.T) {
			before := count.Statements() + count.Prepares()
			r := secSend(t, env, "GET", "/graphql?"+c.query, map[string]string{"Authorization": "Bearer " + org.Token}, nil)
			secRefused(t, c.name, r, http.StatusBadRequest, "BAD_USER_INPUT")
			if n := count.Statements() + count.Prepares() - before; n != 0 {
				t.Errorf("the refused request ran %d SQL statements, want 0", n)
			}
		})
	}

	t.Run("the exact keys still work", func(t *testing.T) {
		r := secSend(t, env, "POST", "/graphql", staff, strings.NewReader(
			`{"query":"query A { viewer { user { id } } } query B { __typename }","operationName":"B","variables":{},"extensions":{}}`))
		if r.status != http.StatusOK || len(r.errors) != 0 || !bytes.Contains(r.body, []byte(`"__typename":"Query"`)) {
			t.Errorf("a well-formed request: %d %s", r.status, secShort(r.body))
		}
	})
}

// envTokenWorks fails the test when the token no longer signs in: a
// logout ran.
func envTokenWorks(t *testing.T, env *apptest.Env, token string) {
	t.Helper()
	res := env.Do(t, token, `{ viewer { user { id } } }`, nil)
	if len(res.Errors) != 0 || !bytes.Contains(res.Data, []byte(`"id"`)) {
		t.Fatalf("the staff token no longer works (a smuggled logout ran): %s", res.Body)
	}
}

// TestEnvelopeOversizedNames: a 900 KB name in the request is never
// echoed: every answer stays under 64 KB, and in fact under 4 KB (a
// short refusal quotes a short prefix at most).
func TestEnvelopeOversizedNames(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{PublicCacheSize: -1, Env: envProduction})
	dev := apptest.NewWith(t, testDB, apptest.Options{PublicCacheSize: -1})
	org := env.NewOrg(t, "Long Names Imports", "NZ")
	t.Parallel()
	huge := strings.Repeat("A", 900<<10)
	jsonHeader := map[string]string{"Content-Type": "application/json"}

	multipartWith := func(partName string) (string, *bytes.Buffer) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("operations", `{"query":"mutation ($f: Upload!) { uploadOrganizationLogo(file: $f) { id } }","variables":{"f":null}}`)
		_ = mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile(partName, "a.png")
		_, _ = fw.Write([]byte("not a png"))
		_ = mw.Close()
		return mw.FormDataContentType(), &buf
	}

	cases := []struct {
		name string
		send func(env *apptest.Env) secResponse
	}{
		{"a 900 KB operationName", func(env *apptest.Env) secResponse {
			return secSend(t, env, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query":"{ __typename }","operationName":"`+huge+`"}`))
		}},
		{"a 12 KB operationName over GET (the most a request line may hold)", func(env *apptest.Env) secResponse {
			return secSend(t, env, "GET", "/graphql?query=%7B__typename%7D&operationName="+huge[:12<<10], nil, nil)
		}},
		{"a 900 KB unknown field", func(env *apptest.Env) secResponse {
			return secSend(t, env, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query":"{ `+huge+` }"}`))
		}},
		{"a 900 KB unknown field of publicTracking", func(env *apptest.Env) secResponse {
			return secSend(t, env, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query":"{ publicTracking(slug: \"x\") { `+huge+` } }"}`))
		}},
		{"a 900 KB alias", func(env *apptest.Env) secResponse {
			return secSend(t, env, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query":"{ `+huge+`: __typename }"}`))
		}},
		{"a 900 KB unknown key", func(env *apptest.Env) secResponse {
			return secSend(t, env, "POST", "/graphql", jsonHeader, strings.NewReader(`{"query":"{ __typename }","`+huge+`":1}`))
		}},
		{"a 900 KB multipart part name", func(env *apptest.Env) secResponse {
			ct, body := multipartWith(huge)
			return secSend(t, env, "POST", "/graphql", map[string]string{"Content-Type": ct, "GraphQL-Preflight": "1",
				"Authorization": "Bearer " + org.Token}, body)
		}},
	}
	for _, c := range cases {
		for _, e := range []struct {
			name string
			env  *apptest.Env
		}{{"production", env}, {"development", dev}} {
			t.Run(fmt.Sprintf("%s (%s)", c.name, e.name), func(t *testing.T) {
				r := c.send(e.env)
				if len(r.body) >= 4<<10 {
					t.Errorf("a %d-byte answer to an oversized name, want under 4 KB: %s", len(r.body), secShort(r.body))
				}
				if len(r.errors) == 0 {
					t.Errorf("no GraphQL error: %d %s", r.status, secShort(r.body))
				}
				for i, err := range r.errors {
					if code, _ := err.Extensions["code"].(string); !secCodes[code] {
						t.Errorf("error %d has extensions.code %q: %s", i, code, secShort(r.body))
					}
				}
			})
		}
	}
}

// TestEnvelopeKeysMultipart: an upload's operations part is the same
// envelope, held to the same rules: a case variant, a duplicate or an
// unknown key is refused with 400 and runs nothing (the staff token a
// smuggled logout would revoke still works).
func TestEnvelopeKeysMultipart(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{PublicCacheSize: -1, Env: envProduction})
	org := env.NewOrg(t, "Multipart Envelope Imports", "NZ")
	t.Parallel()
	for _, c := range []struct{ name, operations string }{
		{"a case variant of query", `{"query":"{ __typename }","Query":"mutation { logout }","variables":{}}`},
		{"query twice", `{"query":"{ __typename }","query":"mutation { logout }","variables":{}}`},
		{"an unknown key", `{"query":"mutation { logout }","variables":{},"password":"x"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			member := env.AddMember(t, org, domain.RoleStaff) // its own session: a smuggled logout ends it
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for _, f := range [][2]string{{"operations", c.operations}, {"map", "{}"}} {
				if err := mw.WriteField(f[0], f[1]); err != nil {
					t.Fatal(err)
				}
			}
			mw.Close()
			r := secSend(t, env, "POST", "/graphql", map[string]string{
				"Content-Type": mw.FormDataContentType(), "GraphQL-Preflight": "1", "Authorization": "Bearer " + member.Token,
			}, &body)
			secRefused(t, c.name, r, http.StatusBadRequest, "BAD_USER_INPUT")
			envTokenWorks(t, env, member.Token)
		})
	}
}
