package opens

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/db"
	"importops/db/dbtest"
)

var testDB *sqlx.DB

func TestMain(m *testing.M) { dbtest.Main(m, "opens", &testDB) }

const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// newLink creates an organization, a vehicle and its link; it returns the
// link's id.
func newLink(t *testing.T, store *db.Store) string {
	t.Helper()
	ctx := context.Background()
	org, user, err := store.CreateOrganization(ctx, db.NewOrganization{
		Name: "Opens Test", Country: "NZ", OwnerEmail: "owner-" + t.Name() + time.Now().Format("150405.000000") + "@example.com",
		OwnerName: "Owner", OwnerPasswordHash: "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.CreateVehicle(ctx, org.ID, db.VehicleInput{Year: 2020, Make: "Honda", Model: "Jazz", Stage: "IN_TRANSIT"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.CreateTrackingLink(ctx, org.ID, user.ID, v.ID, "slug-"+v.ID, db.LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.ID
}

func openCount(t *testing.T, linkID string) (n int, first, last *time.Time) {
	t.Helper()
	row := testDB.QueryRowContext(context.Background(),
		`SELECT open_count, first_opened_at, last_opened_at FROM tracking_links WHERE id = $1`, linkID)
	if err := row.Scan(&n, &first, &last); err != nil {
		t.Fatal(err)
	}
	return n, first, last
}

func request(method, ua string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, "/t/x", nil)
	r.Header.Set("User-Agent", ua)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func TestWhatCounts(t *testing.T) {
	store := db.NewStore(testDB)
	link, other := newLink(t, store), newLink(t, store)
	c := New(store, nil)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::7")

	c.Served(link, request("GET", browser), a)              // counts
	c.Served(link, request("GET", browser), a)              // a repeat
	c.Served(link, request("POST", browser), a)             // a repeat, on publicTracking
	c.Served(link, request("GET", browser), b)              // another address
	c.Served(link, request("GET", browser+" Edg/131.0"), a) // another browser
	c.Served(other, request("GET", browser), a)             // another link
	c.Served(link, request("HEAD", browser), netip.MustParseAddr("192.0.2.2"))
	c.Served(link, request("GET", browser, "Sec-Purpose", "prefetch"), netip.MustParseAddr("192.0.2.3"))
	c.Served(link, request("GET", browser, "Purpose", "prefetch"), netip.MustParseAddr("192.0.2.4"))
	c.Served(link, request("GET", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"), netip.MustParseAddr("192.0.2.5"))
	c.Served(link, request("GET", ""), netip.MustParseAddr("192.0.2.6"))
	c.Served("", request("GET", browser), netip.MustParseAddr("192.0.2.7"))
	// The open page following along (page/live.js) fetches itself again:
	// not an open. A browser opening the page asks for a document, and a
	// script's publicTracking query is an open like any other.
	c.Served(link, request("GET", browser, "Sec-Fetch-Dest", "empty"), netip.MustParseAddr("192.0.2.8"))
	c.Served(link, request("GET", browser, "Sec-Fetch-Dest", "document"), netip.MustParseAddr("192.0.2.9")) // counts
	api := request("POST", browser, "Sec-Fetch-Dest", "empty")
	api.URL.Path = "/graphql"
	c.Served(link, api, netip.MustParseAddr("192.0.2.10")) // counts

	if p := c.Pending(); p != 6 {
		t.Fatalf("pending %d opens, want 6 (5 on one link, 1 on the other)", p)
	}
	if n, _, _ := openCount(t, link); n != 0 {
		t.Fatalf("open_count = %d before a flush: an open must cost no SQL", n)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, first, last := openCount(t, link); n != 5 || first == nil || last == nil || last.Before(*first) {
		t.Fatalf("after a flush: %d opens, first %v, last %v; want 5", n, first, last)
	}
	if n, _, _ := openCount(t, other); n != 1 {
		t.Fatalf("the other link: %d opens, want 1", n)
	}
	if c.Pending() != 0 {
		t.Fatal("a flush leaves nothing pending")
	}
}

// Two replicas' counts add up: each flush is an increment.
func TestReplicasAddUp(t *testing.T) {
	conn, count := dbtest.OpenCounting(t)
	store := db.NewStore(conn)
	link := newLink(t, store)
	r1, r2 := New(store, nil), New(store, nil)
	for i := range 30 {
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		r1.Served(link, request("GET", browser), ip)
		r2.Served(link, request("GET", browser), ip) // a client of the other replica
	}
	before := count.Statements()
	if err := r1.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := count.Statements() - before; s != 2 {
		t.Fatalf("two flushes cost %d statements, want 2", s)
	}
	if n, _, _ := openCount(t, link); n != 60 {
		t.Fatalf("open_count = %d, want 30 + 30", n)
	}
}

// A client is forgotten after the window.
func TestForgottenAfterTheWindow(t *testing.T) {
	store := db.NewStore(testDB)
	link := newLink(t, store)
	c := newCounter(store, nil, 50*time.Millisecond)
	ip := netip.MustParseAddr("203.0.113.9")
	c.Served(link, request("GET", browser), ip)
	c.Served(link, request("GET", browser), ip)
	if p := c.Pending(); p != 1 {
		t.Fatalf("pending %d, want 1", p)
	}
	time.Sleep(200 * time.Millisecond)
	c.Served(link, request("GET", browser), ip)
	if p := c.Pending(); p != 2 {
		t.Fatalf("after the window: pending %d, want 2", p)
	}
}

// Run flushes about once a second, and a last time when stopped.
func TestRunFlushesOnStop(t *testing.T) {
	store := db.NewStore(testDB)
	link := newLink(t, store)
	c := New(store, nil)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	c.Served(link, request("GET", browser), netip.MustParseAddr("203.0.113.1"))
	deadline := time.Now().Add(3 * time.Second)
	for {
		if n, _, _ := openCount(t, link); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a pending open was not flushed within 3 seconds")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Served(link, request("GET", browser), netip.MustParseAddr("203.0.113.2"))
	stop()
	<-done
	if n, _, _ := openCount(t, link); n != 2 {
		t.Fatalf("after stop: open_count %d, want 2 (flushed on shutdown)", n)
	}
}

// BenchmarkServedRepeat is the cost counting adds to a warm request: the
// same client again (the hash and one LRU lookup).
func BenchmarkServedRepeat(b *testing.B) {
	c := New(db.NewStore(testDB), nil)
	r := request("GET", browser)
	ip := netip.MustParseAddr("203.0.113.50")
	c.Served("00000000-0000-0000-0000-000000000001", r, ip)
	b.ReportAllocs()
	for b.Loop() {
		c.Served("00000000-0000-0000-0000-000000000001", r, ip)
	}
}

// BenchmarkServedNewClient is an open by a client not seen before: the
// hash, the bot list, and the pending count.
func BenchmarkServedNewClient(b *testing.B) {
	c := New(db.NewStore(testDB), nil)
	r := request("GET", browser)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		i++
		c.Served("00000000-0000-0000-0000-000000000001", r, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
}
