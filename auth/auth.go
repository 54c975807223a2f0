// Package auth holds staff credentials: password hashes, bearer tokens and
// the signed-in caller carried by a request's context.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"importops/domain"
)

// MinPasswordLen: bcrypt reads at most 72 bytes, hence the maximum.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// Passwords hashes and checks passwords at one bcrypt cost (BCRYPT_COST),
// handed in rather than kept in a global, so tests choose theirs.
type Passwords struct {
	cost int
	// dummy is compared against when the account does not exist, so an
	// unknown email costs the same time as a wrong password.
	dummy func() []byte
}

// NewPasswords hashes at cost (bcrypt.MinCost to bcrypt.MaxCost).
func NewPasswords(cost int) *Passwords {
	p := &Passwords{cost: cost}
	p.dummy = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("not-a-real-password"), cost)
		if err != nil { // only for a cost out of bcrypt's range
			h, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.DefaultCost)
		}
		return h
	})
	return p
}

// ValidatePassword is the rule for a new password: 8 to 72 bytes.
func ValidatePassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return domain.Errorf(domain.BadInput, "password must be %d to %d bytes long", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// Hash returns a bcrypt hash of a valid new password.
func (p *Passwords) Hash(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	return string(h), err
}

// Check reports whether password matches hash. An empty hash (unknown
// account) still spends one bcrypt comparison at the same cost.
func (p *Passwords) Check(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(p.dummy(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// NewToken returns a random bearer token (256 bits, URL-safe) and the hash
// that is stored in its place.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is what the database keeps of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Viewer is the authenticated staff member of a request.
type Viewer struct {
	UserID         string
	OrganizationID string
	Role           domain.Role
	TokenHash      []byte
}

type viewerKey struct{}

func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the request's viewer, or nil for an anonymous caller.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// ErrUnauthenticated is returned to anonymous callers of staff operations.
var ErrUnauthenticated = domain.Errorf(domain.Unauthenticated, "sign in required: send Authorization: Bearer <token>")

// Require returns the viewer or UNAUTHENTICATED.
func Require(ctx context.Context) (*Viewer, error) {
	if v := ViewerFrom(ctx); v != nil {
		return v, nil
	}
	return nil, ErrUnauthenticated
}
