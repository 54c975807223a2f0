package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"importops/apptest"
	"importops/catalog"
	"importops/db"
	"importops/domain"
)

type wdOrg struct {
	Country, Locale, Language, TimeZone string
}

const wdOrgFields = `country locale language timeZone`

func wdViewerOrg(t *testing.T, env *apptest.Env, token string) wdOrg {
	t.Helper()
	var out struct{ Viewer struct{ Organization wdOrg } }
	env.Do(t, token, `{ viewer { organization { `+wdOrgFields+` } } }`, nil).Decode(t, &out)
	return out.Viewer.Organization
}

func wdUpdateOrg(t *testing.T, env *apptest.Env, token string, input apptest.Vars) apptest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($in: UpdateOrganizationInput!) { updateOrganization(input: $in) { `+wdOrgFields+` } }`,
		apptest.Vars{"in": input})
}

// wdLinkedVehicle creates an IN_TRANSIT vehicle with an ETA and a link
// showing everything, and returns the vehicle id and slug.
func wdLinkedVehicle(t *testing.T, env *apptest.Env, token string) (vehicleID, slug string) {
	t.Helper()
	vehicleID = createVehicle(t, env, token, apptest.Vars{
		"year": 2019, "make": "Toyota", "model": "Land Cruiser", "stage": "IN_TRANSIT", "estimatedArrival": "2026-12-24",
	})
	return vehicleID, createLink(t, env, token, vehicleID, nil).Slug
}

func TestWorldCountryDefaults(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	for country, want := range map[string]wdOrg{
		"DE": {"DE", "de-DE", "de", "Europe/Berlin"},
		"AE": {"AE", "ar-AE", "ar", "Asia/Dubai"},
		"JP": {"JP", "ja-JP", "ja", "Asia/Tokyo"},
		"NZ": {"NZ", "en-NZ", "en", "Pacific/Auckland"},
		"US": {"US", "en-US", "en", "America/New_York"},
		"BR": {"BR", "pt-BR", "pt", "America/Sao_Paulo"},
	} {
		org := env.NewOrg(t, "Defaults "+country, country)
		if got := wdViewerOrg(t, env, org.Token); got != want {
			t.Errorf("%s: organization %+v, want %+v", country, got, want)
		}
		_, slug := wdLinkedVehicle(t, env, org.Token)
		var out struct {
			PublicTracking struct {
				Organization struct{ Language, TimeZone string }
			}
		}
		env.Do(t, "", `query($s: String!) { publicTracking(slug: $s) { organization { language timeZone } } }`,
			apptest.Vars{"s": slug}).Decode(t, &out)
		if o := out.PublicTracking.Organization; o.Language != want.Language || o.TimeZone != want.TimeZone {
			t.Errorf("%s: public organization %+v", country, o)
		}
	}
}

func TestWorldOverrides(t *testing.T) {
	env, org := tlStart(t, "Override Imports", "NZ")

	// Defaults follow the country while nothing was chosen.
	var got wdOrg
	var out struct{ UpdateOrganization wdOrg }
	wdUpdateOrg(t, env, org.Token, apptest.Vars{"country": "DE"}).Decode(t, &out)
	if got = out.UpdateOrganization; got.Language != "de" || got.TimeZone != "Europe/Berlin" {
		t.Fatalf("after moving to DE: %+v", got)
	}

	wdUpdateOrg(t, env, org.Token, apptest.Vars{"language": "JA", "timeZone": "Pacific/Auckland"}).Decode(t, &out)
	if got = out.UpdateOrganization; got.Language != "ja" || got.TimeZone != "Pacific/Auckland" || got.Country != "DE" {
		t.Fatalf("after choosing ja and Auckland: %+v", got)
	}
	// A chosen language and zone stay when the country changes.
	wdUpdateOrg(t, env, org.Token, apptest.Vars{"country": "US"}).Decode(t, &out)
	if got = out.UpdateOrganization; got.Language != "ja" || got.TimeZone != "Pacific/Auckland" {
		t.Fatalf("after moving to US: %+v", got)
	}

	// Bad input: BAD_USER_INPUT, and nothing of the input is written.
	for _, bad := range []apptest.Vars{
		{"language": "xx", "name": "Should Not Stick"},
		{"language": "de-DE", "name": "Should Not Stick"},
		{"language": "", "name": "Should Not Stick"},
		{"language": nil},
		{"timeZone": "Mars/Olympus_Mons", "name": "Should Not Stick"},
		{"timeZone": "Local", "name": "Should Not Stick"},
		{"timeZone": "", "name": "Should Not Stick"},
		{"timeZone": nil},
	} {
		res := wdUpdateOrg(t, env, org.Token, bad)
		tlWantCode(t, res, "BAD_USER_INPUT")
		if strings.Contains(string(res.Body), "pq:") || strings.Contains(string(res.Body), "SQL") {
			t.Fatalf("error leaks driver text: %s", res.Body)
		}
	}
	var name struct {
		Viewer struct {
			Organization struct{ Name, Language, TimeZone string }
		}
	}
	env.Do(t, org.Token, `{ viewer { organization { name language timeZone } } }`, nil).Decode(t, &name)
	if o := name.Viewer.Organization; o.Name != "Override Imports" || o.Language != "ja" || o.TimeZone != "Pacific/Auckland" {
		t.Fatalf("refused updates wrote something: %+v", o)
	}

	// Staff only, and only owners and admins.
	tlWantCode(t, wdUpdateOrg(t, env, "", apptest.Vars{"language": "de"}), "UNAUTHENTICATED")
}

// Every stage label in every language, on both public paths.
func TestWorldStageLabels(t *testing.T) {
	env, org := tlStart(t, "Label Imports", "NZ")
	vehicleID, slug := wdLinkedVehicle(t, env, org.Token)
	_ = vehicleID
	known := map[string]string{"en": "In transit", "de": "Unterwegs", "fr": "En transit", "es": "En tránsito",
		"pt": "Em trânsito", "nl": "Onderweg", "ja": "輸送中", "ar": "قيد النقل"}
	for _, lang := range domain.Languages {
		wdUpdateOrg(t, env, org.Token, apptest.Vars{"language": lang})
		var out struct {
			PublicTracking struct {
				Progress struct {
					Stages []struct{ Stage, Label string }
				}
			}
		}
		env.Do(t, "", `query($s: String!) { publicTracking(slug: $s) { progress { stages { stage label } } } }`,
			apptest.Vars{"s": slug}).Decode(t, &out)
		stages := out.PublicTracking.Progress.Stages
		if len(stages) != 8 {
			t.Fatalf("%s: %d stages", lang, len(stages))
		}
		_, page := tlPage(t, env, slug)
		text := catalog.For(lang)
		english := catalog.For("en")
		for i, s := range stages {
			want := text.Stage(domain.Stages[i])
			if s.Stage != string(domain.Stages[i]) || s.Label != want || want == "" {
				t.Errorf("%s: stage %d = %+v, want label %q", lang, i, s, want)
			}
			if lang != "en" && s.Label == english.Stage(domain.Stages[i]) {
				t.Errorf("%s: %s label is the English one", lang, s.Stage)
			}
			if !strings.Contains(string(page), `<span class="label">`+html.EscapeString(want)+`</span>`) {
				t.Errorf("%s: page lacks the label %q", lang, want)
			}
		}
		if stages[2].Label != known[lang] {
			t.Errorf("%s: IN_TRANSIT = %q, want %q", lang, stages[2].Label, known[lang])
		}
	}
}

var wdHTMLTag = regexp.MustCompile(`<html lang="([^"]+)" dir="([a-z]+)">`)

func TestWorldLangAndDir(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	for _, tt := range []struct{ country, lang, dir string }{
		{"NZ", "en-NZ", "ltr"}, {"DE", "de-DE", "ltr"}, {"JP", "ja-JP", "ltr"}, {"AE", "ar-AE", "rtl"},
		{"FR", "fr-FR", "ltr"}, {"MX", "es-MX", "ltr"}, {"BR", "pt-BR", "ltr"}, {"NL", "nl-NL", "ltr"},
	} {
		org := env.NewOrg(t, "Lang "+tt.country, tt.country)
		_, slug := wdLinkedVehicle(t, env, org.Token)
		res, body := tlPage(t, env, slug)
		m := wdHTMLTag.FindStringSubmatch(string(body))
		if res.StatusCode != http.StatusOK || m == nil || m[1] != tt.lang || m[2] != tt.dir {
			t.Errorf("%s: status %d, html tag %q, want lang %s dir %s", tt.country, res.StatusCode, m, tt.lang, tt.dir)
		}
	}
	// A chosen language wins over the country's, with the country's region.
	org := env.NewOrg(t, "Lang override", "US")
	wdUpdateOrg(t, env, org.Token, apptest.Vars{"language": "ar"})
	_, slug := wdLinkedVehicle(t, env, org.Token)
	_, body := tlPage(t, env, slug)
	if m := wdHTMLTag.FindStringSubmatch(string(body)); m == nil || m[1] != "ar-US" || m[2] != "rtl" {
		t.Errorf("US organization in Arabic: html tag %q", m)
	}
}

// wdVisibleText is every text node and every attribute a person may see
// or hear (alt, title, content of meta, aria-label, data-* texts the
// script shows) of a page.
func wdVisibleText(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "script") {
			return
		}
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) != "" {
			out = append(out, strings.TrimSpace(n.Data))
		}
		for _, a := range n.Attr {
			if a.Key == "alt" || a.Key == "title" || a.Key == "aria-label" || a.Key == "content" || strings.HasPrefix(a.Key, "data-") {
				out = append(out, a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// No English word of the page's own on a German or Japanese page: every
// English message (rendered with the same data) is absent from what the
// page shows, and so are the words the page used to hard-code.
func TestWorldNoEnglishOnTranslatedPages(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	english := catalog.For("en")
	const orgName, title = "Übersee Autos", "2019 Toyota Land Cruiser"
	for _, country := range []string{"DE", "JP"} {
		org := env.NewOrg(t, orgName, country)
		vehicleID, slug := wdLinkedVehicle(t, env, org.Token)
		addNote(t, env, org.Token, vehicleID, "Notiz", "CUSTOMER")
		p := tlUploadPhoto(t, env, org.Token, vehicleID, "", 10, 10)
		tlSetHero(t, env, org.Token, vehicleID, p.ID)
		updateLink(t, env, org.Token, vehicleID, apptest.Vars{"photoIds": []string{p.ID}})
		_, page := tlPage(t, env, slug)
		shown := strings.Join(wdVisibleText(t, page), "\n")
		ids, err := catalog.MessageIDs("en")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			en := english.Get(id, "Org", orgName, "Title", title, "Step", "3", "Total", "8")
			if id == "Step" {
				en = english.Plural(id, 8, "Step", "3", "Total", "8")
			}
			if strings.Contains(shown, en) {
				t.Errorf("%s page shows English %s: %q", country, id, en)
			}
		}
		for _, word := range []string{"Vehicle", "tracking", "Progress", "Step", "Current", "completed",
			"Estimated", "arrival", "Updates", "Photo", "Shared", "private", "forward", "available"} {
			if strings.Contains(strings.ReplaceAll(shown, title, ""), word) {
				t.Errorf("%s page shows the English word %q", country, word)
			}
		}
		if !strings.Contains(shown, catalog.For(strings.ToLower(domain.DefaultLanguage(country))).Get("ETATitle")) {
			t.Errorf("%s page lacks its own ETA heading", country)
		}
	}
}

// wdSetNoteTime moves a note's createdAt, as if written then, and drops
// the cached views of its vehicle on every server.
func wdSetNoteTime(t *testing.T, env *apptest.Env, noteID, vehicleID string, at time.Time) {
	t.Helper()
	if _, err := testDB.ExecContext(context.Background(),
		`UPDATE notes SET created_at = $2 WHERE id = $1`, noteID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := testDB.ExecContext(context.Background(), `SELECT pg_notify($1, $2)`, db.PublicChannel, db.VehicleKey(vehicleID)); err != nil {
		t.Fatal(err)
	}
	env.Tracking.Invalidate(db.VehicleKey(vehicleID))
}

// A note's date is the calendar day in the organization's zone: the same
// instant is the 3rd in Auckland and the 2nd in New York.
func TestWorldDayBoundaries(t *testing.T) {
	env, org := tlStart(t, "Zone Imports", "NZ")
	vehicleID, slug := wdLinkedVehicle(t, env, org.Token)
	noteID := addNote(t, env, org.Token, vehicleID, "Left Yokohama", "CUSTOMER")
	// 09:30 on Tuesday 3 March in Auckland (NZDT, UTC+13); 15:30 on
	// Monday 2 March in New York (EST, UTC−5).
	at := time.Date(2026, 3, 2, 20, 30, 0, 0, time.UTC)
	wdSetNoteTime(t, env, noteID, vehicleID, at)
	noteDate := func() string {
		t.Helper()
		_, body := tlPage(t, env, slug)
		m := regexp.MustCompile(`<time datetime="2026-03-02T20:30:00Z">([^<]+)</time>`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no note date for the instant on the page: %s", body)
		}
		return string(m[1])
	}
	if got := noteDate(); got != "3/03/2026" {
		t.Errorf("Pacific/Auckland: note dated %q, want 3/03/2026", got)
	}
	wdUpdateOrg(t, env, org.Token, apptest.Vars{"timeZone": "America/New_York"})
	if got := noteDate(); got != "2/03/2026" {
		t.Errorf("America/New_York: note dated %q, want 2/03/2026", got)
	}
	// Just before and after midnight in Auckland.
	wdUpdateOrg(t, env, org.Token, apptest.Vars{"timeZone": "Pacific/Auckland"})
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 2, 10, 59, 0, 0, time.UTC), "2/03/2026"}, // 23:59 NZDT
		{time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC), "3/03/2026"},  // 00:00 NZDT
	} {
		wdSetNoteTime(t, env, noteID, vehicleID, tt.at)
		_, body := tlPage(t, env, slug)
		want := `<time datetime="` + tt.at.Format("2006-01-02T15:04:05Z") + `">` + tt.want + `</time>`
		if !strings.Contains(string(body), want) {
			t.Errorf("note at %s: want %s", tt.at, want)
		}
	}
}

// The "link not available" page names no organization, so it speaks the
// browser's language.
func TestWorldNotAvailableInBrowserLanguage(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	for accept, want := range map[string]string{
		"de-DE,de;q=0.9": "Dieser Link ist nicht verfügbar",
		"ja":             "このリンクは利用できません",
		"ar-AE":          "هذا الرابط غير متاح",
		"":               "This link isn’t available",
	} {
		req, _ := http.NewRequest(http.MethodGet, env.BaseURL+"/t/"+tlRandomSlug(), nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || !strings.Contains(string(b), want) {
			t.Errorf("Accept-Language %q: status %d, want %q in %.200s", accept, res.StatusCode, want, b)
		}
	}
}
