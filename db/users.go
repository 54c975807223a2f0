package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

type userRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	Email          string    `db:"email"`
	Name           string    `db:"name"`
	Role           string    `db:"role"`
	CreatedAt      time.Time `db:"created_at"`
}

func (r userRow) toDomain() *domain.User {
	return &domain.User{ID: r.ID, OrganizationID: r.OrganizationID, Email: r.Email, Name: r.Name,
		Role: domain.Role(r.Role), CreatedAt: r.CreatedAt}
}

const userColumns = `id, organization_id, email, name, role, created_at`

const (
	sqlInsertUser = `INSERT INTO users (organization_id, email, name, role, password_hash)
		VALUES ($1, $2, $3, $4, $5) RETURNING ` + userColumns
	sqlUserByEmail = `SELECT ` + userColumns + `, password_hash FROM users WHERE lower(email) = lower($1) AND removed_at IS NULL`
	sqlUsersByIDs  = `SELECT ` + userColumns + ` FROM users WHERE organization_id = $1 AND id = ANY($2)`
	sqlInsertToken = `INSERT INTO auth_tokens (token_hash, user_id) VALUES ($1, $2)`
	// The member of a live token: the function staff_token_owner
	// (migration 0010), planned once per connection, as every staff
	// request runs it.
	sqlViewer      = `SELECT id, organization_id, role FROM staff_token_owner($1)`
	sqlRevokeToken = `UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`
)

func insertUser(ctx context.Context, tx sqlx.ExtContext, orgID, email, name string, role domain.Role, hash string) (*domain.User, error) {
	var r userRow
	err := sqlx.GetContext(ctx, tx, &r, sqlInsertUser, orgID, email, name, string(role), hash)
	if isUniqueViolation(err, "users_email_key") {
		return nil, domain.Errorf(domain.Conflict, "an account with this email already exists")
	}
	if err != nil {
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return r.toDomain(), nil
}

// UserByEmail returns the account and its password hash; a nil user and
// no error when there is none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*domain.User, string, error) {
	if domain.ValidateOptionalText("email", email, 254) != nil {
		return nil, "", nil // no account has such an address
	}
	var r struct {
		userRow
		PasswordHash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &r, sqlUserByEmail, email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("load user by email: %w", err)
	}
	return r.userRow.toDomain(), r.PasswordHash, nil
}

// UsersByIDs returns the organization's users among ids, in any order.
func (s *Store) UsersByIDs(ctx context.Context, orgID string, ids []string) ([]*domain.User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, sqlUsersByIDs, orgID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	out := make([]*domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// CreateToken stores the hash of a new bearer token for userID.
func (s *Store) CreateToken(ctx context.Context, userID string, tokenHash []byte) error {
	if _, err := s.db.ExecContext(ctx, sqlInsertToken, tokenHash, userID); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}

// TokenOwner is who a bearer token belongs to.
type TokenOwner struct {
	UserID         string `db:"id"`
	OrganizationID string `db:"organization_id"`
	Role           string `db:"role"`
}

// TokenOwner returns the owner of a live token, or nil when the token is
// unknown or revoked.
func (s *Store) TokenOwner(ctx context.Context, tokenHash []byte) (*TokenOwner, error) {
	var o TokenOwner
	err := s.db.GetContext(ctx, &o, sqlViewer, tokenHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	return &o, nil
}

// RevokeToken ends a bearer token.
func (s *Store) RevokeToken(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.ExecContext(ctx, sqlRevokeToken, tokenHash); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// validID reports whether id can be one of our UUIDs; anything else is
// answered NOT_FOUND without asking the database.
// Only the canonical lower-case spelling is ours: IDs are compared as
// strings downstream (cache keys, notifications), so "ABC…" must not
// reach the database as if it were "abc…".
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			out = append(out, id)
		}
	}
	return out
}
