package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

type noteRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	VehicleID      string    `db:"vehicle_id"`
	AuthorID       *string   `db:"author_id"`
	Body           string    `db:"body"`
	Scope          string    `db:"scope"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`
}

func (r noteRow) toDomain() domain.Note {
	return domain.Note{ID: r.ID, OrganizationID: r.OrganizationID, VehicleID: r.VehicleID, AuthorID: r.AuthorID,
		Body: r.Body, Scope: domain.NoteScope(r.Scope), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

const noteColumns = `n.id, n.organization_id, n.vehicle_id, n.author_id, n.body, n.scope, n.created_at, n.updated_at`

const (
	sqlInsertNote = `INSERT INTO notes AS n (organization_id, vehicle_id, author_id, body, scope)
		VALUES ($1, $2, $3, $4, $5) RETURNING ` + noteColumns
	sqlNoteForUpdate = `SELECT ` + noteColumns + ` FROM notes n JOIN vehicles v ON v.id = n.vehicle_id
		WHERE n.organization_id = $1 AND n.id = $2 AND v.deleted_at IS NULL FOR UPDATE OF n`
	sqlUpdateNote = `UPDATE notes n SET body = $2, scope = $3, updated_at = now() WHERE n.id = $1 AND n.organization_id = $4 RETURNING ` + noteColumns
	sqlDeleteNote = `DELETE FROM notes WHERE id = $1 AND organization_id = $2`
	// Newest first, the order staff and customers read them in.
	sqlNotesByVehicles = `SELECT ` + noteColumns + ` FROM notes n
		WHERE n.organization_id = $1 AND n.vehicle_id = ANY($2)
		ORDER BY n.created_at DESC, n.id DESC`
)

// AddNote writes a note on the organization's vehicle.
func (s *Store) AddNote(ctx context.Context, orgID, authorID, vehicleID, body string, scope domain.NoteScope) (*domain.Note, error) {
	if err := validateNote(body, scope); err != nil {
		return nil, err
	}
	var out domain.Note
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		var r noteRow
		if err := tx.GetContext(ctx, &r, sqlInsertNote, orgID, vehicleID, authorID, body, string(scope)); err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		out = r.toDomain()
		return s.notifyCustomerNote(ctx, tx, r.VehicleID, r.Scope)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// notifyCustomerNote announces a note write to the tracking page when the
// note is, or was, a CUSTOMER note; INTERNAL notes are never shown.
func (s *Store) notifyCustomerNote(ctx context.Context, tx *sqlx.Tx, vehicleID string, scopes ...string) error {
	for _, sc := range scopes {
		if domain.NoteScope(sc) == domain.ScopeCustomer {
			return s.notifyPublic(ctx, tx, VehicleKey(vehicleID))
		}
	}
	return nil
}

func validateNote(body string, scope domain.NoteScope) error {
	if err := domain.ValidateText("body", body, domain.MaxNoteLen); err != nil {
		return err
	}
	if !scope.IsValid() {
		return domain.Errorf(domain.BadInput, "scope must be CUSTOMER or INTERNAL")
	}
	return nil
}

// UpdateNote changes a note's body or scope; nil leaves it as it is.
func (s *Store) UpdateNote(ctx context.Context, orgID, id string, body *string, scope *domain.NoteScope) (*domain.Note, error) {
	if !validID(id) {
		return nil, domain.InvalidID("note")
	}
	var out domain.Note
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var r noteRow
		if err := tx.GetContext(ctx, &r, sqlNoteForUpdate, orgID, id); err != nil {
			return notFound(err, "note")
		}
		oldScope := r.Scope
		if body != nil {
			r.Body = *body
		}
		if scope != nil {
			r.Scope = string(*scope)
		}
		if err := validateNote(r.Body, domain.NoteScope(r.Scope)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, sqlUpdateNote, id, r.Body, r.Scope, orgID); err != nil {
			return fmt.Errorf("update note: %w", err)
		}
		out = r.toDomain()
		return s.notifyCustomerNote(ctx, tx, r.VehicleID, oldScope, r.Scope)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteNote removes a note and returns it.
func (s *Store) DeleteNote(ctx context.Context, orgID, id string) (*domain.Note, error) {
	if !validID(id) {
		return nil, domain.InvalidID("note")
	}
	var out domain.Note
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var r noteRow
		if err := tx.GetContext(ctx, &r, sqlNoteForUpdate, orgID, id); err != nil {
			return notFound(err, "note")
		}
		if _, err := tx.ExecContext(ctx, sqlDeleteNote, id, orgID); err != nil {
			return fmt.Errorf("delete note: %w", err)
		}
		out = r.toDomain()
		return s.notifyCustomerNote(ctx, tx, r.VehicleID, r.Scope)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// NotesByVehicles returns each vehicle's notes, newest first.
func (s *Store) NotesByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string][]domain.Note, error) {
	var rows []noteRow
	if err := s.db.SelectContext(ctx, &rows, sqlNotesByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load notes: %w", err)
	}
	out := make(map[string][]domain.Note)
	for _, r := range rows {
		out[r.VehicleID] = append(out[r.VehicleID], r.toDomain())
	}
	return out, nil
}
