package domain

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The validation rules take whatever a client sends. These fuzz tests
// (go test -fuzz FuzzX ./domain) hold them to: never panic, refuse with a
// BAD_USER_INPUT *Error only, and accept only what they promise; the
// seeds run with every go test.

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*Error); !ok || !IsCode(err, BadInput) {
		t.Fatalf("refusal %v (%T) is not a BAD_USER_INPUT *Error", err, err)
	}
}

func FuzzNormalizeMoney(f *testing.F) {
	for _, s := range [][2]string{
		{"12500", "NZD"}, {"12500.00", "nzd"}, {"0.5", "JPY"}, {"-1", "USD"}, {"1e20", "EUR"},
		{"0.001", "BHD"}, {"0.0001", "BHD"}, {"1", "XXX"}, {"1", "US"}, {"999999999999999.99", "NZD"}, {"1", " nzd "},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, amount, currency string) {
		d, err := decimal.NewFromString(amount)
		if err != nil || len(amount) > 100 {
			return
		}
		m, err := NormalizeMoney("price", Money{Amount: d, Currency: currency})
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if m.Amount.IsNegative() || m.Amount.GreaterThanOrEqual(maxAmount) || !m.Amount.Equal(d) {
			t.Fatalf("NormalizeMoney(%s %q) = %s %s", amount, currency, m.Amount, m.Currency)
		}
		if len(m.Currency) != 3 || strings.ToUpper(m.Currency) != m.Currency {
			t.Fatalf("currency %q is not an upper-case ISO 4217 code", m.Currency)
		}
		again, err := NormalizeMoney("price", m)
		if err != nil || again.Currency != m.Currency || DecimalString(again.Amount) != DecimalString(m.Amount) {
			t.Fatalf("not idempotent: %v -> %v (%v)", m, again, err)
		}
	})
}

func FuzzNormalizeCountry(f *testing.F) {
	for _, s := range []string{"NZ", "nz", " au ", "UK", "GB", "SU", "ZZ", "NZL", "", "\x00\x00", "ǅǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := NormalizeCountry(s)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			t.Fatalf("NormalizeCountry(%q) = %q, not two upper-case letters", s, c)
		}
		if again, err := NormalizeCountry(c); err != nil || again != c {
			t.Fatalf("not idempotent: %q -> %q (%v)", c, again, err)
		}
		if LocaleForCountry(c) == "" {
			t.Fatalf("no locale for the accepted country %q", c)
		}
	})
}

func FuzzValidateVIN(f *testing.F) {
	for _, s := range []string{"JTMHV05J704012345", "jtmhv05j704012345", "HZJ105-0012345", "", " ", "JTMHV05J7040123456", "VIN with spaces", "ＡＢＣ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateVIN(s); err != nil {
			checkRefusal(t, err)
			return
		}
		if s == "" || len(s) > MaxVINLen {
			t.Fatalf("ValidateVIN accepted %q", s)
		}
		for _, r := range s {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Fatalf("ValidateVIN accepted %q with %q", s, r)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-20", "2024-02-29", "2023-02-29", "2026-13-01", "26-12-20", "2026-12-20T00:00:00Z", "", "0000-01-01", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) prints back as %q", s, d.String())
		}
		var back Date
		b, _ := json.Marshal(d)
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %q: %v, %v", s, back, err)
		}
	})
}

func FuzzUnmarshalDecimal(f *testing.F) {
	for _, s := range []string{"12500.00", "0", "-1.5", "1e3", "1E-400", "NaN", "Infinity", "0x10", "", " 1", "1_000", "٣"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, asNumber bool) {
		if len(s) > 200 {
			return // the parser's token limit and body limit come first
		}
		var v any = s
		if asNumber {
			v = json.Number(s)
		}
		d, err := UnmarshalDecimal(v)
		if err != nil {
			checkRefusal(t, err)
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("message is not UTF-8: %q", err)
			}
			return
		}
		// What was accepted prints as a decimal that reads back the same.
		back, err := decimal.NewFromString(DecimalString(d))
		if err != nil || !back.Equal(d) {
			t.Fatalf("UnmarshalDecimal(%q) = %s, which does not read back (%v)", s, DecimalString(d), err)
		}
	})
}
