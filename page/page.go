// Package page renders the customer's tracking page: the HTML a customer
// sees when they open a tracking link, built from the same tracking.View
// that the publicTracking query returns, and the one "link not available"
// page shown for every reason a link does not work.
//
// The page needs no script (one follows changes while it is open, see
// live.js) and loads in one round trip plus its images:
// the stylesheet is inlined and allowed by its hash (see StyleSource), and
// every URL it references is a path on the page's own origin.
package page

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/a-h/templ"

	"importops/catalog"
	"importops/domain"
	"importops/media"
	"importops/tracking"
)

// style is the page's only stylesheet. It is inlined rather than served
// from a second URL so the page costs one round trip (the HTML is
// no-store, so a separate cached file would still be a request that
// blocks rendering on a slow phone connection); the CSP allows exactly
// these bytes by their SHA-256 (StyleSource), so 'unsafe-inline' is never
// needed and no other style can run.
//
//go:embed style.css
var style string

var styleSource = func() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// Style is the inline stylesheet, the same bytes in every page.
func Style() string { return style }

// script follows the link while the page is open (live.js). It is a file
// of this origin rather than inline so that the CSP allows it with
// 'self'; the page works without it.
//
//go:embed live.js
var script []byte

// ScriptPath is where the page's script is served.
const ScriptPath = "/assets/tracking-live.js"

// Script is the page's script, served at ScriptPath.
func Script() []byte { return script }

// StyleSource is the CSP source expression that allows the inline
// stylesheet, for a style-src directive.
func StyleSource() string { return styleSource }

// The templates are templ components (*.templ; the *_templ.go files are
// what 'go run github.com/a-h/templ/cmd/templ generate' makes of them).
// They escape every value for where it lands, as html/template did, at
// compile time rather than through reflection on every page.

// styleElement is the inline stylesheet, written as it is: it is this
// package's own file, never data.
var styleElement = templ.Raw("<style>" + style + "</style>")

// newline is a line break between two elements. templ drops the whitespace
// between the elements of a template; the page keeps the line breaks it
// had (TestPageGolden).
var newline = templ.Raw("\n")

// notAvailable and serverError are rendered once per language: the same
// bytes for every reason a link does not work.
var notAvailable, serverError = func() (na, se map[string][]byte) {
	na, se = map[string][]byte{}, map[string][]byte{}
	for _, l := range domain.Languages {
		t := catalog.For(l)
		na[l] = mustRender(notAvailableNotice(t))
		se[l] = mustRender(notice{
			Lang: t.Lang(), Dir: t.Dir(), Title: t.Get("ErrorTitle"), Heading: t.Get("ErrorTitle"), Text: t.Get("ErrorText"),
		})
	}
	return na, se
}()

func notAvailableNotice(t catalog.Text) notice {
	return notice{Lang: t.Lang(), Dir: t.Dir(), Title: t.Get("NotAvailableTitle"), Heading: t.Get("NotAvailableHeading"), Text: t.Get("NotAvailableText")}
}

// NotAvailable is the "link not available" page (served with status 404)
// in lang (English when unsupported). It names no organization and is
// identical whatever the reason.
func NotAvailable(lang string) []byte { return slices.Clone(byLang(notAvailable, lang)) }

// ServerError is the page shown when the tracking page cannot be built.
func ServerError(lang string) []byte { return slices.Clone(byLang(serverError, lang)) }

func byLang(m map[string][]byte, lang string) []byte {
	if b, ok := m[lang]; ok {
		return b
	}
	return m[domain.Languages[0]]
}

// Render writes the tracking page for v. Each part appears only when the
// View carries it: the View is already filtered by the link's options.
// The page's URLs are the View's paths, on whatever origin the page was
// reached by; origin (PUBLIC_BASE_URL) only makes the Open Graph image
// absolute, as its readers need.
func Render(w io.Writer, v *tracking.View, origin string) error {
	return renderPage(w, newPageData(v, origin))
}

// RenderPreview writes the tracking page for v as Render does, with a
// visible "Preview" marker: what staff see before sending a link.
func RenderPreview(w io.Writer, v *tracking.View, origin string) error {
	d := newPageData(v, origin)
	// A preview is a snapshot: no live script, which would follow its
	// path as if it were a link's slug.
	d.Preview, d.ScriptPath = true, ""
	return renderPage(w, d)
}

func renderPage(w io.Writer, d *pageData) error {
	if err := trackingPage(d).Render(context.Background(), w); err != nil {
		return fmt.Errorf("render tracking page: %w", err)
	}
	return nil
}

// notice is a page that shows no tracking (noticePage), or the content
// the live script shows when the link stops working.
type notice struct {
	// Lang and Dir are the catalog's language and its direction.
	Lang, Dir            string
	Title, Heading, Text string
}

func mustRender(n notice) []byte {
	var buf bytes.Buffer
	if err := noticePage(n).Render(context.Background(), &buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// pageData is the View as the template shows it: formatted for the
// organization's locale, every word in its language.
type pageData struct {
	// Preview marks a staff preview (RenderPreview).
	Preview bool
	// Lang is the page's BCP 47 tag (formatter.tag), Dir the direction of
	// its language.
	Lang, Dir string
	// Text is the catalog's messages without fields.
	Text       *labels
	ScriptPath string
	// PageTitle, OGDescription and Footer are the messages that name the
	// organization.
	PageTitle, OGDescription, Footer string
	OrgName                          string
	LogoPath                         string
	// LogoURL is absolute: Open Graph readers need that.
	LogoURL  string
	Title    string
	Hero     *photo
	Progress *progress
	ETA      *date
	Notes    []note
	Photos   []photo
}

// labels are the messages of the page without fields, in one language.
type labels struct {
	PreviewMarker, Eyebrow, ProgressTitle, CurrentBadge, Completed,
	ETATitle, NotesTitle, PhotosTitle, Updated string
	// Gone is the "link not available" content, shown by the live script
	// (from data attributes) when the link stops working while the page is
	// open.
	Gone notice
}

// labelsByLang holds each language's labels, made once: the catalog never
// changes at run time.
var labelsByLang = func() map[string]*labels {
	m := make(map[string]*labels, len(domain.Languages))
	for _, l := range domain.Languages {
		t := catalog.For(l)
		m[l] = &labels{
			PreviewMarker: t.Get("PreviewMarker"),
			Eyebrow:       t.Get("Eyebrow"),
			ProgressTitle: t.Get("ProgressTitle"),
			CurrentBadge:  t.Get("CurrentBadge"),
			// After the stage's name, for screen readers: "Purchased (completed)".
			Completed:   " " + t.Get("Completed"),
			ETATitle:    t.Get("ETATitle"),
			NotesTitle:  t.Get("NotesTitle"),
			PhotosTitle: t.Get("PhotosTitle"),
			Updated:     t.Get("Updated"),
			Gone:        notAvailableNotice(t),
		}
	}
	return m
}()

type photo struct {
	Src, SrcSet, Href, Alt, Caption string
	Width, Height                   int
}

type progress struct {
	Current string
	Step    string // "Step 3 of 8"
	Stages  []stage
}

type stage struct {
	Label            string
	Reached, Current bool
}

type date struct {
	ISO, Text string
}

type note struct {
	Body string
	Date date
}

func newPageData(v *tracking.View, origin string) *pageData {
	org := v.Organization
	f := newFormatter(org.Locale, org.Language, org.TimeZone)
	t := catalog.For(org.Language)
	d := &pageData{
		Lang:          f.tag,
		Dir:           t.Dir(),
		Text:          labelsByLang[t.Lang()],
		ScriptPath:    ScriptPath,
		PageTitle:     t.Get("PageTitle", "Org", org.Name),
		OGDescription: t.Get("OGDescription", "Org", org.Name),
		Footer:        t.Get("Footer", "Org", org.Name),
		OrgName:       org.Name,
		Title:         v.Vehicle.Title,
	}
	if v.Organization.LogoPath != nil {
		d.LogoPath = *v.Organization.LogoPath
		d.LogoURL = origin + d.LogoPath
	}
	// alt is the text of a photo without a caption, the same for every
	// photo of the vehicle.
	var alt string
	if v.HeroPhoto != nil || len(v.Photos) > 0 {
		alt = t.Get("PhotoAlt", "Title", v.Vehicle.Title)
	}
	if v.HeroPhoto != nil {
		p := newPhoto(*v.HeroPhoto, alt)
		d.Hero = &p
	}
	if v.Progress != nil {
		p := &progress{Stages: make([]stage, 0, len(v.Progress.Stages))}
		for i, s := range v.Progress.Stages {
			p.Stages = append(p.Stages, stage{Label: s.Label, Reached: s.Reached, Current: s.Current})
			if s.Current {
				p.Current = s.Label
				total := len(v.Progress.Stages)
				p.Step = t.Plural("Step", total, "Step", f.number(i+1), "Total", f.number(total))
			}
		}
		d.Progress = p
	}
	if v.EstimatedArrival != nil {
		d.ETA = &date{ISO: v.EstimatedArrival.String(), Text: f.date(*v.EstimatedArrival)}
	}
	d.Notes = make([]note, 0, len(v.Notes))
	for _, n := range v.Notes {
		d.Notes = append(d.Notes, note{Body: n.Body, Date: date{
			ISO:  n.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
			Text: f.day(n.CreatedAt),
		}})
	}
	d.Photos = make([]photo, 0, len(v.Photos))
	for _, p := range v.Photos {
		d.Photos = append(d.Photos, newPhoto(p, alt))
	}
	return d
}

// newPhoto describes the two sizes a public photo URL serves, for srcset:
// the bare URL is the large version (at most media.LargeWidth wide, never
// upscaled), "?w=320" the small one. The large version's dimensions go in
// the width/height attributes: they give the browser the aspect ratio
// before the image arrives, so nothing moves when it does. The alt text
// is the photo's caption, else alt.
func newPhoto(p tracking.PublicPhoto, alt string) photo {
	large := p.Path
	small := large + "?w=" + strconv.Itoa(media.SmallWidth)
	out := photo{Src: large, Href: large, Alt: alt}
	if p.Caption != nil && *p.Caption != "" {
		out.Alt, out.Caption = *p.Caption, *p.Caption
	}
	lw := media.LargeWidth
	if p.Width != nil && p.Height != nil && *p.Width > 0 && *p.Height > 0 {
		w, h := *p.Width, *p.Height
		if w > media.LargeWidth {
			h = (h*media.LargeWidth + w/2) / w
			w = media.LargeWidth
		}
		out.Width, out.Height, lw = w, h, w
	}
	if lw > media.SmallWidth {
		out.SrcSet = small + " " + strconv.Itoa(media.SmallWidth) + "w, " + large + " " + strconv.Itoa(lw) + "w"
	}
	return out
}
