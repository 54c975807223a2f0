package domain

import (
	"strings"
	"sync"
	"time"

	// The binary carries its own zone database: validation and day
	// boundaries must not depend on what the host has installed.
	_ "time/tzdata"

	"golang.org/x/text/language"
)

// Languages are the languages the customer page, the stage labels and the
// share message are written in (BCP 47 base tags). English first: it is
// the fallback.
var Languages = []string{"en", "de", "fr", "es", "pt", "nl", "ja", "ar"}

// IsSupportedLanguage reports whether lang is one of Languages, exactly.
func IsSupportedLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// RightToLeft reports whether a supported language is written right to left.
func RightToLeft(lang string) bool { return lang == "ar" }

// DefaultLanguage is the language of a country's customer pages: the
// country's most likely language (CLDR likely subtags: DE → de, AE → ar,
// BR → pt, BE → nl) when it is supported, else English.
func DefaultLanguage(country string) string {
	region, err := language.ParseRegion(country)
	if err != nil {
		return Languages[0]
	}
	und, err := language.Compose(language.Und, region)
	if err != nil {
		return Languages[0]
	}
	base, _ := und.Base()
	if IsSupportedLanguage(base.String()) {
		return base.String()
	}
	return Languages[0]
}

// DefaultTimeZone is a country's default IANA zone: its most populous
// zone, or UTC for a country the zone database does not name.
func DefaultTimeZone(country string) string {
	if z, ok := countryZones[strings.ToUpper(country)]; ok {
		return z
	}
	return "UTC"
}

// NormalizeLanguage accepts a supported language tag in any case ("DE",
// "de") and returns its canonical form.
func NormalizeLanguage(lang string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(lang))
	if !IsSupportedLanguage(l) {
		return "", badInput("language %q is not supported; use one of %s", truncate(lang, 20), strings.Join(Languages, ", "))
	}
	return l, nil
}

// NormalizeTimeZone accepts an IANA zone name Go's zone database knows
// ("Pacific/Auckland", "UTC"). "Local" and the empty name, which
// time.LoadLocation also accepts, are refused: they do not name a zone.
func NormalizeTimeZone(zone string) (string, error) {
	z := strings.TrimSpace(zone)
	if z == "" || z == "Local" || len(z) > 64 {
		return "", badInput("timeZone %q is not an IANA time zone name such as Pacific/Auckland", truncate(zone, 64))
	}
	loc, err := time.LoadLocation(z)
	if err != nil {
		return "", badInput("timeZone %q is not an IANA time zone name such as Pacific/Auckland", truncate(zone, 64))
	}
	return loc.String(), nil
}

// Location is the zone of a validated name; UTC if it no longer loads.
// Zones are loaded once per process: time.LoadLocation reads and parses
// the zone's file on every call, and every customer page asks for one.
func Location(zone string) *time.Location {
	if zone == "" {
		return time.UTC
	}
	if loc, ok := locations.Load(zone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.UTC // not kept: a zone that failed may load later
	}
	locations.Store(zone, loc)
	return loc
}

// locations holds the zones Location has loaded, by name: at most the
// validated names, a few hundred.
var locations sync.Map

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// EffectiveLanguage is the chosen language, or the country's default when
// none was chosen or the choice is no longer supported.
func EffectiveLanguage(set *string, country string) string {
	if set != nil && IsSupportedLanguage(*set) {
		return *set
	}
	return DefaultLanguage(country)
}

// EffectiveTimeZone is the chosen zone, or the country's default.
func EffectiveTimeZone(set *string, country string) string {
	if set != nil && *set != "" {
		return *set
	}
	return DefaultTimeZone(country)
}
