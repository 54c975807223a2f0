package e2e

// Opens of tracking links (TrackingLink.openCount): what counts, what does
// not, what it costs, and that no trace of who opened is kept.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/apptest"
	"importops/db/dbtest"
)

// ldBrowser is a real browser's User-Agent, marked so a test can look
// for it anywhere.
func ldBrowser(marker string) string {
	return "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
		"Chrome/131.0.0.0 Safari/537.36 " + marker
}

func ldMarker() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "LdMark" + hex.EncodeToString(b)
}

// ldOpensEnv is a server behind a trusted proxy (loopback), so each test
// client is named by X-Forwarded-For, as behind a load balancer.
func ldOpensEnv(t *testing.T, conn *sqlx.DB) (*apptest.Env, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	env := apptest.NewWith(t, conn, apptest.Options{
		Env:    map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32,::1/128"},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	return env, logs
}

// ldOpen is one request of the customer page (api false) or of
// publicTracking (api true) from client ip with User-Agent ua; edit may
// change the request. It returns the status.
func ldOpen(t *testing.T, env *apptest.Env, slug string, api bool, ip, ua string, edit func(*http.Request)) int {
	t.Helper()
	var req *http.Request
	if api {
		body, _ := json.Marshal(map[string]any{"query": apptest.PublicQuery, "variables": map[string]any{"slug": slug}})
		req, _ = http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest(http.MethodGet, env.BaseURL+"/t/"+slug, nil)
	}
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("User-Agent", ua)
	if edit != nil {
		edit(req)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	if api && !strings.Contains(b.String(), `"publicTracking":{`) {
		t.Fatalf("publicTracking answered %s", b.String())
	}
	return res.StatusCode
}

// ldOpens is the link's openCount and first/last opened, as staff read them.
type ldOpens struct {
	OpenCount     int
	FirstOpenedAt *time.Time
	LastOpenedAt  *time.Time
}

func ldOpensOf(t *testing.T, env *apptest.Env, token, vehicleID string) ldOpens {
	t.Helper()
	var out struct {
		Vehicle struct{ TrackingLink ldOpens }
	}
	env.Do(t, token, `query($id: ID!) { vehicle(id: $id) { trackingLink { openCount firstOpenedAt lastOpenedAt } } }`,
		apptest.Vars{"id": vehicleID}).Decode(t, &out)
	return out.Vehicle.TrackingLink
}

// ldWaitOpens waits up to d for openCount to reach want, and fails if it
// passes want.
func ldWaitOpens(t *testing.T, env *apptest.Env, token, vehicleID string, want int, d time.Duration) ldOpens {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		o := ldOpensOf(t, env, token, vehicleID)
		if o.OpenCount > want {
			t.Fatalf("openCount = %d, want %d", o.OpenCount, want)
		}
		if o.OpenCount == want {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("openCount = %d after %v, want %d", o.OpenCount, d, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLinkDeskOpens(t *testing.T) {
	env, _ := ldOpensEnv(t, testDB)
	t.Parallel()
	org := env.NewOrg(t, "Opened Imports", "NZ")
	vid := newVehicle(t, env, org.Token)
	link := createLink(t, env, org.Token, vid, nil)
	if o := ldOpensOf(t, env, org.Token, vid); o.OpenCount != 0 || o.FirstOpenedAt != nil || o.LastOpenedAt != nil {
		t.Fatalf("a new link: %+v, want no opens", o)
	}
	marker := ldMarker()

	// Distinct clients count, on the page and on publicTracking (the
	// second and later publicTracking answers are stored ones).
	start := time.Now()
	ldOpen(t, env, link.Slug, false, "198.18.0.1", ldBrowser(marker), nil)
	ldOpen(t, env, link.Slug, true, "198.18.0.2", ldBrowser(marker), nil)
	ldOpen(t, env, link.Slug, true, "198.18.0.3", ldBrowser(marker), nil)
	ldOpen(t, env, link.Slug, false, "2001:db8::1", ldBrowser(marker), nil)
	// Same address, another browser: another client.
	ldOpen(t, env, link.Slug, false, "198.18.0.1", ldBrowser(marker+"-firefox"), nil)
	o := ldWaitOpens(t, env, org.Token, vid, 5, 5*time.Second)
	if o.FirstOpenedAt == nil || o.LastOpenedAt == nil || o.FirstOpenedAt.Before(start.Add(-time.Second)) ||
		o.LastOpenedAt.Before(*o.FirstOpenedAt) || o.LastOpenedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("first/last opened %v / %v, want within the test", o.FirstOpenedAt, o.LastOpenedAt)
	}

	// None of these count: a repeat within 30 minutes (either path),
	// link-preview bots and crawlers, HEAD, prefetches, staff previews.
	excluded := 0
	not := func(api bool, ip, ua string, edit func(*http.Request)) {
		ldOpen(t, env, link.Slug, api, ip, ua, edit)
		excluded++
	}
	not(false, "198.18.0.1", ldBrowser(marker), nil)
	not(true, "198.18.0.1", ldBrowser(marker), nil)
	not(true, "198.18.0.2", ldBrowser(marker), nil)
	not(false, "198.18.0.2", ldBrowser(marker), nil)
	bots := map[string]string{
		"Slack":     "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
		"Facebook":  "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		"WhatsApp":  "WhatsApp/2.23.20.0 A",
		"Twitter/X": "Twitterbot/1.0",
		"Telegram":  "TelegramBot (like TwitterBot)",
		"Discord":   "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
		"LinkedIn":  "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
		"Google":    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	i := 10
	for _, ua := range bots {
		i++
		not(false, fmt.Sprintf("198.18.1.%d", i), ua, nil)
		not(true, fmt.Sprintf("198.18.2.%d", i), ua, nil)
	}
	not(false, "198.18.3.1", "", nil) // no User-Agent at all
	not(false, "198.18.3.2", ldBrowser(marker), func(r *http.Request) { r.Method = http.MethodHead })
	not(false, "198.18.3.3", ldBrowser(marker), func(r *http.Request) { r.Header.Set("Sec-Purpose", "prefetch") })
	not(false, "198.18.3.4", ldBrowser(marker), func(r *http.Request) { r.Header.Set("Sec-Purpose", "prefetch;prerender") })
	not(false, "198.18.3.5", ldBrowser(marker), func(r *http.Request) { r.Header.Set("Purpose", "prefetch") })
	not(true, "198.18.3.6", ldBrowser(marker), func(r *http.Request) { r.Header.Set("Sec-Purpose", "prefetch") })
	var pv struct{ TrackingPreview struct{ PageURL string } }
	env.Do(t, org.Token, `query($v: ID!) { trackingPreview(vehicleId: $v) { pageUrl tracking { vehicle { title } } } }`,
		apptest.Vars{"v": vid}).Decode(t, &pv)
	not(false, "198.18.3.7", ldBrowser(marker), func(r *http.Request) {
		u, _ := http.NewRequest(http.MethodGet, pv.TrackingPreview.PageURL, nil)
		r.URL = u.URL
	})
	// One real open after all of them: when it shows, every request
	// before it has been seen.
	ldOpen(t, env, link.Slug, false, "198.18.4.1", ldBrowser(marker), nil)
	ldWaitOpens(t, env, org.Token, vid, 6, 5*time.Second)
	// And nothing more arrives late.
	deadline := time.Now().Add(5 * time.Second)
	for env.Opens.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond) // one more flush interval
	if o := ldOpensOf(t, env, org.Token, vid); o.OpenCount != 6 {
		t.Fatalf("openCount = %d after %d excluded requests, want 6", o.OpenCount, excluded)
	}

	// Opens count for their own link only: a client that opened this link
	// opens a regenerated one anew.
	regen := tlRegenerate(t, env, org.Token, vid)
	ldOpen(t, env, regen.Slug, false, "198.18.0.1", ldBrowser(marker), nil)
	ldWaitOpens(t, env, org.Token, vid, 1, 5*time.Second)
}

func TestLinkDeskOpensAtScale(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	env, logs := ldOpensEnv(t, conn)
	t.Parallel()
	org := env.NewOrg(t, "Busy Opened Imports", "NZ")
	vid := newVehicle(t, env, org.Token)
	link := createLink(t, env, org.Token, vid, nil)
	marker := ldMarker()

	// 200 distinct clients, half on the page and half on publicTracking,
	// eight at a time.
	const n = 200
	ips := make([]string, n)
	for i := range ips {
		if i%2 == 0 {
			ips[i] = fmt.Sprintf("198.19.%d.%d", i/250, i%250+1)
		} else {
			ips[i] = fmt.Sprintf("2001:db8:1d::%x", i+1)
		}
	}
	before := count.Statements()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				ldOpen(t, env, link.Slug, i%4 < 2, ips[i], ldBrowser(marker+fmt.Sprint(i%3)), nil)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	last := time.Now()

	// openCount shows them within 2 seconds: read straight from the
	// database, on a pool of its own, so the count below is the opens'.
	var got int
	for {
		if err := testDB.GetContext(context.Background(), &got, `SELECT open_count FROM tracking_links WHERE id = $1`, link.ID); err != nil {
			t.Fatal(err)
		}
		if got >= n || time.Since(last) > 2*time.Second {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if got != n {
		t.Fatalf("openCount = %d %v after the last of %d opens, want %d", got, time.Since(last), n, n)
	}
	statements := count.Statements() - before
	t.Logf("%d opens from %d clients cost %d statements", n, n, statements)
	// The first lookup reads the link (one statement, shared by the two
	// paths' cache); every flush is one statement.
	if statements > 5 {
		t.Fatalf("%d opens cost %d statements, want at most 5 (a cold lookup and a few flushes)", n, statements)
	}
	if o := ldOpensOf(t, env, org.Token, vid); o.OpenCount != n {
		t.Fatalf("openCount through the API = %d, want %d", o.OpenCount, n)
	}

	// No trace of who opened: no client address or User-Agent in any
	// table or in the log output.
	lines := strings.Count(logs.String(), `"msg":"request"`)
	if lines < n {
		t.Fatalf("%d request log lines for %d opens: the log is not being captured", lines, n)
	}
	needles := append([]string{marker, "Chrome/131.0.0.0"}, ips...)
	ldNoTrace(t, "the log output", logs.String(), needles)
	var tables []string
	if err := testDB.SelectContext(context.Background(), &tables,
		`SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	for _, table := range tables {
		var dump *string
		if err := testDB.GetContext(context.Background(), &dump, `SELECT string_agg(t::text, E'\n') FROM `+table+` t`); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		if dump != nil {
			ldNoTrace(t, "table "+table, *dump, needles)
		}
	}
}

func ldNoTrace(t *testing.T, where, text string, needles []string) {
	t.Helper()
	low := strings.ToLower(text)
	for _, s := range needles {
		if strings.Contains(low, strings.ToLower(s)) {
			t.Fatalf("%s contains %q, which only a client sent", where, s)
		}
	}
}
