package page

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"importops/domain"
	"importops/tracking"
)

const base = "https://track.example.com"

func ptr[T any](v T) *T { return &v }

// pageLanguage is the page language of an organization in locale that
// kept its country's default.
func pageLanguage(locale string) string {
	l, _, _ := strings.Cut(locale, "-")
	if domain.IsSupportedLanguage(l) {
		return l
	}
	return "en"
}

// fullView is a View with every part present, as an organization in locale
// would see it with all options on.
func fullView(locale string) *tracking.View {
	eta := domain.Date{Year: 2026, Month: time.December, Day: 24}
	return &tracking.View{
		Organization: tracking.PublicOrganization{
			Name: "Kiwi Imports & Co", LogoPath: ptr("/media/logos/abc.png"), Country: "NZ", Locale: locale,
			Language: pageLanguage(locale), TimeZone: "UTC",
		},
		Vehicle: tracking.PublicVehicle{Year: 2019, Make: "Toyota", Model: "Land Cruiser", Title: "2019 Toyota Land Cruiser"},
		HeroPhoto: &tracking.PublicPhoto{
			ID: "p1", Path: "/t/SLUG/photos/p1", Caption: ptr("At the Yokohama yard"), Width: ptr(4000), Height: ptr(3000),
		},
		Progress:         tracking.NewProgress(domain.StageInTransit, pageLanguage(locale)),
		EstimatedArrival: &eta,
		Notes: []tracking.PublicNote{
			{Body: "On the water.\nDue in three weeks.", CreatedAt: time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)},
			{Body: "Bought at auction.", CreatedAt: time.Date(2026, 10, 1, 22, 0, 0, 0, time.UTC)},
		},
		Photos: []tracking.PublicPhoto{
			{ID: "p2", Path: "/t/SLUG/photos/p2", Width: ptr(800), Height: ptr(600)},
			{ID: "p3", Path: "/t/SLUG/photos/p3", Caption: ptr("Interior")},
		},
	}
}

func render(t *testing.T, v *tracking.View) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, v, base); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func parse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// findAll returns the elements under n (in document order) that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

func TestPageRenderFull(t *testing.T) {
	out := render(t, fullView("en-NZ"))
	doc := parse(t, out)

	if h := findAll(doc, tag("html")); len(h) != 1 || mustAttr(t, h[0], "lang") != "en-NZ" {
		t.Errorf("html lang: want en-NZ")
	}
	h1 := findAll(doc, tag("h1"))
	if len(h1) != 1 || text(h1[0]) != "2019 Toyota Land Cruiser" {
		t.Fatalf("want one h1 with the vehicle title, got %d", len(h1))
	}

	// The parts come in the order the customer reads them.
	order := []string{
		`class="org">Kiwi Imports &amp; Co<`,
		`<h1>2019 Toyota Land Cruiser</h1>`,
		`class="hero"`,
		`id="progress-title"`,
		`id="eta-title"`,
		`id="notes-title"`,
		`id="photos-title"`,
	}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i < 0 {
			t.Fatalf("page lacks %q", s)
		}
		if i < last {
			t.Errorf("%q is out of order", s)
		}
		last = i
	}

	// The tracker: an ordered list of every stage, the reached ones
	// marked, exactly one current step.
	ols := findAll(doc, func(n *html.Node) bool { return n.Data == "ol" && hasClass(n, "tracker") })
	if len(ols) != 1 {
		t.Fatalf("want one tracker list, got %d", len(ols))
	}
	items := findAll(ols[0], tag("li"))
	if len(items) != len(domain.Stages) {
		t.Fatalf("tracker has %d stages, want %d", len(items), len(domain.Stages))
	}
	var current []string
	for i, li := range items {
		if v, ok := attr(li, "aria-current"); ok {
			if v != "step" {
				t.Errorf("aria-current=%q, want step", v)
			}
			current = append(current, text(li))
		}
		wantDone := i < domain.StageInTransit.Index()
		if hasClass(li, "done") != wantDone {
			t.Errorf("stage %d done=%v, want %v", i, !wantDone, wantDone)
		}
		if wantDone && !strings.Contains(text(li), "(completed)") {
			t.Errorf("stage %d: reached stage has no text for screen readers", i)
		}
	}
	if len(current) != 1 || !strings.HasPrefix(current[0], "In transit") {
		t.Errorf("current steps %q, want exactly In transit", current)
	}
	if !strings.Contains(out, `<p class="step">Step 3 of 8</p>`) {
		t.Errorf("page lacks the step count")
	}

	// Notes newest first, with dates.
	if a, b := strings.Index(out, "On the water."), strings.Index(out, "Bought at auction."); a < 0 || b < 0 || a > b {
		t.Errorf("notes missing or not newest first")
	}
	if !strings.Contains(out, `<time datetime="2026-11-03T09:30:00Z">3/11/2026</time>`) {
		t.Errorf("note date not formatted for en-NZ")
	}

	// Images: alt text everywhere; the logo is decorative beside the name.
	imgs := findAll(doc, tag("img"))
	if len(imgs) != 4 {
		t.Fatalf("want 4 images (logo, hero, 2 photos), got %d", len(imgs))
	}
	wantAlt := []string{"", "At the Yokohama yard", "Photo of 2019 Toyota Land Cruiser", "Interior"}
	for i, img := range imgs {
		alt, ok := attr(img, "alt")
		if !ok || alt != wantAlt[i] {
			t.Errorf("image %d alt=%q (present %v), want %q", i, alt, ok, wantAlt[i])
		}
	}
	// Hero: large (≤1280 wide) and small versions, large size's box.
	hero := imgs[1]
	if got := mustAttr(t, hero, "srcset"); got != "/t/SLUG/photos/p1?w=320 320w, /t/SLUG/photos/p1 1280w" {
		t.Errorf("hero srcset %q", got)
	}
	if mustAttr(t, hero, "width") != "1280" || mustAttr(t, hero, "height") != "960" {
		t.Errorf("hero box %sx%s, want 1280x960", mustAttr(t, hero, "width"), mustAttr(t, hero, "height"))
	}
	// A photo narrower than 1280 is served at its own width.
	if got := mustAttr(t, imgs[2], "srcset"); got != "/t/SLUG/photos/p2?w=320 320w, /t/SLUG/photos/p2 800w" {
		t.Errorf("photo srcset %q", got)
	}
	if _, ok := attr(imgs[3], "width"); ok {
		t.Errorf("photo without known size has a width attribute")
	}
	// Gallery photos open full size with a plain link.
	links := findAll(doc, func(n *html.Node) bool { return n.Data == "a" })
	if len(links) != 2 || mustAttr(t, links[0], "href") != "/t/SLUG/photos/p2" {
		t.Errorf("gallery links wrong: %d", len(links))
	}

	// Link previews.
	for _, s := range []string{
		`<meta property="og:site_name" content="Kiwi Imports &amp; Co">`,
		`<meta property="og:title" content="Vehicle tracking · Kiwi Imports &amp; Co">`,
		`<meta property="og:image" content="https://track.example.com/media/logos/abc.png">`,
		`<meta name="robots" content="noindex, nofollow">`,
		`<meta name="referrer" content="no-referrer">`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	assertSelfContained(t, out)
}

func mustAttr(t *testing.T, n *html.Node, key string) string {
	t.Helper()
	v, ok := attr(n, key)
	if !ok {
		t.Errorf("<%s> has no %s", n.Data, key)
	}
	return v
}

// assertSelfContained checks what the CSP relies on: no script, no inline
// style attribute, the one <style> matches StyleSource, and every URL the
// browser would fetch is a path on the page's own origin.
func assertSelfContained(t *testing.T, out string) {
	t.Helper()
	// The one script allowed is the page's own file, with no inline code.
	low := strings.ToLower(strings.Replace(out, `<script src="`+ScriptPath+`" defer></script>`, "", 1))
	for _, bad := range []string{"<script", " style=", "javascript:", "@import", "url(", "@font-face"} {
		if strings.Contains(low, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	doc := parse(t, out)
	styles := findAll(doc, tag("style"))
	if len(styles) != 1 {
		t.Fatalf("want one <style>, got %d", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0].FirstChild.Data))
	if got := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; got != StyleSource() {
		t.Errorf("inline style hash %s, CSP allows %s", got, StyleSource())
	}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, key := range []string{"src", "href", "srcset"} {
			v, ok := attr(n, key)
			if !ok {
				continue
			}
			for _, u := range strings.Split(v, ",") {
				u = strings.TrimSpace(u)
				if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
					t.Errorf("<%s %s=%q> is not a path on this origin", n.Data, key, v)
				}
			}
		}
	}
}

func TestPageRenderMinimal(t *testing.T) {
	v := fullView("en-NZ")
	v.Organization.LogoPath = nil
	v.HeroPhoto, v.Progress, v.EstimatedArrival = nil, nil, nil
	v.Notes, v.Photos = []tracking.PublicNote{}, []tracking.PublicPhoto{}
	out := render(t, v)
	for _, s := range []string{"<img", "<ol", `class="tracker"`, "eta-title", "notes-title", "photos-title", "og:image", `rel="icon"`, "<time"} {
		if strings.Contains(out, s) {
			t.Errorf("page with every option off contains %q", s)
		}
	}
	for _, s := range []string{"Kiwi Imports &amp; Co", "<h1>2019 Toyota Land Cruiser</h1>"} {
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	assertSelfContained(t, out)
}

// TestPageDates checks the dates on the page for each organization locale:
// CLDR's medium date via go-playground/locales.
func TestPageDates(t *testing.T) {
	tests := []struct {
		country, eta, note string
	}{
		{"NZ", "24/12/2026", "3/11/2026"},
		{"US", "Dec 24, 2026", "Nov 3, 2026"},
		{"GB", "24 Dec 2026", "3 Nov 2026"},
		{"JP", "2026/12/24", "2026/11/03"},
		{"DE", "24.12.2026", "03.11.2026"},
		{"AU", "24 Dec 2026", "3 Nov 2026"},
		{"AT", "24.12.2026", "03.11.2026"},
		{"FR", "24 déc. 2026", "3 nov. 2026"},
		{"IN", "24 Dec 2026", "3 Nov 2026"}, // hi not a page language: English as in India
		{"BR", "24 de dez. de 2026", "3 de nov. de 2026"},
	}
	for _, tt := range tests {
		t.Run(tt.country, func(t *testing.T) {
			locale := domain.LocaleForCountry(tt.country)
			out := render(t, fullView(locale))
			lang := locale
			if tt.country == "IN" {
				lang = "en-IN"
			}
			if !strings.Contains(out, `<html lang="`+lang+`" dir="ltr">`) {
				t.Errorf("html lang is not %s", lang)
			}
			if want := `<time datetime="2026-12-24">` + tt.eta + `</time>`; !strings.Contains(out, want) {
				t.Errorf("%s: want ETA %s", locale, want)
			}
			if want := `<time datetime="2026-11-03T09:30:00Z">` + tt.note + `</time>`; !strings.Contains(out, want) {
				t.Errorf("%s: want note date %s", locale, want)
			}
		})
	}
}

func TestPageNumbers(t *testing.T) {
	f := newFormatter("de-DE", "de", "UTC")
	if got := f.number(12345); got != "12.345" {
		t.Errorf("de-DE 12345 = %q", got)
	}
	if got := newFormatter("en-NZ", "en", "UTC").number(12345); got != "12,345" {
		t.Errorf("en-NZ 12345 = %q", got)
	}
	if got := newFormatter("not a tag!", "en", "UTC").number(3); got != "3" {
		t.Errorf("fallback 3 = %q", got)
	}
}

func TestPageEscapes(t *testing.T) {
	v := fullView("en-NZ")
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	v.Organization.Name = evil
	v.Vehicle.Title = evil
	v.Notes[0].Body = evil
	v.Photos[1].Caption = ptr(`" onmouseover="alert(3)`)
	out := render(t, v)
	for _, bad := range []string{"<script>alert", "<img src=x", `" onmouseover="alert`} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
}

func TestPageNotAvailable(t *testing.T) {
	b := NotAvailable("en")
	if !bytes.Equal(b, NotAvailable("en")) {
		t.Fatal("not-available page is not stable")
	}
	s := string(b)
	for _, want := range []string{`<html lang="en" dir="ltr">`, "<h1>This link isn’t available</h1>", `content="noindex, nofollow"`} {
		if !strings.Contains(s, want) {
			t.Errorf("not-available page lacks %q", want)
		}
	}
	if strings.Count(s, "<h1") != 1 {
		t.Errorf("want one h1")
	}
	assertSelfContained(t, s)
	assertSelfContained(t, string(ServerError("en")))
}

// TestPageContrast computes the WCAG contrast of every text colour the
// stylesheet puts on each background it uses.
func TestPageContrast(t *testing.T) {
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(style, -1) {
		vars[m[1]] = m[2]
	}
	pairs := []struct{ fg, bg string }{
		{"text", "surface"}, {"text", "bg"},
		{"muted", "surface"}, {"muted", "bg"},
		{"accent", "bg"}, {"accent", "surface"},
		{"on-accent", "accent"},
		{"accent-strong", "accent-soft"},
	}
	for _, p := range pairs {
		fg, bg := vars[p.fg], vars[p.bg]
		if fg == "" || bg == "" {
			t.Fatalf("stylesheet lacks --%s or --%s", p.fg, p.bg)
		}
		if r := contrast(fg, bg); r < 4.5 {
			t.Errorf("--%s on --%s: contrast %.2f < 4.5", p.fg, p.bg, r)
		} else {
			t.Logf("--%s %s on --%s %s: %.2f", p.fg, fg, p.bg, bg, r)
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var ch [3]float64
	for i := range ch {
		var v int
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789abcdef", c|0x20)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			ch[i] = s / 12.92
		} else {
			ch[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
}

// BenchmarkRender is the page's cost on a cache miss, for the load
// script's spread (scripts/load).
func BenchmarkRender(b *testing.B) {
	v := fullView("en-NZ")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Render(&buf, v, "https://track.example"); err != nil {
			b.Fatal(err)
		}
	}
}
