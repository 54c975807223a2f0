// Package team is the workflows of an organization's members: invites,
// accepting one, and changing a password. Who may call them is decided by
// package access, before.
package team

import (
	"context"
	"time"

	"importops/auth"
	"importops/db"
	"importops/domain"
)

// Service runs the team's workflows.
type Service struct {
	Store     *db.Store
	Passwords *auth.Passwords
	// StaffAppURL is the staff frontend's origin, where invite links point.
	StaffAppURL string
	Now         func() time.Time
}

// InviteURL is where an invite's link points: STAFF_APP_URL/invite/<token>.
// Without the token (any invite but the one just made) it is the prefix.
func (s *Service) InviteURL(inv *domain.Invite) string {
	return s.StaffAppURL + "/invite/" + inv.Token
}

// Invite makes a one-time invite to the organization, valid
// db.InviteValidity; the returned invite carries its token, which is
// stored only as a hash. invitedBy is nil for the operator's CLI.
// mayReplace decides, by its role, whether the address's invite that can
// still be accepted may be replaced (cancelled); nil: always.
func (s *Service) Invite(ctx context.Context, orgID string, invitedBy *string, email string, role domain.Role, mayReplace func(domain.Role) error) (*domain.Invite, error) {
	token, hash := auth.NewToken() // 256 bits from crypto/rand
	inv, err := s.Store.CreateInvite(ctx, db.NewInvite{
		OrganizationID: orgID, Email: email, Role: role, InvitedBy: invitedBy,
		TokenHash: hash, ExpiresAt: s.Now().Add(db.InviteValidity), MayReplace: mayReplace,
	})
	if err != nil {
		return nil, err
	}
	inv.Token = token
	return inv, nil
}

// Accept turns an invite token into a signed-in member: the new account
// and a bearer token for it. Every unusable token is db.ErrInviteUnusable.
func (s *Service) Accept(ctx context.Context, token, name, password string) (*domain.User, string, error) {
	// Hashed before the token is looked up, so every answer about the
	// token costs the same bcrypt time.
	hash, err := s.Passwords.Hash(password)
	if err != nil {
		return nil, "", err
	}
	session, sessionHash := auth.NewToken()
	user, err := s.Store.AcceptInvite(ctx, db.Acceptance{
		TokenHash: auth.HashToken(token), Name: name, PasswordHash: hash, SessionTokenHash: sessionHash,
	})
	if err != nil {
		return nil, "", err
	}
	return user, session, nil
}

// ErrWrongPassword refuses a password change whose current password is wrong.
var ErrWrongPassword = domain.Errorf(domain.BadInput, "the current password is incorrect")

// ChangePassword checks v's current password, stores the new one and ends
// every other session of v's user; v's own session stays.
func (s *Service) ChangePassword(ctx context.Context, v *auth.Viewer, current, next string) error {
	hash, err := s.Passwords.Hash(next)
	if err != nil {
		return err
	}
	stored, err := s.Store.PasswordHash(ctx, v.UserID)
	if err != nil {
		return err
	}
	if !s.Passwords.Check(stored, current) {
		return ErrWrongPassword
	}
	return s.Store.ChangePassword(ctx, v.UserID, v.TokenHash, hash)
}
