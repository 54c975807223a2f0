package e2e

// A real browser (headless Chromium, driven by chromedp) opens the
// customer's tracking page from the running server, as a customer's phone
// and a desktop would, and writes screenshots to test-artifacts/.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"importops/apptest"
	"importops/domain"
	"importops/media/art"
)

// pgChromium is Debian's Chromium; the test command installs it.
const pgChromium = "/usr/bin/chromium"

// pgArtifacts is where screenshots go: test-artifacts/ at the repository
// root (git-ignored).
var pgArtifacts = filepath.Join("..", "test-artifacts")

func TestBrowserTrackingPage(t *testing.T) {
	env := pgStart(t)
	show := pgSeedShowcase(t, env)
	if err := os.MkdirAll(pgArtifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	browserCtx := pgBrowser(t)

	for _, vp := range []pgViewport{
		{"phone-390x844", 390, 844, 2, true},
		{"desktop-1280x800", 1280, 800, 1, false},
	} {
		t.Run(vp.name, func(t *testing.T) {
			facts, shot, requests := pgOpen(t, browserCtx, env.BaseURL+"/t/"+show.Slug, vp)
			path := filepath.Join(pgArtifacts, "tracking-page-"+vp.name+".png")
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)

			if facts.ScrollWidth > facts.InnerWidth {
				t.Errorf("horizontal scroll: scrollWidth %d > innerWidth %d", facts.ScrollWidth, facts.InnerWidth)
			}
			if facts.H1 != "2019 Toyota Land Cruiser Prado" || facts.H1Count != 1 {
				t.Errorf("h1 %q (%d of them), want the vehicle title once", facts.H1, facts.H1Count)
			}
			if facts.Lang != "en-NZ" {
				t.Errorf("lang %q", facts.Lang)
			}
			wantImages := 1 + 1 + len(show.Photos) // logo, hero, gallery
			if len(facts.Images) != wantImages {
				t.Errorf("%d images, want %d", len(facts.Images), wantImages)
			}
			for _, img := range facts.Images {
				if !img.Complete || img.NaturalWidth == 0 {
					t.Errorf("image %s did not load (complete %v, naturalWidth %d)", img.Src, img.Complete, img.NaturalWidth)
				}
			}
			if facts.Steps != len(domain.Stages) || facts.CurrentSteps != 1 || facts.CurrentLabel != "In transit" {
				t.Errorf("tracker: %d steps, %d aria-current=step, current %q; want %d, 1, In transit",
					facts.Steps, facts.CurrentSteps, facts.CurrentLabel, len(domain.Stages))
			}
			for _, s := range []string{"Estimated arrival", "Updates", "Photos", "Harbour City Motors",
				"Your Land Cruiser is on the water"} {
				if !strings.Contains(strings.ToLower(facts.Text), strings.ToLower(s)) {
					t.Errorf("page text lacks %q", s)
				}
			}
			noSecrets(t, "rendered page text", []byte(facts.Text), pgSecrets)

			// Nothing but this server was asked for anything, and the
			// browser reported no error (a CSP violation would be one).
			for _, u := range requests.urls() {
				if !strings.HasPrefix(u, env.BaseURL+"/") {
					t.Errorf("the page requested another origin: %s", u)
				}
			}
			for _, e := range requests.errors() {
				t.Errorf("browser reported: %s", e)
			}
		})
	}

	// The narrowest phone the page is made for, with the longest names
	// and an unbroken URL in a note: still no horizontal scroll.
	t.Run("narrow-360x740", func(t *testing.T) {
		slug := pgSeedLongWords(t, env)
		facts, shot, _ := pgOpen(t, browserCtx, env.BaseURL+"/t/"+slug, pgViewport{"narrow-360x740", 360, 740, 2, true})
		if err := os.WriteFile(filepath.Join(pgArtifacts, "tracking-page-long-words-360x740.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if facts.ScrollWidth > facts.InnerWidth {
			t.Errorf("horizontal scroll at 360 px: scrollWidth %d > innerWidth %d", facts.ScrollWidth, facts.InnerWidth)
		}
	})

	t.Run("not available", func(t *testing.T) {
		tab, cancelTab := chromedp.NewContext(browserCtx)
		defer cancelTab()
		err := chromedp.Do(tab,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(env.BaseURL+"/t/"+"Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIz"),
		)
		var h1 string
		if err == nil {
			h1, err = chromedp.Run(tab, chromedp.Text("h1"))
		}
		var overflow bool
		if err == nil {
			overflow, err = chromedp.Run(tab, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		}
		var shot []byte
		if err == nil {
			shot, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pgArtifacts, "not-available-phone-390x844.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if h1 != "This link isn’t available" || overflow {
			t.Errorf("not-available page: h1 %q, horizontal scroll %v", h1, overflow)
		}
	})
}

// pgBrowser starts headless Chromium for the test; it is stopped when the
// test ends, and gives up after 3 minutes.
func pgBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(pgChromium); err != nil {
		t.Fatalf("the browser test needs Chromium at %s (%v).\n"+
			"Install it with: apt-get install -y chromium   (scripts/test installs it when missing)", pgChromium, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(pgChromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return browserCtx
}

type pgViewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

// pgOpen opens url in a new tab of the browser at the viewport, scrolls
// through the page as a customer would (the gallery loads lazily), waits
// for every image, and returns what the page shows, a full-page
// screenshot and what the tab requested.
func pgOpen(t *testing.T, browserCtx context.Context, url string, vp pgViewport) (pgPageFacts, []byte, *pgRequests) {
	t.Helper()
	requests := &pgRequests{}
	tab, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithListener(requests.listen))
	defer cancelTab()
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.mobile {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	err := chromedp.Do(tab,
		chromedp.EmulateViewport(vp.width, vp.height, emulate...),
		chromedp.Navigate(url),
		chromedp.WaitReady("body"),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`),
	)
	if err == nil {
		_, err = chromedp.Run(tab, chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete)`,
			chromedp.WithPollingTimeout(30*time.Second)))
	}
	if err == nil {
		err = chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	}
	var facts pgPageFacts
	if err == nil {
		facts, err = chromedp.Run(tab, chromedp.Evaluate[pgPageFacts](pgFactsJS))
	}
	var shot []byte
	if err == nil {
		shot, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
	}
	if err != nil {
		t.Fatalf("open %s at %s: %v", url, vp.name, err)
	}
	return facts, shot, requests
}

// pgFactsJS reads what the test asserts from the rendered page.
const pgFactsJS = `(() => {
	const cur = document.querySelectorAll('ol.tracker [aria-current="step"]');
	return {
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: window.innerWidth,
		h1: (document.querySelector('h1') || {}).textContent || '',
		h1Count: document.querySelectorAll('h1').length,
		lang: document.documentElement.lang,
		images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth})),
		steps: document.querySelectorAll('ol.tracker > li').length,
		currentSteps: cur.length,
		currentLabel: cur.length ? cur[0].querySelector('.label').textContent : '',
		text: document.body.innerText,
	};
})()`

type pgPageFacts struct {
	ScrollWidth int    `json:"scrollWidth"`
	InnerWidth  int    `json:"innerWidth"`
	H1          string `json:"h1"`
	H1Count     int    `json:"h1Count"`
	Lang        string `json:"lang"`
	Images      []struct {
		Src          string `json:"src"`
		Complete     bool   `json:"complete"`
		NaturalWidth int    `json:"naturalWidth"`
	} `json:"images"`
	Steps        int    `json:"steps"`
	CurrentSteps int    `json:"currentSteps"`
	CurrentLabel string `json:"currentLabel"`
	Text         string `json:"text"`
}

// pgRequests records what a tab asked the network for and what it logged
// as an error.
type pgRequests struct {
	mu   sync.Mutex
	seen []string
	errs []string
}

func (r *pgRequests) urls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func (r *pgRequests) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// listen runs in the tab's message loop (chromedp.WithListener): it only
// records.
func (r *pgRequests) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.seen = append(r.seen, ev.Request.URL)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			r.errs = append(r.errs, ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *runtime.EventExceptionThrown:
		r.errs = append(r.errs, ev.ExceptionDetails.Text)
	}
}

// pgShowcase is a vehicle set up the way a proud business would share it.
type pgShowcase struct {
	Slug   string
	Photos []string
}

func pgSeedShowcase(t *testing.T, env *apptest.Env) pgShowcase {
	t.Helper()
	org := env.NewOrg(t, "Harbour City Motors", "NZ")
	uploadLogo(t, env, org.Token, pgLogo(t))
	var cust struct{ CreateCustomer struct{ ID string } }
	env.Do(t, org.Token, `mutation($in: CustomerInput!) { createCustomer(input: $in) { id } }`, apptest.Vars{"in": apptest.Vars{
		"name": "Pgcustomer Hiddenname", "email": "pg.hidden@example.com", "phone": "+64 27 555 0177",
	}}).Decode(t, &cust)
	id := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2019, "make": "Toyota", "model": "Land Cruiser Prado", "stage": "IN_TRANSIT",
		"vin": "PGVINSECRET4242", "stockNumber": "PG-STOCK-7731", "customerId": cust.CreateCustomer.ID,
		"estimatedArrival": time.Now().AddDate(0, 0, 21).Format("2006-01-02"),
		"agreedSalePrice":  apptest.Vars{"amount": "87654.32", "currency": "NZD"},
	})
	hero := uploadPhoto(t, env, org.Token, id, "", pgScene(t, 1600, 1000, pgDay)).ID
	var set struct{ SetHeroPhoto struct{ ID string } }
	env.Do(t, org.Token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`,
		apptest.Vars{"v": id, "p": hero}).Decode(t, &set)
	var show pgShowcase
	for _, p := range []struct {
		caption string
		pal     pgPalette
	}{
		{"Loaded at Yokohama", pgDawn},
		{"", pgDusk},
		{"Ready for the voyage", pgDay},
		{"", pgNight},
		{"Pre-export inspection", pgDawn},
	} {
		show.Photos = append(show.Photos, uploadPhoto(t, env, org.Token, id, p.caption, pgScene(t, 1200, 900, p.pal)).ID)
	}
	addNote(t, env, org.Token, id, "We’ve received your deposit. Thank you! We’re arranging export paperwork with the auction house.", "CUSTOMER")
	addNote(t, env, org.Token, id, "PG-INTERNAL-NOTE-SECRET", "INTERNAL")
	addNote(t, env, org.Token, id, "Your Land Cruiser is on the water and due at the Port of Auckland in about three weeks. We’ll be in touch as soon as it lands.", "CUSTOMER")
	show.Slug = createLink(t, env, org.Token, id, apptest.Vars{
		"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true,
		"photoIds": show.Photos,
	}).Slug
	return show
}

// pgSeedLongWords is a link whose names and note have long unbroken words.
func pgSeedLongWords(t *testing.T, env *apptest.Env) string {
	t.Helper()
	org := env.NewOrg(t, "Aotearoa Premium Japanese Vehicle Importers & Exporters (Christchurch) Limited", "NZ")
	id := createVehicle(t, env, org.Token, apptest.Vars{
		"year": 2021, "make": "Mercedes-Benz", "model": "GLE450AMGLine4MATICPremiumPlusCoupeWithoutSpaces",
		"stage": "READY_FOR_DELIVERY", "estimatedArrival": "2030-12-24",
	})
	addNote(t, env, org.Token, id, "Follow the ship: https://vessels.example.com/en/ais/details/ships/shipid:1234567/mmsi:431234567/imo:9876543/vessel:TRANS_FUTURE_5_LONG_NAME", "CUSTOMER")
	return createLink(t, env, org.Token, id, apptest.Vars{
		"showPhoto": true, "showEstimatedArrival": true, "showProgress": true, "showCustomerNotes": true,
	}).Slug
}

// pgPalette colours a generated photo (media/art).
type pgPalette = art.Palette

var pgDay, pgDawn, pgDusk, pgNight = art.Day, art.Dawn, art.Dusk, art.Night

// pgScene is a photo-like JPEG of a car (media/art).
func pgScene(t *testing.T, w, h int, p pgPalette) []byte {
	t.Helper()
	b, err := art.Scene(w, h, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pgLogo is a 256×256 PNG logo (media/art).
func pgLogo(t *testing.T) []byte {
	t.Helper()
	b, err := art.Logo()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
