package e2e

// The stored-answer layer (httpapi/publiccache.go) is inside the one
// middleware chain: a warm page or publicTracking hit is logged, rate
// limited and counted exactly like the miss that rendered it, and the
// one "a public answer was served" hook sees both. Helpers are prefixed
// "sa".

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"importops/apptest"
	"importops/db"
)

// saServed records the hook's calls.
type saServed struct {
	mu    sync.Mutex
	calls []string // linkID + " " + route
}

func (s *saServed) hook(linkID string, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, linkID+" "+r.Pattern)
}

func (s *saServed) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	return out
}

// saGet fetches path anonymously with headers; it returns the status,
// the headers and the body.
func saGet(t *testing.T, env *apptest.Env, path string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	r := secSend(t, env, http.MethodGet, path, h, nil)
	return r.status, r.header, r.body
}

// saWarmPage requests the page until it is answered from the stored
// answers (the seeding's notifications may still be dropping the link).
func saWarmPage(t *testing.T, env *apptest.Env, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := pcHits(t, env)
		saGet(t, env, path)
		if pcHits(t, env) == before+1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the page was never answered from the stored answers")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func saLinkID(t *testing.T, slug string) string {
	t.Helper()
	var id string
	if err := testDB.GetContext(context.Background(), &id, `SELECT id FROM tracking_links WHERE slug = $1`, slug); err != nil {
		t.Fatal(err)
	}
	return id
}

// A warm page hit is logged, counted and hooked like the miss that
// rendered it, with the same headers and bytes.
func TestStoredPageHitRecordedLikeAMiss(t *testing.T) {
	var logs logBuffer
	var served saServed
	env := apptest.NewWith(t, testDB, apptest.Options{
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
		Env:      map[string]string{"TRUSTED_PROXIES": "127.0.0.1"},
		OnServed: served.hook,
	})
	t.Parallel()
	fleet := env.SeedFleet(t, "Stored Page Imports", 1)
	path := "/t/" + fleet.Slugs[0]
	linkID := saLinkID(t, fleet.Slugs[0])
	saWarmPage(t, env, path)
	served.take()

	const httpSeries = `importops_http_requests_total{code="200",route="GET /t/{slug}"}`
	const client = "203.0.113.8"
	reqs, hits := pcMetric(t, env, httpSeries), pcHits(t, env)
	hitStatus, hitHeader, hitBody := saGet(t, env, path, "X-Request-Id", "page-hit-1", "X-Forwarded-For", client)
	if pcHits(t, env) != hits+1 {
		t.Fatal("the page was not answered from the stored answers")
	}
	if got := pcMetric(t, env, httpSeries); got != reqs+1 {
		t.Errorf("%s went from %v to %v for one stored page", httpSeries, reqs, got)
	}
	if got := served.take(); !reflect.DeepEqual(got, []string{linkID + " GET /t/{slug}"}) {
		t.Errorf("hook calls for a stored page: %q", got)
	}

	env.Tracking.Invalidate(db.FlushAll) // the next request renders the page
	var missStatus int
	var missHeader http.Header
	var missBody []byte
	pcNoHit(t, env, "after a flush", func() {
		missStatus, missHeader, missBody = saGet(t, env, path, "X-Request-Id", "page-miss-1", "X-Forwarded-For", client)
	})
	if got := served.take(); !reflect.DeepEqual(got, []string{linkID + " GET /t/{slug}"}) {
		t.Errorf("hook calls for a rendered page: %q", got)
	}
	if hitStatus != http.StatusOK || missStatus != http.StatusOK || string(hitBody) != string(missBody) {
		t.Fatalf("stored page %d (%d bytes) and rendered page %d (%d bytes) differ", hitStatus, len(hitBody), missStatus, len(missBody))
	}
	for _, h := range []string{"Date", "X-Request-Id", "Content-Length"} {
		hitHeader.Del(h)
		missHeader.Del(h)
	}
	if !reflect.DeepEqual(hitHeader, missHeader) {
		t.Errorf("headers differ:\nstored:   %v\nrendered: %v", hitHeader, missHeader)
	}
	hitLine, missLine := logLine(t, &logs, "page-hit-1"), logLine(t, &logs, "page-miss-1")
	// Who opened a link is never logged (issue 11): no client_ip here.
	if !reflect.DeepEqual(hitLine, missLine) || hitLine["route"] != "GET /t/{slug}" || hitLine["client_ip"] != nil {
		t.Errorf("log lines differ:\nstored:   %v\nrendered: %v", hitLine, missLine)
	}
}

// A warm publicTracking hit and its miss both reach the hook, once each,
// with the link's id; an unavailable link reaches it never.
func TestStoredPublicTrackingHooked(t *testing.T) {
	var served saServed
	env := apptest.NewWith(t, testDB, apptest.Options{OnServed: served.hook})
	t.Parallel()
	fleet := env.SeedFleet(t, "Hooked Imports", 1)
	linkID := saLinkID(t, fleet.Slugs[0])
	body := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]})
	pcWarm(t, env, body)
	served.take()

	pcPost(t, env, "", body) // a hit
	if got := served.take(); !reflect.DeepEqual(got, []string{linkID + " POST /graphql"}) {
		t.Errorf("hook calls for a stored answer: %q", got)
	}
	pcNoHit(t, env, "another body", func() { pcPost(t, env, "", append(body, ' ')) })
	if got := served.take(); !reflect.DeepEqual(got, []string{linkID + " POST /graphql"}) {
		t.Errorf("hook calls for a rendered answer: %q", got)
	}
	unknown := graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": strings.Repeat("z", 32)})
	pcPost(t, env, "", unknown)
	saGet(t, env, "/t/"+strings.Repeat("z", 32))
	if got := served.take(); len(got) != 0 {
		t.Errorf("hook calls for an unknown link: %q", got)
	}
}

// Stored pages spend the client's overall budget like any request: a
// flooder is refused even when every request could be answered from the
// stored answers, and another client behind the same proxy is not.
func TestStoredPageOverallBudget(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	t.Parallel()
	fleet := env.SeedFleet(t, "Flooded Page Imports", 1)
	path := "/t/" + fleet.Slugs[0]
	saWarmPage(t, env, path)

	const flooder = "192.0.2.93"
	before := pcHits(t, env)
	refused := 0
	var retryAfter string
	for range 2000 {
		status, h, _ := saGet(t, env, path, "X-Forwarded-For", flooder)
		if status == http.StatusTooManyRequests {
			refused, retryAfter = status, h.Get("Retry-After")
			break
		}
	}
	served := pcHits(t, env) - before
	if refused == 0 || retryAfter == "" {
		t.Fatalf("2000 stored pages to one client were never refused with Retry-After (%d served stored)", served)
	}
	if served < 300 {
		t.Errorf("only %d pages were answered from the stored answers before the refusal", served)
	}
	if status, _, _ := saGet(t, env, path, "X-Forwarded-For", "192.0.2.94"); status != http.StatusOK {
		t.Errorf("another client behind the same proxy: %d", status)
	}
}

// A client out of failed-lookup budget is refused the stored page as the
// rendering path refuses it; stored pages spend none of it.
func TestStoredPageLookupBudget(t *testing.T) {
	env := rlEnv(t, nil)
	t.Parallel()
	fleet := env.SeedFleet(t, "Guessed Page Imports", 1)
	path := "/t/" + fleet.Slugs[0]
	saWarmPage(t, env, path)
	for range 30 { // hits: no budget spent
		saGet(t, env, path)
	}
	for i := 0; ; i++ {
		status, _, _ := saGet(t, env, "/t/"+strings.Repeat("q", 31)+string(rune('a'+i%26)))
		if status == http.StatusTooManyRequests {
			if i < 20 {
				t.Fatalf("refused after %d failed lookups: the stored pages spent budget", i)
			}
			break
		}
		if i > 25 {
			t.Fatal("failed lookups are never refused")
		}
	}
	pcNoHit(t, env, "a client out of budget", func() {
		if status, _, _ := saGet(t, env, path); status != http.StatusTooManyRequests {
			t.Fatalf("a client out of budget got %d", status)
		}
	})
}

// Without a public cache nothing is stored, and the hook still sees every
// public answer.
func TestServedHookWithoutCache(t *testing.T) {
	var served saServed
	env := apptest.NewWith(t, testDB, apptest.Options{PublicCacheSize: -1, Env: map[string]string{"PUBLIC_CACHE_SIZE": "0"}, OnServed: served.hook})
	t.Parallel()
	fleet := env.SeedFleet(t, "Uncached Hook Imports", 1)
	linkID := saLinkID(t, fleet.Slugs[0])
	saGet(t, env, "/t/"+fleet.Slugs[0])
	pcPost(t, env, "", graphQLBody(apptest.PublicQuery, apptest.Vars{"slug": fleet.Slugs[0]}))
	want := []string{linkID + " GET /t/{slug}", linkID + " POST /graphql"}
	if got := served.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("hook calls without a cache: %q, want %q", got, want)
	}
}
