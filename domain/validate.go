package domain

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
)

// Input limits. They are product rules, so they live here and not in SQL.
const (
	MinYear        = 1886 // the first automobile
	MaxNameLen     = 100
	MaxVINLen      = 17
	MaxStockLen    = 50
	MaxNoteLen     = 10000
	MaxTextLen     = 500
	MaxCaptionLen  = 500
	MaxPickedPhoto = 50
)

// maxAmount keeps amounts inside the numeric(19,4) columns.
var maxAmount = decimal.New(1, 15)

func badInput(format string, args ...any) *Error { return Errorf(BadInput, format, args...) }

// ValidateYear: a vehicle's model year, 1886 to next year + 1.
func ValidateYear(year int, now time.Time) error {
	if maxYear := now.Year() + 2; year < MinYear || year > maxYear {
		return badInput("year must be between %d and %d", MinYear, maxYear)
	}
	return nil
}

// ValidateText requires 1..max characters after trimming.
func ValidateText(field, value string, max int) error {
	if strings.TrimSpace(value) == "" {
		return badInput("%s must not be empty", field)
	}
	return ValidateOptionalText(field, value, max)
}

// ValidateOptionalText allows empty but not over-long or invalid UTF-8 text.
func ValidateOptionalText(field, value string, max int) error {
	if !utf8.ValidString(value) {
		return badInput("%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return badInput("%s must be at most %d characters", field, max)
	}
	if strings.ContainsRune(value, 0) {
		return badInput("%s must not contain NUL characters", field)
	}
	return nil
}

// ValidateVIN: at most 17 characters; real VINs use A-Z and 0-9, but older
// and imported vehicles carry chassis numbers of other shapes, so only the
// length and the characters are checked.
func ValidateVIN(vin string) error {
	if err := ValidateText("vin", vin, MaxVINLen); err != nil {
		return err
	}
	for _, r := range vin {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return badInput("vin may contain only letters, digits and '-'")
		}
	}
	return nil
}

// NormalizeCountry validates an ISO 3166-1 alpha-2 code and upper-cases it.
func NormalizeCountry(country string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(country))
	if len(c) != 2 {
		return "", badInput("country must be an ISO 3166-1 alpha-2 code such as NZ")
	}
	// A current country is canonical (not an alias such as UK for GB) and
	// has legal tender today (which rules out SU, YU, UN and the like).
	r, err := language.ParseRegion(c)
	if err != nil || !r.IsCountry() || r.Canonicalize().String() != c {
		return "", badInput("country %q is not an ISO 3166-1 alpha-2 country code", c)
	}
	if _, ok := currency.FromRegion(r); !ok {
		return "", badInput("country %q is not an ISO 3166-1 alpha-2 country code", c)
	}
	return c, nil
}

// NormalizeMoney validates a currency (ISO 4217) and a non-negative amount
// with no more decimals than the currency has, and returns the amount at
// the currency's scale ("12500" NZD becomes "12500.00").
func NormalizeMoney(field string, m Money) (Money, error) {
	code := strings.ToUpper(strings.TrimSpace(m.Currency))
	unit, err := currency.ParseISO(code)
	if err != nil || len(code) != 3 {
		return Money{}, badInput("%s.currency %q is not an ISO 4217 currency code", field, m.Currency)
	}
	if m.Amount.IsNegative() {
		return Money{}, badInput("%s.amount must not be negative", field)
	}
	if m.Amount.GreaterThanOrEqual(maxAmount) {
		return Money{}, badInput("%s.amount is too large", field)
	}
	scale, _ := currency.Standard.Rounding(unit)
	if !m.Amount.Equal(m.Amount.Round(int32(scale))) {
		return Money{}, badInput("%s.amount has more than %d decimal places for %s", field, scale, unit)
	}
	return Money{Amount: m.Amount.Round(int32(scale)), Currency: unit.String()}, nil
}

// ValidateEmail checks a plain address (no display name).
func ValidateEmail(field, email string) error {
	if err := ValidateText(field, email, 254); err != nil {
		return err
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return badInput("%s %q is not a valid email address", field, email)
	}
	return nil
}

// ValidateFuture requires t to be after now.
func ValidateFuture(field string, t, now time.Time) error {
	if !t.After(now) {
		return badInput("%s must be in the future", field)
	}
	return nil
}

// Required is the message for a required field given as null.
func Required(field string) error { return badInput("%s must not be null", field) }

// InvalidID is the error for an ID argument that is not one of ours.
func InvalidID(what string) error { return Errorf(NotFound, "%s not found", what) }
