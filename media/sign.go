package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// Signer makes and checks expiring HMAC signatures for media paths.
type Signer struct {
	key []byte
	ttl time.Duration
}

// URLLifetime is how long a signed staff media URL works.
const URLLifetime = 15 * time.Minute

func NewSigner(key []byte) *Signer { return &Signer{key: key, ttl: URLLifetime} }

// Sign returns path with exp and sig query parameters. Expiry is rounded
// up to the minute so URLs stay stable (and cacheable) for a while. The
// signature covers the path and the expiry; other query parameters (w,
// the width) are not signed: they only choose among sizes of the same
// photo.
func (s *Signer) Sign(path string, now time.Time) string {
	exp := now.Add(s.ttl).Truncate(time.Minute).Add(time.Minute).Unix()
	return path + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.mac(path, exp)
}

// SignUntil returns path with exp and sig query parameters for a URL that
// works until exp exactly (to the second, rounded down).
func (s *Signer) SignUntil(path string, exp time.Time) string {
	e := exp.Unix()
	return path + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + s.mac(path, e)
}

// StaffPhotoPath is the path of a photo's signed staff URL (Photo.url).
func StaffPhotoPath(photoID string) string { return "/media/photos/" + photoID }

// Verify reports whether sig signs path until exp and exp has not passed.
// It returns the expiry, for the response's cache lifetime.
func (s *Signer) Verify(path, exp, sig string, now time.Time) (time.Time, bool) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > e {
		return time.Time{}, false
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(path, e))) {
		return time.Time{}, false
	}
	return time.Unix(e, 0), true
}

func (s *Signer) mac(path string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s\n%d", path, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
