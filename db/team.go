package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

// The team: members, invites, role changes, removal and passwords. Who may
// do what is the caller's rule (package access), handed in as allow: the
// store applies it to the row it has locked, so the role it judges is the
// role it changes.

type inviteRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	Email          string    `db:"email"`
	Role           string    `db:"role"`
	InvitedBy      *string   `db:"invited_by"`
	ExpiresAt      time.Time `db:"expires_at"`
	CreatedAt      time.Time `db:"created_at"`
}

func (r inviteRow) toDomain() *domain.Invite {
	return &domain.Invite{ID: r.ID, OrganizationID: r.OrganizationID, Email: r.Email, Role: domain.Role(r.Role),
		InvitedByID: r.InvitedBy, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
}

const inviteColumns = `id, organization_id, email, role, invited_by, expires_at, created_at`

// inviteOpen: neither accepted nor cancelled (an expired invite is still
// open, and useless).
const inviteOpen = `accepted_at IS NULL AND cancelled_at IS NULL`

const (
	sqlMembers = `SELECT ` + userColumns + ` FROM users
		WHERE organization_id = $1 AND removed_at IS NULL ORDER BY created_at, id`
	sqlMemberForUpdate = `SELECT ` + userColumns + ` FROM users
		WHERE organization_id = $1 AND id = $2 AND removed_at IS NULL FOR UPDATE`
	sqlSetUserRole   = `UPDATE users SET role = $2 WHERE id = $1 RETURNING ` + userColumns
	sqlRemoveUser    = `UPDATE users SET removed_at = now() WHERE id = $1`
	sqlRevokeUser    = `UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`
	sqlRevokeOthers  = `UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1 AND token_hash <> $2 AND revoked_at IS NULL`
	sqlPasswordHash  = `SELECT password_hash FROM users WHERE id = $1 AND removed_at IS NULL`
	sqlSetPassword   = `UPDATE users SET password_hash = $2 WHERE id = $1 AND removed_at IS NULL`
	sqlAccountExists = `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) AND removed_at IS NULL)`

	sqlLiveInviteRolesOfForUpdate = `SELECT role FROM invites
		WHERE organization_id = $1 AND lower(email) = lower($2) AND ` + inviteOpen + ` AND expires_at > now() FOR UPDATE`
	sqlCancelOpenInvitesOf = `UPDATE invites SET cancelled_at = now()
		WHERE organization_id = $1 AND lower(email) = lower($2) AND ` + inviteOpen
	// A member who leaves must not come back through an invite of theirs.
	sqlCancelInvitesBy = `UPDATE invites SET cancelled_at = now() WHERE invited_by = $1 AND ` + inviteOpen
	sqlInsertInvite    = `INSERT INTO invites (organization_id, email, role, token_hash, invited_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING ` + inviteColumns
	sqlPendingInvites = `SELECT ` + inviteColumns + ` FROM invites
		WHERE organization_id = $1 AND ` + inviteOpen + ` AND expires_at > now() ORDER BY created_at, id`
	sqlOpenInviteForUpdate = `SELECT ` + inviteColumns + ` FROM invites
		WHERE organization_id = $1 AND id = $2 AND ` + inviteOpen + ` FOR UPDATE`
	sqlCancelInvite        = `UPDATE invites SET cancelled_at = now() WHERE id = $1`
	sqlUsableInviteByToken = `SELECT ` + inviteColumns + ` FROM invites
		WHERE token_hash = $1 AND ` + inviteOpen + ` AND expires_at > now() FOR UPDATE`
	sqlAcceptInvite = `UPDATE invites SET accepted_at = now(), accepted_by = $2 WHERE id = $1`
)

// InviteValidity is how long an invite can be accepted.
const InviteValidity = 7 * 24 * time.Hour

// ErrInviteUnusable is the one answer to a token that is unknown, used,
// cancelled or expired: a caller cannot tell which.
var ErrInviteUnusable = domain.Errorf(domain.BadInput, "this invite link is not valid: ask for a new invite")

var errLastOwner = domain.Errorf(domain.Conflict, "an organization must keep at least one owner")

// lastOwner maps the database's refusal to remove or demote the last
// OWNER (trigger users_keep_an_owner) to CONFLICT.
func lastOwner(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23514" && pqErr.Constraint == "users_last_owner" {
		return errLastOwner
	}
	return err
}

// Members are the organization's current members, oldest first.
func (s *Store) Members(ctx context.Context, orgID string) ([]domain.User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, sqlMembers, orgID); err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = *r.toDomain()
	}
	return out, nil
}

// lockMember locks a current member of the organization (NOT_FOUND for
// anyone else, another organization's members included).
func lockMember(ctx context.Context, tx sqlx.ExtContext, orgID, userID string) (*domain.User, error) {
	if !validID(userID) {
		return nil, domain.InvalidID("user")
	}
	var r userRow
	if err := sqlx.GetContext(ctx, tx, &r, sqlMemberForUpdate, orgID, userID); err != nil {
		return nil, notFound(err, "user")
	}
	return r.toDomain(), nil
}

// SetUserRole gives a member a new role when allow(their current role)
// passes. The last OWNER keeps the role (CONFLICT).
func (s *Store) SetUserRole(ctx context.Context, orgID, userID string, role domain.Role, allow func(from domain.Role) error) (*domain.User, error) {
	if !role.IsValid() {
		return nil, domain.Errorf(domain.BadInput, "role must be OWNER, ADMIN or STAFF")
	}
	var out userRow
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		u, err := lockMember(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if err := allow(u.Role); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &out, sqlSetUserRole, userID, string(role)); err != nil {
			return lastOwner(fmt.Errorf("set role of user %s: %w", userID, err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// RemoveUser takes a member out of the organization when allow(their
// role) passes, and ends every session of theirs and cancels their open
// invites in the same transaction.
// The row stays, so what they did still names them. The last OWNER stays
// (CONFLICT).
func (s *Store) RemoveUser(ctx context.Context, orgID, userID string, allow func(role domain.Role) error) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		u, err := lockMember(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if err := allow(u.Role); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlRemoveUser, userID); err != nil {
			return lastOwner(fmt.Errorf("remove user %s: %w", userID, err))
		}
		if _, err := tx.ExecContext(ctx, sqlRevokeUser, userID); err != nil {
			return fmt.Errorf("end sessions of user %s: %w", userID, err)
		}
		if _, err := tx.ExecContext(ctx, sqlCancelInvitesBy, userID); err != nil {
			return fmt.Errorf("cancel invites of user %s: %w", userID, err)
		}
		return nil
	})
}

// PasswordHash is a current member's password hash ("" when there is none).
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	var h string
	err := s.db.GetContext(ctx, &h, sqlPasswordHash, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load password hash: %w", err)
	}
	return h, nil
}

// ChangePassword stores a new password hash and ends every session of the
// user but the one whose token hash is keep, in one transaction.
func (s *Store) ChangePassword(ctx context.Context, userID string, keep []byte, newHash string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, sqlSetPassword, userID, newHash); err != nil {
			return fmt.Errorf("set password of user %s: %w", userID, err)
		}
		if _, err := tx.ExecContext(ctx, sqlRevokeOthers, userID, keep); err != nil {
			return fmt.Errorf("end other sessions of user %s: %w", userID, err)
		}
		return nil
	})
}

// NewInvite is an invite to store; only its token's hash is kept.
type NewInvite struct {
	OrganizationID string
	Email          string
	Role           domain.Role
	InvitedBy      *string // nil: the operator's CLI
	TokenHash      []byte
	ExpiresAt      time.Time
	// MayReplace is the caller's rule (package access) for cancelling the
	// address's invite that can still be accepted, given its role: the
	// replacement cancels it. nil: any (the operator's CLI).
	MayReplace func(role domain.Role) error
}

// CreateInvite stores an invite, replacing the address's open invite to
// the same organization when in.MayReplace allows it. CONFLICT when the
// address has an account.
func (s *Store) CreateInvite(ctx context.Context, in NewInvite) (*domain.Invite, error) {
	if err := domain.ValidateEmail("email", in.Email); err != nil {
		return nil, err
	}
	if !in.Role.IsValid() {
		return nil, domain.Errorf(domain.BadInput, "role must be OWNER, ADMIN or STAFF")
	}
	if !validID(in.OrganizationID) {
		return nil, domain.InvalidID("organization")
	}
	var r inviteRow
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, sqlAccountExists, in.Email); err != nil {
			return fmt.Errorf("look up account: %w", err)
		}
		if exists {
			return domain.Errorf(domain.Conflict, "an account with this email already exists")
		}
		if in.MayReplace != nil {
			var roles []string
			if err := tx.SelectContext(ctx, &roles, sqlLiveInviteRolesOfForUpdate, in.OrganizationID, in.Email); err != nil {
				return fmt.Errorf("lock open invite: %w", err)
			}
			for _, role := range roles {
				if err := in.MayReplace(domain.Role(role)); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, sqlCancelOpenInvitesOf, in.OrganizationID, in.Email); err != nil {
			return fmt.Errorf("replace open invite: %w", err)
		}
		err := tx.GetContext(ctx, &r, sqlInsertInvite, in.OrganizationID, in.Email, string(in.Role),
			in.TokenHash, in.InvitedBy, in.ExpiresAt)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23503" { // foreign key: no such organization
			return domain.Errorf(domain.NotFound, "organization not found")
		}
		if isUniqueViolation(err, "invites_one_open") { // a concurrent invite of the same address
			return domain.Errorf(domain.Conflict, "this email is being invited right now: try again")
		}
		if err != nil {
			return fmt.Errorf("insert invite: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.toDomain(), nil
}

// PendingInvites are the organization's invites that can still be
// accepted, oldest first.
func (s *Store) PendingInvites(ctx context.Context, orgID string) ([]domain.Invite, error) {
	var rows []inviteRow
	if err := s.db.SelectContext(ctx, &rows, sqlPendingInvites, orgID); err != nil {
		return nil, fmt.Errorf("load invites: %w", err)
	}
	out := make([]domain.Invite, len(rows))
	for i, r := range rows {
		out[i] = *r.toDomain()
	}
	return out, nil
}

// CancelInvite ends an open invite of the organization when allow(its
// role) passes; NOT_FOUND for any other.
func (s *Store) CancelInvite(ctx context.Context, orgID, id string, allow func(role domain.Role) error) error {
	if !validID(id) {
		return domain.InvalidID("invite")
	}
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		var r inviteRow
		if err := tx.GetContext(ctx, &r, sqlOpenInviteForUpdate, orgID, id); err != nil {
			return notFound(err, "invite")
		}
		if err := allow(domain.Role(r.Role)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlCancelInvite, id); err != nil {
			return fmt.Errorf("cancel invite %s: %w", id, err)
		}
		return nil
	})
}

// Acceptance is what accepting an invite needs: the token's hash, the new
// member's name and password hash, and the hash of their first session's
// bearer token.
type Acceptance struct {
	TokenHash        []byte
	Name             string
	PasswordHash     string
	SessionTokenHash []byte
}

// AcceptInvite turns a usable invite into a member of its organization,
// signed in, in one transaction: the invite row stays locked until then,
// so a token is accepted once. ErrInviteUnusable for any other token.
func (s *Store) AcceptInvite(ctx context.Context, a Acceptance) (*domain.User, error) {
	if err := domain.ValidateText("name", a.Name, domain.MaxNameLen); err != nil {
		return nil, err
	}
	var user *domain.User
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var inv inviteRow
		err := tx.GetContext(ctx, &inv, sqlUsableInviteByToken, a.TokenHash)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInviteUnusable
		}
		if err != nil {
			return fmt.Errorf("look up invite: %w", err)
		}
		if user, err = insertUser(ctx, tx, inv.OrganizationID, inv.Email, a.Name, domain.Role(inv.Role), a.PasswordHash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlAcceptInvite, inv.ID, user.ID); err != nil {
			return fmt.Errorf("accept invite %s: %w", inv.ID, err)
		}
		if _, err := tx.ExecContext(ctx, sqlInsertToken, a.SessionTokenHash, user.ID); err != nil {
			return fmt.Errorf("store token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return user, nil
}
