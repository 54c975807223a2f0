package domain

import "golang.org/x/text/language"

// LocaleForCountry derives a BCP 47 tag from an ISO 3166-1 alpha-2 country
// using CLDR's likely-subtags data: NZ → en-NZ, JP → ja-JP, DE → de-DE.
func LocaleForCountry(country string) string {
	region, err := language.ParseRegion(country)
	if err != nil {
		return "en"
	}
	und, err := language.Compose(language.Und, region)
	if err != nil {
		return "en"
	}
	base, _ := und.Base() // likely language of the region
	tag, err := language.Compose(base, region)
	if err != nil {
		return "en"
	}
	return tag.String()
}
