package domain

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"
)

// Date is a calendar date with no time zone, "YYYY-MM-DD" on the wire.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 1 { // PostgreSQL has no year 0

		return Date{}, badInput("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// Time is midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

func (d Date) String() string { return d.Time().Format(dateLayout) }

func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = DateOf(v)
		return nil
	case string:
		p, err := ParseDate(v)
		*d = p
		return err
	case []byte:
		p, err := ParseDate(string(v))
		*d = p
		return err
	}
	return fmt.Errorf("cannot scan %T into Date", src)
}

func (d Date) Value() (driver.Value, error) { return d.String(), nil }

func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return badInput("Date must be a string in the form YYYY-MM-DD")
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) }

func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseDate(s)
	*d = p
	return err
}

// MarshalDecimal writes an exact decimal as a string, keeping its scale
// ("12500.00" stays "12500.00").
func MarshalDecimal(d decimal.Decimal) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(DecimalString(d)))
	})
}

// DecimalString formats d without losing its scale.
func DecimalString(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	return d.String()
}

// UnmarshalDecimal accepts a decimal string or an integer. A float literal
// in the query text is refused (it may already have lost precision); a
// JSON number in the variables is read exactly from its text.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case string:
		d, err := decimal.NewFromString(x)
		if err != nil {
			return decimal.Decimal{}, badInput("%q is not a decimal number", x)
		}
		return d, nil
	case int:
		return decimal.NewFromInt(int64(x)), nil
	case int64:
		return decimal.NewFromInt(x), nil
	case json.Number:
		d, err := decimal.NewFromString(x.String())
		if err != nil {
			return decimal.Decimal{}, badInput("%q is not a decimal number", x)
		}
		return d, nil
	}
	return decimal.Decimal{}, badInput("Decimal must be a string such as \"12500.00\"")
}

// MarshalID writes an ID as a string.
func MarshalID(id string) graphql.Marshaler { return graphql.MarshalID(id) }

// UnmarshalID reads an ID. Every ID we issue is a lower-case UUID, and IDs
// are compared as strings downstream (cache keys, notifications, picked
// photo lists), so a client's upper-case spelling is folded here, once.
func UnmarshalID(v any) (string, error) {
	id, err := graphql.UnmarshalID(v)
	if err != nil {
		return "", badInput("an ID must be a string")
	}
	return strings.ToLower(id), nil
}

// MarshalTime writes RFC 3339 in UTC, whatever zone the database used.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.MarshalTime(t.UTC())
}

// UnmarshalTime reads an RFC 3339 timestamp.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badInput("Time must be an RFC 3339 string such as 2026-12-24T09:00:00Z")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badInput("%q is not an RFC 3339 time such as 2026-12-24T09:00:00Z", s)
	}
	return t, nil
}
