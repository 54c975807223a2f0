package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/db/dbtest"
	"importops/tracking"
)

// rlEnv is a server with rate limits on (the default outside tests).
func rlEnv(t *testing.T, env map[string]string) *apptest.Env {
	t.Helper()
	vars := map[string]string{"RATE_LIMITS": "on"}
	for k, v := range env {
		vars[k] = v
	}
	return apptest.NewWith(t, testDB, apptest.Options{Env: vars})
}

// rlFrom sends a GraphQL request as the client at ip, through the proxy
// at 127.0.0.1 (when the server trusts it).
func rlFrom(t *testing.T, env *apptest.Env, ip, token, query string, vars apptest.Vars) secResponse {
	t.Helper()
	body := strings.NewReader(rlJSON(query, vars))
	h := map[string]string{"Content-Type": "application/json"}
	if ip != "" {
		h["X-Forwarded-For"] = ip
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return secSend(t, env, "POST", "/graphql", h, body)
}

func rlJSON(query string, vars apptest.Vars) string {
	r := apptest.Vars{"query": query}
	if vars != nil {
		r["variables"] = vars
	}
	b, _ := json.Marshal(r)
	return string(b)
}

func rlCode(r secResponse) string {
	if len(r.errors) == 0 {
		return ""
	}
	c, _ := r.errors[0].Extensions["code"].(string)
	return c
}

// rlRetryAfter asserts a Retry-After header of whole seconds within max.
func rlRetryAfter(t *testing.T, r secResponse, max time.Duration) {
	t.Helper()
	s, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || s < 1 || time.Duration(s)*time.Second > max {
		t.Errorf("Retry-After %q, want 1 to %v seconds", r.header.Get("Retry-After"), max.Seconds())
	}
}

const rlPublic = `query ($s: String!) { publicTracking(slug: $s) { vehicle { title } } }`
const rlLogin = `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`

// TestRateLimitPublicLookups: 20 failed lookups per client IP, through
// the query and the page alike; the 21st is refused before it runs, even
// for a link that works; successful lookups spend nothing.
func TestRateLimitPublicLookups(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.NewWith(t, conn, apptest.Options{PublicCacheSize: -1, Env: map[string]string{"RATE_LIMITS": "on", "TRUSTED_PROXIES": "127.0.0.1"}})
	org := env.NewOrg(t, "Guessed Imports", "NZ")
	t.Parallel()
	var v struct{ CreateVehicle struct{ ID string } }
	env.Do(t, org.Token, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux"}) { id } }`, nil).Decode(t, &v)
	var link struct{ CreateTrackingLink struct{ Slug string } }
	env.Do(t, org.Token, `mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": v.CreateVehicle.ID}).Decode(t, &link)
	good := link.CreateTrackingLink.Slug

	const guesser = "198.51.100.10"
	for i := range 40 { // hits are free
		if r := rlFrom(t, env, guesser, "", rlPublic, apptest.Vars{"s": good}); rlCode(r) != "" {
			t.Fatalf("lookup %d of a working link: %s", i+1, r.body)
		}
	}
	for i := range 10 {
		if r := rlFrom(t, env, guesser, "", rlPublic, apptest.Vars{"s": tracking.NewSlug()}); rlCode(r) != "" {
			t.Fatalf("guess %d: %s", i+1, r.body)
		}
	}
	for i := range 10 { // the page spends the same budget
		req := map[string]string{"X-Forwarded-For": guesser}
		if r := secSend(t, env, "GET", "/t/"+tracking.NewSlug(), req, nil); r.status != http.StatusNotFound {
			t.Fatalf("page guess %d: %d", i+1, r.status)
		}
	}

	before := count.Statements()
	r := rlFrom(t, env, guesser, "", rlPublic, apptest.Vars{"s": good})
	if rlCode(r) != "RATE_LIMITED" || r.status != http.StatusOK {
		t.Fatalf("the 21st lookup after 20 misses: %d %s, want RATE_LIMITED", r.status, r.body)
	}
	rlRetryAfter(t, r, 10*time.Second)
	if n := count.Statements() - before; n != 0 {
		t.Errorf("the refused lookup ran %d statements", n)
	}
	page := secSend(t, env, "GET", "/t/"+good, map[string]string{"X-Forwarded-For": guesser}, nil)
	if page.status != http.StatusTooManyRequests || strings.Contains(string(page.body), "Hilux") {
		t.Errorf("the page over the budget: %d", page.status)
	}
	rlRetryAfter(t, page, 10*time.Second)
	photo := secSend(t, env, "GET", "/t/"+good+"/photos/00000000-0000-0000-0000-000000000000", map[string]string{"X-Forwarded-For": guesser}, nil)
	if photo.status != http.StatusTooManyRequests || photo.header.Get("Retry-After") == "" {
		t.Errorf("a photo over the budget: %d, Retry-After %q", photo.status, photo.header.Get("Retry-After"))
	}

	// Another client is not affected.
	if r := rlFrom(t, env, "198.51.100.11", "", rlPublic, apptest.Vars{"s": good}); rlCode(r) != "" || !strings.Contains(string(r.body), "Hilux") {
		t.Errorf("another client's lookup: %s", r.body)
	}
	if r := secSend(t, env, "GET", "/metrics", nil, nil); !strings.Contains(string(r.body), `importops_rate_limited_total{limit="public_lookup"} 3`) {
		t.Error(`/metrics does not count the 3 refusals under limit="public_lookup"`)
	}
}

// TestRateLimitLoginPerAccount: 10 failed logins per account; then even
// the right password is refused, from any address, while other accounts
// log in.
func TestRateLimitLoginPerAccount(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	victim := env.NewOrg(t, "Victim Imports", "NZ")
	other := env.NewOrg(t, "Other Imports", "NZ")
	t.Parallel()
	for i := range 10 {
		ip := "203.0.113." + strconv.Itoa(i+1) // spread over addresses
		if r := rlFrom(t, env, ip, "", rlLogin, apptest.Vars{"e": victim.Email, "p": "wrong password"}); rlCode(r) != "UNAUTHENTICATED" {
			t.Fatalf("failed login %d: %s", i+1, r.body)
		}
	}
	r := rlFrom(t, env, "203.0.113.99", "", rlLogin, apptest.Vars{"e": strings.ToUpper(victim.Email), "p": victim.Password})
	if rlCode(r) != "RATE_LIMITED" || strings.Contains(string(r.body), `"token"`) {
		t.Fatalf("the right password after 10 failures: %s, want RATE_LIMITED", r.body)
	}
	rlRetryAfter(t, r, time.Minute)
	if r := rlFrom(t, env, "203.0.113.99", "", rlLogin, apptest.Vars{"e": other.Email, "p": other.Password}); rlCode(r) != "" {
		t.Errorf("another account from the same address: %s", r.body)
	}
}

// TestRateLimitLoginPerIP: 30 failed logins per client IP, whatever the
// accounts (credential stuffing); successful logins spend nothing.
func TestRateLimitLoginPerIP(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	org := env.NewOrg(t, "Stuffed Imports", "NZ")
	t.Parallel()
	const stuffer = "192.0.2.50"
	for i := range 15 {
		if r := rlFrom(t, env, stuffer, "", rlLogin, apptest.Vars{"e": org.Email, "p": org.Password}); rlCode(r) != "" {
			t.Fatalf("successful login %d: %s", i+1, r.body)
		}
	}
	for i := range 30 {
		email := "nobody" + strconv.Itoa(i) + "@example.com"
		if r := rlFrom(t, env, stuffer, "", rlLogin, apptest.Vars{"e": email, "p": "password1"}); rlCode(r) != "UNAUTHENTICATED" {
			t.Fatalf("failed login %d: %s", i+1, r.body)
		}
	}
	r := rlFrom(t, env, stuffer, "", rlLogin, apptest.Vars{"e": org.Email, "p": org.Password})
	if rlCode(r) != "RATE_LIMITED" {
		t.Fatalf("a login from the address after 30 failures: %s, want RATE_LIMITED", r.body)
	}
	rlRetryAfter(t, r, 10*time.Second)
	if r := rlFrom(t, env, "192.0.2.51", "", rlLogin, apptest.Vars{"e": org.Email, "p": org.Password}); rlCode(r) != "" {
		t.Errorf("the same account from another address: %s", r.body)
	}
}

// TestRateLimitOverall: a generous budget of requests per client IP, 429
// with Retry-After past it; health checks are never refused.
func TestRateLimitOverall(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	t.Parallel()
	const flooder = "192.0.2.77"
	var refused secResponse
	n := 0
	for n = 1; n <= 2000; n++ {
		r := rlFrom(t, env, flooder, "", `{ __typename }`, nil)
		if r.status == http.StatusTooManyRequests {
			refused = r
			break
		}
	}
	if refused.status == 0 {
		t.Fatal("2000 requests in a row were never refused")
	}
	if n <= 400 {
		t.Errorf("refused after %d requests; the budget allows a burst of 400", n)
	}
	if rlCode(refused) != "RATE_LIMITED" {
		t.Errorf("refusal: %s", refused.body)
	}
	rlRetryAfter(t, refused, 5*time.Second)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 404} { // /metrics: not for the internet
		if r := secSend(t, env, "GET", path, map[string]string{"X-Forwarded-For": flooder}, nil); r.status != want {
			t.Errorf("%s for the flooder: %d, want %d", path, r.status, want)
		}
	}
	pageRefused := false // the budget refills 20 a second: flood the page too
	for range 200 {
		if r := secSend(t, env, "GET", "/t/"+tracking.NewSlug(), map[string]string{"X-Forwarded-For": flooder}, nil); r.status == http.StatusTooManyRequests {
			pageRefused = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !pageRefused {
		t.Error("the page was never refused with Retry-After to the flooder")
	}
	if r := rlFrom(t, env, "192.0.2.78", "", `{ __typename }`, nil); r.status != http.StatusOK {
		t.Errorf("another client: %d", r.status)
	}
}

// TestRateLimitForwardedFor: X-Forwarded-For names the client only when
// the peer is a trusted proxy. Untrusted, a guesser cannot escape its
// budget by writing a new address in each request.
func TestRateLimitForwardedFor(t *testing.T) {
	untrusted := rlEnv(t, nil)
	trusted := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
	t.Parallel()
	guess := func(env *apptest.Env, i int) secResponse {
		return rlFrom(t, env, "198.51.100."+strconv.Itoa(i%250+1), "", rlPublic, apptest.Vars{"s": tracking.NewSlug()})
	}
	for i := range 20 {
		if r := guess(untrusted, i); rlCode(r) != "" {
			t.Fatalf("untrusted guess %d: %s", i+1, r.body)
		}
	}
	if r := guess(untrusted, 20); rlCode(r) != "RATE_LIMITED" {
		t.Errorf("a spoofed X-Forwarded-For escaped the budget of the real peer: %s", r.body)
	}
	for i := range 40 {
		if r := guess(trusted, i); rlCode(r) != "" {
			t.Fatalf("guess %d from distinct clients behind a trusted proxy: %s", i+1, r.body)
		}
	}
}

// TestRateLimitsOff: RATE_LIMITS=off (apptest's default) refuses nothing.
func TestRateLimitsOff(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	for i := range 30 {
		if r := env.Do(t, "", rlPublic, apptest.Vars{"s": tracking.NewSlug()}); r.Code() != "" {
			t.Fatalf("guess %d with rate limits off: %s", i+1, r.Body)
		}
	}
}
