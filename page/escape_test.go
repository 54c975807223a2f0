package page

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"importops/tracking"
)

// html/template, which rendered the page before templ, is the reference
// here: these tests pin down how templ's escaping differs from it, and
// that it differs in nothing else, for text and attribute values (the
// golden files show it for whole pages).

var reference = template.Must(template.New("").Parse(`<p>{{.}}</p><img alt="{{.}}"><a href="{{.}}"></a>`))

// referenceEscape returns how html/template escaped s as text, as a
// quoted attribute value and as a URL attribute.
func referenceEscape(t *testing.T, s string) (text, attr, url string) {
	t.Helper()
	var buf bytes.Buffer
	if err := reference.Execute(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	text, rest, _ := strings.Cut(strings.TrimPrefix(out, "<p>"), `</p><img alt="`)
	attr, rest, _ = strings.Cut(rest, `"><a href="`)
	url, _, _ = strings.Cut(rest, `"></a>`)
	return text, attr, url
}

// templDiffers is templ's escaping of text and attribute values as
// html/template wrote it, for the two characters where they differ:
//   - '+': html/template writes &#43;, a hedge against UTF-7 sniffing in
//     browsers that guessed a page's charset; templ writes '+', which has
//     no meaning in HTML. The page declares UTF-8 (<meta charset>, and the
//     Content-Type the server sends), so nothing can read it as UTF-7.
//   - NUL: html/template writes U+FFFD; templ writes the NUL, which HTML
//     parsers drop in text and turn into U+FFFD in attribute values and
//     <title>. PostgreSQL text cannot hold a NUL, so no View has one.
func templDiffers(s string) string {
	return strings.NewReplacer("+", "&#43;", "\x00", "\uFFFD").Replace(s)
}

func escapeSamples() []string {
	samples := append([]string{""}, hostile...)
	for r := rune(0); r < 0x3000; r++ {
		samples = append(samples, "a"+string(r)+"b")
	}
	for _, r := range []rune{0xfdd0, 0xfdef, 0xfeff, 0xfff0, 0xfffd, 0xffff, 0x1f697, 0x10ffff} {
		samples = append(samples, string(r))
	}
	return append(samples, "\xff", "\xc3", "a\xed\xa0\x80b")
}

func TestTemplEscapesTextAndAttributesAsHTMLTemplateDid(t *testing.T) {
	for _, s := range escapeSamples() {
		text, attr, _ := referenceEscape(t, s)
		got := templDiffers(templ.EscapeString(s))
		if got != text {
			t.Errorf("text %q: templ %q, html/template %q", s, got, text)
		}
		if got != attr {
			t.Errorf("attribute %q: templ %q, html/template %q", s, got, attr)
		}
	}
}

// The URLs on the page are paths the server makes: for those, templ's
// sanitizer (which leaves them as they are) and html/template's
// normalizer agree; a script URL is refused by both, each with its own
// placeholder.
func TestTemplURLsAsHTMLTemplateDid(t *testing.T) {
	slug := "Zq-8_xYt3PmW0aLbC9dEfG1h"
	for _, p := range []string{
		tracking.PhotoPath(slug, "0b9e3c1a-6f2d-4c8e-9a7b-5d4e3f2a1b0c"),
		tracking.PhotoPath(slug, "0b9e3c1a-6f2d-4c8e-9a7b-5d4e3f2a1b0c") + "?w=320",
		tracking.LogoPath("logos/" + slug + ".png"),
		"/media/logos/" + slug + ".webp?sig=AbC-_9&exp=1767225600",
	} {
		if _, _, want := referenceEscape(t, p); logoHref(t, p) != want {
			t.Errorf("%s: templ %q, html/template %q", p, logoHref(t, p), want)
		}
	}
	for _, bad := range []string{"javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x"} {
		if got := logoHref(t, bad); got != string(templ.FailedSanitizationURL) {
			t.Errorf("%q: templ wrote %q", bad, got)
		}
		if _, _, ref := referenceEscape(t, bad); ref != "#ZgotmplZ" {
			t.Errorf("%q: html/template wrote %q", bad, ref)
		}
	}
}

// logoHref is the href of the icon link of a page whose logo is at path.
func logoHref(t *testing.T, path string) string {
	t.Helper()
	v := minimalView("en-NZ")
	v.Organization.LogoPath = &path
	_, href, _ := strings.Cut(render(t, v), `<link rel="icon" href="`)
	href, _, _ = strings.Cut(href, `"`)
	return href
}
