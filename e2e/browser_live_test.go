package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"importops/apptest"
)

// The open page follows its link: a stage change made through the API
// shows without a reload, a customer note appears, and a revoke turns the
// page into the "link not available" content.
func TestBrowserPageFollowsAlong(t *testing.T) {
	env := pgStart(t)
	org := env.NewOrg(t, "Live Page Motors", "NZ")
	vehicleID := createVehicle(t, env, org.Token, apptest.Vars{"year": 2019, "make": "Toyota", "model": "Hilux", "stage": "IN_TRANSIT"})
	slug := createLink(t, env, org.Token, vehicleID, nil).Slug
	browser := pgBrowser(t)
	requests := &pgRequests{}
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithListener(requests.listen))
	defer cancelTab()

	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v; page text:\n%s", what, err, text)
		}
	}
	current := `(document.querySelector('.now') || {}).textContent`
	err := chromedp.Do(tab,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(env.BaseURL+"/t/"+slug),
		chromedp.WaitReady("body"),
		// Survives only if the page is never reloaded.
		chromedp.Evaluate[chromedp.Void](`window.noReload = true`),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll("page open at In transit", current+` === 'In transit'`)
	// Wait for the stream to be open before changing anything: its first
	// event refreshes the page once.
	waitStreams(t, env, 1)

	env.Do(t, org.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {stage: ARRIVED}) { id } }`, apptest.Vars{"v": vehicleID})
	poll("new stage without a reload", current+` === 'Arrived' && window.noReload === true`)
	poll("tracker follows", `document.querySelector('[aria-current="step"] .label').textContent === 'Arrived'`)

	addNote(t, env, org.Token, vehicleID, "Unloaded at the port of Auckland.", "CUSTOMER")
	poll("note appears", `document.body.innerText.includes('Unloaded at the port of Auckland.') && window.noReload === true`)

	tlRevoke(t, env, org.Token, vehicleID)
	poll("not available after revoke", `(document.querySelector('h1') || {}).textContent === 'This link isn’t available' && window.noReload === true`)
	if text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`)); containsAny(text, "Arrived", "Unloaded") {
		t.Errorf("the revoked link's data is still shown: %s", text)
	}
	for _, e := range requests.errors() {
		if !strings.HasSuffix(e, "/favicon.ico") { // no logo: the browser's own guess
			t.Errorf("browser reported: %s", e)
		}
	}
}

// An Arabic page reads right to left: the tracker's markers are on the
// right of their labels.
func TestBrowserArabicMirrors(t *testing.T) {
	env := pgStart(t)
	org := env.NewOrg(t, "مرسى دبي للسيارات", "AE")
	vehicleID := createVehicle(t, env, org.Token, apptest.Vars{"year": 2022, "make": "Nissan", "model": "Patrol", "stage": "ARRIVED"})
	slug := createLink(t, env, org.Token, vehicleID, nil).Slug
	tab, cancelTab := chromedp.NewContext(pgBrowser(t))
	defer cancelTab()
	err := chromedp.Do(tab,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(env.BaseURL+"/t/"+slug),
		chromedp.WaitReady("body"),
	)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := chromedp.Run(tab, chromedp.Evaluate[map[string]any](`(() => {
		const li = document.querySelector('ol.tracker li');
		const m = li.querySelector('.marker').getBoundingClientRect();
		const l = li.querySelector('.label').getBoundingClientRect();
		return {dir: getComputedStyle(document.documentElement).direction, markerLeft: m.left, labelRight: l.right,
			overflow: document.documentElement.scrollWidth > window.innerWidth};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if facts["dir"] != "rtl" || facts["markerLeft"].(float64) < facts["labelRight"].(float64) || facts["overflow"] == true {
		t.Errorf("Arabic tracker not mirrored: %v", facts)
	}
}

// waitStreams waits until the Env's server has n subscription streams open.
func waitStreams(t *testing.T, env *apptest.Env, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for env.OpenStreams() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open, want %d", env.OpenStreams(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
