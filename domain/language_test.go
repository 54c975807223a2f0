package domain

import (
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestCountryDefaults(t *testing.T) {
	for country, want := range map[string][2]string{
		"DE": {"de", "Europe/Berlin"},
		"AE": {"ar", "Asia/Dubai"},
		"JP": {"ja", "Asia/Tokyo"},
		"NZ": {"en", "Pacific/Auckland"},
		"US": {"en", "America/New_York"},
		"BR": {"pt", "America/Sao_Paulo"},
		"MX": {"es", "America/Mexico_City"},
		"FR": {"fr", "Europe/Paris"},
		"NL": {"nl", "Europe/Amsterdam"},
		"AU": {"en", "Australia/Sydney"},
		"RU": {"en", "Europe/Moscow"}, // Russian is not a page language
		"CN": {"en", "Asia/Shanghai"},
	} {
		if got := DefaultLanguage(country); got != want[0] {
			t.Errorf("DefaultLanguage(%s) = %s, want %s", country, got, want[0])
		}
		if got := DefaultTimeZone(country); got != want[1] {
			t.Errorf("DefaultTimeZone(%s) = %s, want %s", country, got, want[1])
		}
	}
}

// Every country NormalizeCountry accepts has a default zone that Go's
// embedded zone database loads, and a supported default language.
func TestEveryCountryHasDefaults(t *testing.T) {
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			c := string([]rune{a, b})
			if _, err := NormalizeCountry(c); err != nil {
				continue
			}
			n++
			if _, ok := countryZones[c]; !ok {
				t.Errorf("%s: no default zone", c)
			}
			if _, err := time.LoadLocation(DefaultTimeZone(c)); err != nil {
				t.Errorf("%s: zone %s does not load: %v", c, DefaultTimeZone(c), err)
			}
			if !IsSupportedLanguage(DefaultLanguage(c)) {
				t.Errorf("%s: unsupported default language", c)
			}
		}
	}
	if n < 190 {
		t.Fatalf("only %d countries accepted", n)
	}
	for c, z := range countryZones {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s: zone %s does not load: %v", c, z, err)
		}
	}
}

func TestNormalizeLanguageAndZone(t *testing.T) {
	for _, l := range Languages {
		if _, err := language.Parse(l); err != nil {
			t.Errorf("%s is not a BCP 47 tag", l)
		}
	}
	if got, err := NormalizeLanguage(" DE "); err != nil || got != "de" {
		t.Errorf("NormalizeLanguage(DE) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "xx", "de-DE", "english", "zh"} {
		if _, err := NormalizeLanguage(bad); err == nil {
			t.Errorf("NormalizeLanguage(%q) accepted", bad)
		}
	}
	if got, err := NormalizeTimeZone("Pacific/Auckland"); err != nil || got != "Pacific/Auckland" {
		t.Errorf("NormalizeTimeZone = %q, %v", got, err)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd", "Europe/Berlin\x00"} {
		if _, err := NormalizeTimeZone(bad); err == nil {
			t.Errorf("NormalizeTimeZone(%q) accepted", bad)
		}
	}
}
