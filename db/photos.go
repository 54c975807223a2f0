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

type photoRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	VehicleID      string    `db:"vehicle_id"`
	StorageKey     string    `db:"storage_key"`
	ContentType    string    `db:"content_type"`
	Caption        *string   `db:"caption"`
	Width          *int      `db:"width"`
	Height         *int      `db:"height"`
	CreatedAt      time.Time `db:"created_at"`
}

func (r photoRow) toDomain() *domain.Photo {
	return &domain.Photo{ID: r.ID, OrganizationID: r.OrganizationID, VehicleID: r.VehicleID,
		StorageKey: r.StorageKey, ContentType: r.ContentType, Caption: r.Caption,
		Width: r.Width, Height: r.Height, CreatedAt: r.CreatedAt}
}

const photoColumns = `p.id, p.organization_id, p.vehicle_id, p.storage_key, p.content_type, p.caption, p.width, p.height, p.created_at`

const (
	sqlInsertPhoto = `INSERT INTO photos AS p (id, organization_id, vehicle_id, storage_key, content_type, caption, width, height)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ` + photoColumns
	sqlPhotoByID = `SELECT ` + photoColumns + ` FROM photos p WHERE p.id = $1`
	// A photo is visible to staff while its vehicle is.
	sqlOrgPhoto = `SELECT ` + photoColumns + ` FROM photos p JOIN vehicles v ON v.id = p.vehicle_id
		WHERE p.organization_id = $1 AND p.id = $2 AND v.deleted_at IS NULL`
	sqlDeletePhoto       = `DELETE FROM photos WHERE id = $1 AND organization_id = $2`
	sqlPhotosByVehicles  = `SELECT ` + photoColumns + ` FROM photos p WHERE p.organization_id = $1 AND p.vehicle_id = ANY($2) ORDER BY p.created_at, p.id`
	sqlPhotosByIDs       = `SELECT ` + photoColumns + ` FROM photos p WHERE p.organization_id = $1 AND p.id = ANY($2)`
	sqlCountVehiclePhoto = `SELECT count(*) FROM photos WHERE vehicle_id = $1 AND id = ANY($2)`
)

// NewPhoto is a stored upload to record. StorageKey is the base of its
// variants' keys; Objects are the stored variants.
type NewPhoto struct {
	ID          string
	StorageKey  string
	ContentType string
	Caption     *string
	Width       int
	Height      int
	Objects     []MediaObject
}

// AddPhoto records a stored photo and its variants on the organization's
// vehicle.
func (s *Store) AddPhoto(ctx context.Context, orgID, vehicleID string, p NewPhoto) (*domain.Photo, error) {
	var out *domain.Photo
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		var r photoRow
		if err := tx.GetContext(ctx, &r, sqlInsertPhoto, p.ID, orgID, vehicleID, p.StorageKey, p.ContentType,
			emptyToNil(p.Caption), p.Width, p.Height); err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		if err := insertMediaObjects(ctx, tx, &r.ID, p.Objects); err != nil {
			return err
		}
		out = r.toDomain()
		return nil
	})
	return out, err
}

// CheckVehicle returns NOT_FOUND unless the vehicle is the organization's
// and not deleted; used before storing an upload.
func (s *Store) CheckVehicle(ctx context.Context, orgID, vehicleID string) error {
	_, err := s.Vehicle(ctx, orgID, vehicleID)
	return err
}

// Photo returns the organization's photo.
func (s *Store) Photo(ctx context.Context, orgID, id string) (*domain.Photo, error) {
	if !validID(id) {
		return nil, domain.InvalidID("photo")
	}
	var r photoRow
	if err := s.db.GetContext(ctx, &r, sqlOrgPhoto, orgID, id); err != nil {
		return nil, notFound(err, "photo")
	}
	return r.toDomain(), nil
}

// PhotoByID returns any photo, or nil; only for routes whose URL was
// signed by the server.
func (s *Store) PhotoByID(ctx context.Context, id string) (*domain.Photo, error) {
	if !validID(id) {
		return nil, nil
	}
	var r photoRow
	err := s.db.GetContext(ctx, &r, sqlPhotoByID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load photo: %w", err)
	}
	return r.toDomain(), nil
}

// DeletePhoto removes a photo; it stops being the hero, leaves every
// link's picked list and its variants' records go (foreign keys do all
// three). The caller deletes the files.
func (s *Store) DeletePhoto(ctx context.Context, orgID, id string) (*domain.Photo, error) {
	var out *domain.Photo
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if !validID(id) {
			return domain.InvalidID("photo")
		}
		// On the transaction: a second connection from the pool while this
		// one is held could starve the pool under concurrent deletes.
		var r photoRow
		if err := tx.GetContext(ctx, &r, sqlOrgPhoto, orgID, id); err != nil {
			return notFound(err, "photo")
		}
		p := r.toDomain()
		if _, err := lockVehicle(ctx, tx, orgID, p.VehicleID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlDeletePhoto, id, orgID); err != nil {
			return fmt.Errorf("delete photo: %w", err)
		}
		out = p
		// It may have been the hero or a picked photo of the link.
		return s.notifyPublic(ctx, tx, VehicleKey(p.VehicleID))
	})
	return out, err
}

// PhotosByVehicles returns the photos of each vehicle, in upload order.
func (s *Store) PhotosByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string][]domain.Photo, error) {
	var rows []photoRow
	if err := s.db.SelectContext(ctx, &rows, sqlPhotosByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load photos: %w", err)
	}
	out := make(map[string][]domain.Photo)
	for _, r := range rows {
		out[r.VehicleID] = append(out[r.VehicleID], *r.toDomain())
	}
	return out, nil
}

// PhotosByIDs returns the organization's photos among ids.
func (s *Store) PhotosByIDs(ctx context.Context, orgID string, ids []string) ([]*domain.Photo, error) {
	var rows []photoRow
	if err := s.db.SelectContext(ctx, &rows, sqlPhotosByIDs, orgID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("load photos: %w", err)
	}
	out := make([]*domain.Photo, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// checkPhotosOfVehicle: every id must be a distinct photo of the vehicle.
func checkPhotosOfVehicle(ctx context.Context, q sqlx.QueryerContext, vehicleID string, ids []string) error {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validID(id) {
			return domain.Errorf(domain.BadInput, "photo %q is not a photo of this vehicle", id)
		}
		if seen[id] {
			return domain.Errorf(domain.BadInput, "photo %q is listed twice", id)
		}
		seen[id] = true
	}
	if len(ids) == 0 {
		return nil
	}
	var n int
	if err := sqlx.GetContext(ctx, q, &n, sqlCountVehiclePhoto, vehicleID, pq.Array(ids)); err != nil {
		return fmt.Errorf("check photos: %w", err)
	}
	if n != len(ids) {
		return domain.Errorf(domain.BadInput, "every photo must be a photo of this vehicle")
	}
	return nil
}
