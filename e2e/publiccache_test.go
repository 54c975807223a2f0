package e2e

// End-to-end tests of the public answer cache (httpapi/publiccache.go):
// stored publicTracking answers are the normal path's bytes, and are never
// served once the link they were built from is gone, changed, expired or
// no longer vouched for by the listener. Helpers are prefixed "pc".

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/apptest"
	"importops/db"
	"importops/db/dbtest"
	"importops/tracking"
)

// pcAnswer is one raw answer to a POST /graphql.
type pcAnswer struct {
	status      int
	contentType string
	requestID   string
	body        []byte
}

// pcPost sends body as is (token "" is anonymous), with headers.
func pcPost(t *testing.T, env *apptest.Env, token string, body []byte, headers ...string) pcAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pcAnswer{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("X-Request-Id"), out}
}

// pcHits is the server's count of answers served from the cache.
func pcHits(t *testing.T, env *apptest.Env) uint64 {
	t.Helper()
	res, body := env.Get(t, "/metrics")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "importops_public_answer_hits_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return uint64(f)
		}
	}
	t.Fatal("importops_public_answer_hits_total is not in /metrics")
	return 0
}

// pcAvailable tells whether an answer shows the link.
func pcAvailable(t *testing.T, a pcAnswer) bool {
	t.Helper()
	var out struct {
		Data   struct{ PublicTracking json.RawMessage }
		Errors []any
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &out) != nil || len(out.Errors) > 0 {
		t.Fatalf("answer: %d %s", a.status, a.body)
	}
	return string(out.Data.PublicTracking) != "null"
}

// pcWarm sends body until an answer comes from the cache (notifications
// of the seeding's writes may still be dropping it) and returns it.
func pcWarm(t *testing.T, env *apptest.Env, body []byte) pcAnswer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := pcHits(t, env)
		a := pcPost(t, env, "", body)
		if pcHits(t, env) == before+1 {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("never answered from the cache: %d %s", a.status, a.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pcNoHit runs f and fails if an answer was served from the cache.
func pcNoHit(t *testing.T, env *apptest.Env, what string, f func()) {
	t.Helper()
	before := pcHits(t, env)
	f()
	if after := pcHits(t, env); after != before {
		t.Fatalf("%s: %d answers served from the cache, want none", what, after-before)
	}
}

// A stored answer is byte for byte the normal path's: the answer that
// stored it, and a server without any cache.
func TestPublicAnswerIdentical(t *testing.T) {
	env := apptest.New(t, testDB)
	uncached := apptest.NewWith(t, testDB, apptest.Options{PublicCacheSize: -1})
	t.Parallel()
	fleet := env.SeedFleet(t, "Identical Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})

	hit := pcWarm(t, env, body)
	var miss pcAnswer
	pcNoHit(t, env, "first request of a new body", func() {
		// The same request with other whitespace is another key.
		miss = pcPost(t, env, "", append(body, ' '))
	})
	plain := pcPost(t, uncached, "", body)
	// The page's base URL is the server's own: compare with it replaced.
	plainBody := bytes.ReplaceAll(plain.body, []byte(uncached.BaseURL), []byte(env.BaseURL))
	if !bytes.Equal(hit.body, miss.body) || !bytes.Equal(hit.body, plainBody) {
		t.Fatalf("stored answer differs from the normal path:\nhit:   %s\nmiss:  %s\nplain: %s", hit.body, miss.body, plainBody)
	}
	if hit.contentType != miss.contentType || hit.status != miss.status || !pcAvailable(t, hit) {
		t.Fatalf("hit %d %q, miss %d %q", hit.status, hit.contentType, miss.status, miss.contentType)
	}
	// The content type follows Accept, which is part of the key.
	pcNoHit(t, env, "another Accept", func() {
		a := pcPost(t, env, "", body, "Accept", "application/graphql-response+json")
		if a.contentType != "application/graphql-response+json" {
			t.Fatalf("Accept: application/graphql-response+json answered %q", a.contentType)
		}
	})
}

// Different selection sets, variables and persisted-query forms never
// share an answer; nulls and errors are never stored.
func TestPublicAnswerKeys(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env := apptest.New(t, conn)
	t.Parallel()
	fleet := env.SeedFleet(t, "Keyed Imports", 2)
	full := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, full)

	small := `query ($slug: String!) { publicTracking(slug: $slug) { vehicle { make } } }`
	pcNoHit(t, env, "another selection set", func() {
		a := pcPost(t, env, "", graphQLBody(small, apptest.Vars{"slug": fleet.Slugs[0]}))
		if bytes.Contains(a.body, []byte("organization")) || !bytes.Contains(a.body, []byte(`"vehicle":{"make":`)) {
			t.Fatalf("the small query answered %s", a.body)
		}
	})
	pcNoHit(t, env, "another slug", func() {
		other := pcPost(t, env, "", graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[1]}))
		if !pcAvailable(t, other) || bytes.Contains(other.body, []byte(fleet.Slugs[0])) {
			t.Fatalf("another slug answered %s", other.body)
		}
	})
	// Shaped like our slugs, so that it is looked up rather than refused
	// as junk before the cache is reached.
	unknownSlug := strings.Repeat("x", tracking.SlugLen)
	if !tracking.PlausibleSlug(unknownSlug) {
		t.Fatalf("%q is not shaped like a slug", unknownSlug)
	}
	unknown := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": unknownSlug})
	pcNoHit(t, env, "an unknown slug, twice", func() {
		for i := range 2 {
			before := count.Statements() + count.Prepares()
			if pcAvailable(t, pcPost(t, env, "", unknown)) {
				t.Fatal("an unknown slug is available")
			}
			// Neither the answer nor the missing link is kept: each
			// lookup asks the database.
			if count.Statements()+count.Prepares() == before {
				t.Fatalf("lookup %d of an unknown slug ran no SQL: the tracking cache kept it", i+1)
			}
		}
	})
	pcNoHit(t, env, "two lookups in one query, twice", func() {
		two := graphQLBody(`query ($slug: String!) { a: publicTracking(slug: $slug) { expiresAt } b: publicTracking(slug: $slug) { expiresAt } }`,
			apptest.Vars{"slug": fleet.Slugs[0]})
		for range 2 {
			pcPost(t, env, "", two)
		}
	})

	// Automatic persisted queries: the hash alone, once registered, is a
	// key of its own, and its answer the same bytes.
	sum := sha256.Sum256([]byte(small))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	withQuery, _ := json.Marshal(map[string]any{"query": small, "variables": apptest.Vars{"slug": fleet.Slugs[0]}, "extensions": ext})
	hashOnly, _ := json.Marshal(map[string]any{"variables": apptest.Vars{"slug": fleet.Slugs[0]}, "extensions": ext})
	registered := pcPost(t, env, "", withQuery)
	got := pcWarm(t, env, hashOnly)
	if !bytes.Equal(got.body, registered.body) {
		t.Fatalf("persisted query answered %s, want %s", got.body, registered.body)
	}
	wrong, _ := json.Marshal(map[string]any{"query": small + " ", "variables": apptest.Vars{"slug": fleet.Slugs[0]}, "extensions": ext})
	pcNoHit(t, env, "a query that does not match its hash", func() {
		for range 2 {
			if a := pcPost(t, env, "", wrong); a.status == http.StatusOK && !bytes.Contains(a.body, []byte(`"errors"`)) {
				t.Fatalf("a mismatched hash answered %d %s", a.status, a.body)
			}
		}
	})
}

// A staff request never reads or fills the cache.
func TestPublicAnswerStaff(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	fleet := env.SeedFleet(t, "Staff Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)
	pcNoHit(t, env, "staff requests", func() {
		for _, token := range []string{fleet.Org.Token, "not-a-token"} {
			if a := pcPost(t, env, token, body); !pcAvailable(t, a) {
				t.Fatalf("staff request answered %s", a.body)
			}
		}
	})
	// What staff asked is not stored for anyone.
	other := append(bytes.Clone(body), '\n')
	pcPost(t, env, fleet.Org.Token, other)
	pcPost(t, env, fleet.Org.Token, other)
	pcNoHit(t, env, "the first anonymous request of what staff asked", func() { pcPost(t, env, "", other) })
}

// Revoked through another instance, which only NOTIFY tells: the stored
// answer stops within caFresh and is never served again.
func TestPublicAnswerRevokedElsewhere(t *testing.T) {
	a := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	b := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true})
	t.Parallel()
	fleet := a.SeedFleet(t, "Revoked Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, b, body)
	mustDo(t, a, fleet.Org.Token, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": fleet.VehicleIDs[0]})
	start := time.Now()
	for pcAvailable(t, pcPost(t, b, "", body)) {
		if time.Since(start) > caFresh {
			t.Fatalf("the other instance still serves the revoked link after %v", time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("the other instance stopped after %v", time.Since(start))
	for range 20 {
		if pcAvailable(t, pcPost(t, b, "", body)) {
			t.Fatal("the revoked link came back")
		}
	}
}

// Expiry needs no notification: a stored answer stops at expiresAt.
func TestPublicAnswerExpiry(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	fleet := env.SeedFleet(t, "Expiring Imports", 1)
	slug := fleet.Slugs[0]
	var expires time.Time
	err := testDB.GetContext(context.Background(), &expires, `
		WITH l AS (UPDATE tracking_links SET expires_at = now() + interval '1500 milliseconds'
		            WHERE slug = $1 RETURNING vehicle_id, expires_at)
		SELECT l.expires_at FROM l, pg_notify($2, 'vehicle:' || l.vehicle_id)`, slug, db.PublicChannel)
	if err != nil {
		t.Fatal(err)
	}
	env.Tracking.Invalidate(db.VehicleKey(fleet.VehicleIDs[0]))
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": slug})
	if a := pcWarm(t, env, body); !pcAvailable(t, a) || !bytes.Contains(a.body, []byte(`"expiresAt":"`)) {
		t.Fatalf("before expiry: %s", a.body)
	}
	time.Sleep(time.Until(expires))
	hits, _ := env.Tracking.CacheStats()
	pcNoHit(t, env, "past expiresAt", func() {
		for range 3 {
			if pcAvailable(t, pcPost(t, env, "", body)) {
				t.Fatal("an expired link is served")
			}
		}
	})
	if h, _ := env.Tracking.CacheStats(); h == hits {
		t.Fatal("the link left the tracking cache: expiry was not what was tested")
	}
}

// While the listener is down the cache is bypassed: writes nobody
// announces show at once.
func TestPublicAnswerListenerDown(t *testing.T) {
	dialer := new(cutDialer)
	env := apptest.NewWith(t, testDB, apptest.Options{OwnListener: true, ListenDialer: dialer})
	t.Parallel()
	ctx := context.Background()
	fleet := env.SeedFleet(t, "Unheard Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)

	dialer.disconnect(t, env)
	pcNoHit(t, env, "listener down", func() {
		if _, err := testDB.ExecContext(ctx, `UPDATE vehicles SET make = 'Unannounced' WHERE id = $1`, fleet.VehicleIDs[0]); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if a := pcPost(t, env, "", body); !bytes.Contains(a.body, []byte(`"make":"Unannounced"`)) {
				t.Fatalf("while the listener is down: %s", a.body)
			}
		}
	})
	if !dialer.cut.Load() || env.Tracking.Caching() {
		t.Fatal("the listener came back during the test")
	}
	dialer.reconnect(t, env)
	if a := pcWarm(t, env, body); !bytes.Contains(a.body, []byte(`"make":"Unannounced"`)) {
		t.Fatalf("after reconnecting: %s", a.body)
	}
}

// A client out of failed-lookup budget is refused a stored answer as the
// normal path refuses it; a hit spends nothing.
func TestPublicAnswerRateLimit(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"RATE_LIMITS": "on"}})
	t.Parallel()
	fleet := env.SeedFleet(t, "Limited Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)
	for range 30 { // hits: no budget spent
		pcPost(t, env, "", body)
	}
	unknown := graphQLBody(`query ($s: String!) { publicTracking(slug: $s) { expiresAt } }`, apptest.Vars{"s": strings.Repeat("y", 26)})
	for i := 0; ; i++ {
		a := pcPost(t, env, "", unknown)
		if bytes.Contains(a.body, []byte("RATE_LIMITED")) {
			if i < 20 {
				t.Fatalf("refused after %d failed lookups: the hits spent budget", i)
			}
			break
		}
		if i > 25 {
			t.Fatal("failed lookups are never refused")
		}
	}
	pcNoHit(t, env, "a client out of budget", func() {
		if a := pcPost(t, env, "", body); !bytes.Contains(a.body, []byte("RATE_LIMITED")) {
			t.Fatalf("a client out of budget got %d %s", a.status, a.body)
		}
	})
}

// pcMetric is the value of one series in GET /metrics (0 when absent).
func pcMetric(t *testing.T, env *apptest.Env, series string) float64 {
	t.Helper()
	_, body := env.Get(t, "/metrics")
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// A stored answer is recorded as the normal path records the request:
// the request id echoed, the same log line but for id and duration (the
// client named by X-Forwarded-For from a trusted proxy), and the same
// metrics.
func TestPublicAnswerRecordedLikeTheNormalPath(t *testing.T) {
	var logs logBuffer
	env := apptest.NewWith(t, testDB, apptest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}})
	t.Parallel()
	fleet := env.SeedFleet(t, "Recorded Imports", 1)
	body := graphQLBody(`query CustomerPage($slug: String!) { publicTracking(slug: $slug) { vehicle { title } } }`,
		apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)

	const okSeries = `importops_graphql_operations_total{operation="publicTracking",outcome="ok"}`
	const httpSeries = `importops_http_requests_total{code="200",route="POST /graphql"}`
	ops, reqs := pcMetric(t, env, okSeries), pcMetric(t, env, httpSeries)
	before := pcHits(t, env)
	const client = "203.0.113.7"
	hit := pcPost(t, env, "", body, "X-Request-Id", "hit-request-1", "X-Forwarded-For", client)
	if pcHits(t, env) != before+1 {
		t.Fatal("the request was not answered from the cache")
	}
	if got := pcMetric(t, env, okSeries); got != ops+1 {
		t.Errorf("%s went from %v to %v for one stored answer", okSeries, ops, got)
	}
	if got := pcMetric(t, env, httpSeries); got != reqs+1 {
		t.Errorf("%s went from %v to %v for one stored answer", httpSeries, reqs, got)
	}
	var miss pcAnswer
	pcNoHit(t, env, "another body", func() {
		miss = pcPost(t, env, "", append(body, ' '), "X-Request-Id", "miss-request-1", "X-Forwarded-For", client)
	})
	if hit.requestID != "hit-request-1" || miss.requestID != "miss-request-1" {
		t.Errorf("X-Request-Id echoed: hit %q, miss %q", hit.requestID, miss.requestID)
	}
	generated := pcPost(t, env, "", body)
	if len(generated.requestID) != 16 {
		t.Errorf("a stored answer without X-Request-Id got id %q, want a generated one", generated.requestID)
	}

	hitLine, missLine := logLine(t, &logs, "hit-request-1"), logLine(t, &logs, "miss-request-1")
	if !reflect.DeepEqual(hitLine, missLine) || hitLine["operation_name"] != "CustomerPage" ||
		hitLine["operation"] != "publicTracking" || hitLine["client_ip"] != nil { // never logged for opens (issue 11)
		t.Errorf("log lines differ:\nstored answer: %v\nnormal path:   %v", hitLine, missLine)
	}
}

// Stored answers spend the client's overall budget like any request, the
// client named by X-Forwarded-For from a trusted proxy: a flooder is
// refused even when every request could be answered from the cache.
func TestPublicAnswerOverallBudget(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	t.Parallel()
	fleet := env.SeedFleet(t, "Flooded Imports", 1)
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)

	const flooder = "192.0.2.91"
	before := pcHits(t, env)
	var refused pcAnswer
	for range 2000 {
		if a := pcPost(t, env, "", body, "X-Forwarded-For", flooder); a.status == http.StatusTooManyRequests {
			refused = a
			break
		}
	}
	served := pcHits(t, env) - before
	if refused.status == 0 || !strings.Contains(string(refused.body), "RATE_LIMITED") {
		t.Fatalf("2000 stored answers to one client were never refused (%d served from the cache)", served)
	}
	if served < 300 {
		t.Errorf("only %d requests were answered from the cache before the refusal", served)
	}
	// The budget was the flooder's, not the proxy's.
	if a := pcPost(t, env, "", body, "X-Forwarded-For", "192.0.2.92"); a.status != http.StatusOK || !pcAvailable(t, a) {
		t.Errorf("another client behind the same proxy: %d %s", a.status, a.body)
	}
}
