package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"importops/apptest"
)

// axeSource is axe-core as e2e/axe/package-lock.json pins it; scripts/test
// runs `npm ci` there.
var axeSource = filepath.Join("axe", "node_modules", "axe-core", "axe.min.js")

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Failure string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe-core finds no serious or critical violation on the tracking page,
// in English, German, Japanese and Arabic, on a phone and a desktop.
func TestAxeTrackingPage(t *testing.T) {
	src, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatalf("axe-core is not installed at %s (%v).\nInstall it with: (cd e2e/axe && npm ci)   (scripts/test does)", axeSource, err)
	}
	env := pgStart(t)
	browser := pgBrowser(t)
	for _, country := range []string{"NZ", "DE", "JP", "AE"} {
		org := env.NewOrg(t, "Axe Motors "+country, country)
		uploadLogo(t, env, org.Token, pgLogo(t))
		vehicleID := createVehicle(t, env, org.Token, apptest.Vars{
			"year": 2019, "make": "Toyota", "model": "Land Cruiser", "stage": "CUSTOMS_CLEARED", "estimatedArrival": "2026-12-24",
		})
		hero := tlUploadPhoto(t, env, org.Token, vehicleID, "", 40, 30)
		tlSetHero(t, env, org.Token, vehicleID, hero.ID)
		p1 := tlUploadPhoto(t, env, org.Token, vehicleID, "Caption", 40, 30)
		p2 := tlUploadPhoto(t, env, org.Token, vehicleID, "", 30, 40)
		addNote(t, env, org.Token, vehicleID, "A note for the customer.", "CUSTOMER")
		link := createLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p1.ID, p2.ID}})
		for _, vp := range []pgViewport{
			{"390x844", 390, 844, 2, true},
			{"1280x800", 1280, 800, 1, false},
		} {
			t.Run(country+"/"+vp.name, func(t *testing.T) {
				tab, cancel := chromedp.NewContext(browser)
				defer cancel()
				emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
				if vp.mobile {
					emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
				}
				err := chromedp.Do(tab)
				if err == nil {
					// axe is the test's, not the page's: the page's CSP
					// rightly refuses it.
					_, err = chromedp.Call(tab, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
				}
				if err == nil {
					err = chromedp.Do(tab, chromedp.EmulateViewport(vp.width, vp.height, emulate...),
						chromedp.Navigate(env.BaseURL+"/t/"+link.Slug),
						chromedp.WaitReady("body"),
					)
				}
				if err == nil {
					_, err = chromedp.Run(tab, chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete)`,
						chromedp.WithPollingTimeout(20*time.Second)))
				}
				if err == nil {
					err = chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](string(src)))
				}
				var raw string
				if err == nil {
					raw, err = chromedp.Run(tab, chromedp.Evaluate[string](
						`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
						chromedp.EvalAwaitPromise))
				}
				if err != nil {
					t.Fatalf("run axe: %v", err)
				}
				var violations []axeViolation
				if err := json.Unmarshal([]byte(raw), &violations); err != nil {
					t.Fatalf("axe result %s: %v", raw, err)
				}
				var report strings.Builder
				bad := 0
				for _, v := range violations {
					fmt.Fprintf(&report, "\n[%s] %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
					for _, n := range v.Nodes {
						fmt.Fprintf(&report, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Failure, "\n", "\n      "))
					}
					if v.Impact == "serious" || v.Impact == "critical" {
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("axe-core: %d serious or critical violations:%s", bad, report.String())
				} else if len(violations) > 0 {
					t.Logf("axe-core: minor violations:%s", report.String())
				}
			})
		}
	}
}
