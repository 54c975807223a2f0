package page

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"importops/domain"
	"importops/tracking"
)

// update rewrites the golden files from the current code: for a change to
// the page that is meant, whose diff under testdata/golden/ then shows
// exactly what changed (go test ./page -run Golden -update).
var update = flag.Bool("update", false, "rewrite page/testdata/golden/ from the current output")

// goldenCase is one page the golden test renders.
type goldenCase struct {
	name   string
	render func() ([]byte, error)
}

func renderCase(v *tracking.View, origin string, preview bool) func() ([]byte, error) {
	return func() ([]byte, error) {
		var buf bytes.Buffer
		var err error
		if preview {
			err = RenderPreview(&buf, v, origin)
		} else {
			err = Render(&buf, v, origin)
		}
		return buf.Bytes(), err
	}
}

// hostile is text meant to break out of wherever it lands: quotes of both
// kinds, markup, entities, the end of the inline stylesheet and of a
// script, URLs with a script scheme, and characters that escapers treat
// unevenly (+, `, =, control and non-ASCII characters).
var hostile = []string{
	`"><script>alert(1)</script><img src=x onerror=alert(2)>`,
	`' onmouseover='alert(3)' x='`,
	`" onmouseover="alert(4)`,
	`</style><style>body{display:none}</style>`,
	`</script><script>alert(5)</script>`,
	`javascript:alert(6)`,
	` JaVaScRiPt:alert(7)`,
	`data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==`,
	`&amp; &lt; &#43; &#x27; &quot; & < > ' " + = ` + "`",
	`A+ Motors + Sons, 1+1=2, +64 21 555 0123`,
	`{{.OrgName}} {{template "x"}} ${x} #{x} <%= x %>`,
	`<!-- comment --> <![CDATA[ x ]]> <?php ?>`,
	"tab\tnewline\ncarriage\rreturn\fformfeed\vvtab",
	"line\u2028separator\u2029paragraph \u200b zwsp \u202e rlo \u200f rlm",
	"Ünïcödé ✓ 日本語 العربية 🚗🇳🇿 e\u0301 \ufeff bom \ufdd0 nonchar \uffff",
	`\u003cscript\u003e \x3cscript\x3e %3Cscript%3E`,
	`<a href="javascript:alert(9)">click</a>`,
	`url(javascript:alert(10)) expression(alert(11)) @import "x";`,
	"invalid UTF-8: \xff\xfe \xc3 \xed\xa0\x80 end",
	"NUL: a\x00b",
}

func goldenCases() []goldenCase {
	var cases []goldenCase
	add := func(name string, v *tracking.View) {
		cases = append(cases, goldenCase{name, renderCase(v, base, false)})
	}

	// Every part present, in locales of every page language, a
	// right-to-left one among them, and a locale each whose language is
	// not its country's or is not a page language.
	for _, locale := range []string{
		"en-NZ", "en-US", "en-GB", "en-IN", "de-DE", "de-CH", "fr-FR", "fr-CA", "es-MX", "es-ES",
		"pt-BR", "pt-PT", "nl-NL", "nl-BE", "ja-JP", "ar-SA", "ar-AE", "ar-EG", "hi-IN", "ko-KR", "th-TH",
	} {
		add("full-"+locale, fullView(locale))
	}
	{
		v := fullView("en-US")
		v.Organization.Language = "de" // a German-speaking page of a US organization
		add("full-de-in-US", v)
	}
	{
		v := fullView("not a tag!")
		v.Organization.Language = "en"
		add("full-bad-locale", v)
	}
	{
		v := fullView("ja-JP")
		v.Organization.TimeZone = "Pacific/Auckland" // notes dated in the organization's zone
		add("full-ja-JP-auckland", v)
	}
	{
		v := fullView("en-NZ")
		v.Organization.TimeZone = "Pacific/Auckland"
		add("full-en-NZ-auckland", v)
	}

	// The preview: a marker, no live script.
	for _, locale := range []string{"en-NZ", "ar-SA", "fr-FR"} {
		cases = append(cases, goldenCase{"preview-" + locale, renderCase(fullView(locale), base, true)})
	}
	cases = append(cases, goldenCase{"preview-minimal-en-NZ", renderCase(minimalView("en-NZ"), base, true)})

	// Every option off.
	for _, locale := range []string{"en-NZ", "ar-SA", "ja-JP", "de-DE"} {
		add("minimal-"+locale, minimalView(locale))
	}
	{
		v := minimalView("en-NZ")
		v.Notes, v.Photos = nil, nil
		add("minimal-nil-lists", v)
	}

	// The logo, and the origin that makes its Open Graph URL absolute.
	{
		v := fullView("en-NZ")
		v.Organization.LogoPath = nil
		add("no-logo", v)
	}
	cases = append(cases, goldenCase{"logo-no-origin", renderCase(fullView("en-NZ"), "", false)})
	cases = append(cases, goldenCase{"logo-other-origin", renderCase(fullView("en-NZ"), "http://localhost:8080", false)})
	{
		v := minimalView("en-NZ")
		v.Organization.LogoPath = ptr("/media/logos/Zq-8_xY.webp")
		add("logo-only", v)
	}

	// The hero photo, with and without a caption and a known size.
	hero := func(name string, mod func(p *tracking.PublicPhoto)) {
		v := fullView("en-NZ")
		mod(v.HeroPhoto)
		add("hero-"+name, v)
	}
	hero("no-caption", func(p *tracking.PublicPhoto) { p.Caption = nil })
	hero("empty-caption", func(p *tracking.PublicPhoto) { p.Caption = ptr("") })
	hero("no-size", func(p *tracking.PublicPhoto) { p.Width, p.Height = nil, nil })
	hero("width-only", func(p *tracking.PublicPhoto) { p.Height = nil })
	hero("zero-size", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(0), ptr(0) })
	hero("portrait", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(3000), ptr(4000) })
	hero("exact-large", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(1280), ptr(853) })
	hero("small", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(320), ptr(240) })
	hero("tiny", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(200), ptr(150) })
	hero("just-over-small", func(p *tracking.PublicPhoto) { p.Width, p.Height = ptr(321), ptr(241) })
	{
		v := minimalView("en-NZ")
		v.HeroPhoto = &tracking.PublicPhoto{ID: "p1", Path: "/t/SLUG/photos/p1"}
		add("hero-only", v)
	}

	// Paths as the server makes them: a slug of the URL-safe alphabet, a
	// photo's UUID, a logo's key (tracking.PhotoPath, tracking.LogoPath).
	{
		v := fullView("en-NZ")
		slug := "Zq-8_xYt3PmW0aLbC9dEfG1h"
		v.Organization.LogoPath = ptr(tracking.LogoPath("logos/" + slug + ".webp"))
		v.HeroPhoto.Path = tracking.PhotoPath(slug, "0b9e3c1a-6f2d-4c8e-9a7b-5d4e3f2a1b0c")
		for i := range v.Photos {
			v.Photos[i].Path = tracking.PhotoPath(slug, "7f3e2d1c-0b9a-4876-a543-21fedcba987"+string(rune('0'+i)))
		}
		add("real-paths", v)
	}

	// Progress and arrival, alone or together, at every stage.
	for _, s := range domain.Stages {
		v := fullView("en-NZ")
		v.Progress = tracking.NewProgress(s, "en")
		add("stage-"+string(s), v)
	}
	for _, s := range []domain.Stage{domain.Stages[0], domain.StageInTransit, domain.Stages[len(domain.Stages)-1]} {
		v := fullView("ar-SA")
		v.Progress = tracking.NewProgress(s, "ar")
		add("stage-ar-"+string(s), v)
	}
	{
		v := fullView("en-NZ")
		v.EstimatedArrival = nil
		add("progress-only", v)
	}
	{
		v := fullView("en-NZ")
		v.Progress = nil
		add("eta-only", v)
	}
	{
		v := minimalView("de-DE")
		v.Progress = tracking.NewProgress(domain.StageInTransit, "de")
		add("progress-minimal-de", v)
	}
	{
		v := minimalView("fr-FR")
		v.EstimatedArrival = &domain.Date{Year: 2027, Month: time.January, Day: 5}
		add("eta-minimal-fr", v)
	}

	// Notes and photos alone, one or many.
	{
		v := minimalView("en-NZ")
		v.Notes = fullView("en-NZ").Notes[:1]
		add("notes-one", v)
	}
	{
		v := minimalView("en-NZ")
		v.Photos = fullView("en-NZ").Photos
		add("photos-only", v)
	}
	{
		v := minimalView("en-NZ")
		for i, size := range [][2]int{{0, 0}, {100, 80}, {320, 240}, {640, 480}, {1280, 960}, {5000, 1000}, {1000, 5000}} {
			id := "p" + string(rune('a'+i))
			p := tracking.PublicPhoto{ID: id, Path: "/t/SLUG/photos/" + id}
			if size[0] > 0 {
				p.Width, p.Height = ptr(size[0]), ptr(size[1])
			}
			if i%2 == 1 {
				p.Caption = ptr("Photo " + id)
			}
			v.Photos = append(v.Photos, p)
		}
		add("photos-sizes", v)
	}

	// Hostile text in every field a customer's organization or its staff
	// write: each string of hostile once in every place.
	for i, s := range hostile {
		v := fullView("en-NZ")
		v.Organization.Name = s
		v.Vehicle.Title = s
		v.HeroPhoto.Caption = ptr(s)
		v.Notes[0].Body = s
		v.Photos[1].Caption = ptr(s)
		v.Progress.Stages[2].Label = s
		add("hostile-"+string(rune('a'+i)), v)
	}
	{
		// Hostile text with no caption: the alt text is the message with
		// the title in it.
		v := fullView("ar-SA")
		v.Organization.Name = hostile[0]
		v.Vehicle.Title = hostile[1]
		v.HeroPhoto.Caption = nil
		v.Photos[1].Caption = nil
		add("hostile-alt-ar", v)
	}
	{
		v := fullView("en-NZ")
		v.Organization.Name = strings.Repeat("Long & Name ", 40)
		v.Notes = nil
		for i := range 30 {
			v.Notes = append(v.Notes, tracking.PublicNote{
				Body:      strings.Repeat("note <"+string(rune('a'+i%26))+"> ", i+1),
				CreatedAt: time.Date(2026, 1, 1+i, 23, 59, 59, 0, time.UTC),
			})
		}
		add("long", v)
	}

	// The notice pages, in every language.
	for _, l := range append(slices.Clone(domain.Languages), "xx") {
		cases = append(cases,
			goldenCase{"notavailable-" + l, func() ([]byte, error) { return NotAvailable(l), nil }},
			goldenCase{"servererror-" + l, func() ([]byte, error) { return ServerError(l), nil }},
		)
	}
	return cases
}

// minimalView is fullView with every option off.
func minimalView(locale string) *tracking.View {
	v := fullView(locale)
	v.Organization.LogoPath = nil
	v.HeroPhoto, v.Progress, v.EstimatedArrival = nil, nil, nil
	v.Notes, v.Photos = []tracking.PublicNote{}, []tracking.PublicPhoto{}
	return v
}

// TestPageGolden compares every page of goldenCases with the bytes in
// testdata/golden/, made by the html/template renderer the page had before
// templ: the proof that moving to templ changed nothing (and, from now on,
// that a change to the page is the one intended). Three were rewritten
// on purpose in that move, for the two characters templ escapes unlike
// html/template (templDiffers, in escape_test.go): '+' in hostile-i and
// hostile-j, NUL in hostile-t.
func TestPageGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	cases := goldenCases()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two golden cases named %s", c.name)
		}
		seen[c.name] = true
		out, err := c.render()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got, err := elideStyle(out)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		file := filepath.Join(dir, c.name+".html")
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v (go test ./page -run Golden -update writes it)", c.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: output differs from %s:\n%s", c.name, file, firstDiff(want, got))
		}
	}
	// A golden file no case makes is a page no longer checked.
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".html"); !seen[name] {
			t.Errorf("%s belongs to no golden case", f)
		}
	}
}

// styleMark stands in the golden files for the inline stylesheet, the
// same bytes in every page (its own test checks them against the CSP
// hash): the files stay small enough to read in a diff.
const styleMark = "<style>/* page/style.css */</style>"

// elideStyle replaces the page's one <style> element, which must hold
// exactly Style(), with styleMark.
func elideStyle(page []byte) ([]byte, error) {
	tag := []byte("<style>" + Style() + "</style>")
	if n := bytes.Count(page, tag); n != 1 || bytes.Count(page, []byte("<style")) != 1 {
		return nil, fmt.Errorf("want exactly one <style> holding Style(), found it %d times", n)
	}
	return bytes.Replace(page, tag, []byte(styleMark), 1), nil
}

// firstDiff shows where got first departs from want, with some context.
func firstDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return "at byte " + strconv.Itoa(i) + ":\nwant …" + quote(want[lo:min(len(want), i+80)]) + "\ngot  …" + quote(got[lo:min(len(got), i+80)])
}

func quote(b []byte) string { return strings.ReplaceAll(string(b), "\n", "⏎") }
