package db

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"importops/domain"
)

// Page limits of the connection fields.
const (
	defaultPageSize = 50
	maxPageSize     = 100
)

// cursor is the opaque position after which a page starts.
type cursor struct {
	Key string `json:"k"`
	ID  string `json:"i"`
}

func encodeCursor(key, id string) string {
	b, _ := json.Marshal(cursor{Key: key, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || !validID(c.ID) || domain.ValidateOptionalText("after", c.Key, 1000) != nil {
		return cursor{}, domain.Errorf(domain.BadInput, "after is not a cursor from this list")
	}
	return c, nil
}

// PageSize is the page-size rule of every connection field, the one
// place it lives: the default for no first, and sizes outside
// 1..maxPageSize refused. The HTTP layer asks it before a query runs
// (limits and complexity), the store when it runs.
func PageSize(first *int) (int, error) {
	if first == nil {
		return defaultPageSize, nil
	}
	if *first < 1 || *first > maxPageSize {
		return 0, domain.Errorf(domain.BadInput, "first must be between 1 and %d", maxPageSize)
	}
	return *first, nil
}

// likePattern makes a case-insensitive "contains" pattern of user text.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
