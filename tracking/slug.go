package tracking

import (
	"crypto/rand"
	"encoding/base64"
)

// slugBytes is 192 bits of randomness: far beyond guessing.
const slugBytes = 24

// SlugLen is the length of every slug we issue.
var SlugLen = base64.RawURLEncoding.EncodedLen(slugBytes)

// NewSlug returns a random, URL-safe slug from crypto/rand.
func NewSlug() string {
	b := make([]byte, slugBytes)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// PlausibleSlug tells whether s could be a slug we issued, so junk is
// answered without a database round trip.
func PlausibleSlug(s string) bool {
	if len(s) != SlugLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
