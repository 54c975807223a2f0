package page

import (
	"strings"
	"time"

	"github.com/go-playground/locales"
	"github.com/go-playground/locales/ar"
	"github.com/go-playground/locales/ar_AE"
	"github.com/go-playground/locales/ar_SA"
	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/de_AT"
	"github.com/go-playground/locales/de_CH"
	"github.com/go-playground/locales/de_DE"
	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/en_AU"
	"github.com/go-playground/locales/en_CA"
	"github.com/go-playground/locales/en_GB"
	"github.com/go-playground/locales/en_IE"
	"github.com/go-playground/locales/en_NZ"
	"github.com/go-playground/locales/en_SG"
	"github.com/go-playground/locales/en_US"
	"github.com/go-playground/locales/en_ZA"
	"github.com/go-playground/locales/es"
	"github.com/go-playground/locales/es_ES"
	"github.com/go-playground/locales/es_MX"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/fr_CA"
	"github.com/go-playground/locales/fr_FR"
	"github.com/go-playground/locales/it"
	"github.com/go-playground/locales/ja"
	"github.com/go-playground/locales/ja_JP"
	"github.com/go-playground/locales/ko"
	"github.com/go-playground/locales/nl"
	"github.com/go-playground/locales/nl_BE"
	"github.com/go-playground/locales/nl_NL"
	"github.com/go-playground/locales/pt"
	"github.com/go-playground/locales/pt_BR"
	"github.com/go-playground/locales/pt_PT"
	"github.com/go-playground/locales/th"
	"golang.org/x/text/language"

	"importops/domain"
)

// translators are the CLDR locales the page formats dates and numbers
// for. Their rules are generated from CLDR by go-playground/locales; this
// list only says which ones the binary carries. English comes first: it
// is the fallback.
var translators = []locales.Translator{
	en.New(), en_AU.New(), en_CA.New(), en_GB.New(), en_IE.New(), en_NZ.New(),
	en_SG.New(), en_US.New(), en_ZA.New(),
	de.New(), de_AT.New(), de_CH.New(), de_DE.New(),
	es.New(), es_ES.New(), es_MX.New(), fr.New(), fr_CA.New(), fr_FR.New(), it.New(),
	ja.New(), ja_JP.New(), ko.New(), nl.New(), nl_BE.New(), nl_NL.New(), th.New(),
	pt.New(), pt_BR.New(), pt_PT.New(), ar.New(), ar_AE.New(), ar_SA.New(),
}

// matcher picks the carried translator closest to a BCP 47 tag with
// CLDR's language-matching data: the exact locale, else a regional sibling
// or the bare language (en-IN → en-GB, de-LU → de).
var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(translators))
	for i, t := range translators {
		tags[i] = language.MustParse(strings.ReplaceAll(t.Locale(), "_", "-"))
	}
	return language.NewMatcher(tags)
}()

// translatorFor returns the translator for an organization's locale: the
// closest carried locale of its language; for a language the page does
// not carry, English as written in the same region (hi-IN → en-IN, which
// CLDR matches to British-style English); else plain English.
func translatorFor(locale string) locales.Translator {
	tag, err := language.Parse(locale)
	if err != nil {
		return translators[0]
	}
	if _, i, conf := matcher.Match(tag); conf != language.No {
		return translators[i]
	}
	if region, conf := tag.Region(); conf == language.Exact {
		if en, err := language.Compose(language.English, region); err == nil {
			if _, i, conf := matcher.Match(en); conf != language.No {
				return translators[i]
			}
		}
	}
	return translators[0]
}

// formatter writes dates and numbers the way the organization's locale
// does.
//
// Dates use CLDR's medium date style: numeric with the full year where
// the locale writes dates that way (en-NZ 24/12/2026, ja-JP 2026/12/24,
// de-DE 24.12.2026) and with an abbreviated month name where that is the
// locale's medium form (en-US Dec 24, 2026; en-GB 24 Dec 2026). The short
// style would print a two-digit year for most locales (en-US 12/24/26,
// de-DE 24.12.26), which is ambiguous on a delivery date.
type formatter struct {
	tr  locales.Translator
	loc *time.Location
	// tag is the BCP 47 tag of the page: its language, as written in the
	// organization's region (en-NZ, de-DE; de-US for a German page of a US
	// organization), for <html lang>.
	tag string
}

// newFormatter formats for the organization's locale, in its page
// language: an organization whose language is not its country's (a
// German-speaking page in the US) gets that language as written in its
// region (de-US, which CLDR matches to de), so month names never mix
// languages. Instants are dated in zone.
func newFormatter(locale, lang, zone string) formatter {
	tag, err := language.Parse(locale)
	if err != nil {
		locale = lang
	} else if base, _ := tag.Base(); base.String() != lang {
		locale = lang
		if region, conf := tag.Region(); conf == language.Exact {
			locale = lang + "-" + region.String()
		}
	}
	return formatter{tr: translatorFor(locale), loc: domain.Location(zone), tag: locale}
}

// date formats a calendar date (it has no time zone).
func (f formatter) date(d domain.Date) string { return f.tr.FmtDateMedium(d.Time()) }

// day formats the calendar day of an instant in the organization's zone:
// a note written on Tuesday morning in Auckland is dated Tuesday.
func (f formatter) day(t time.Time) string { return f.tr.FmtDateMedium(t.In(f.loc)) }

// number formats a whole number with the locale's digits and grouping.
func (f formatter) number(n int) string { return f.tr.FmtNumber(float64(n), 0) }
