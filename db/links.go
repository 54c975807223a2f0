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

type linkRow struct {
	ID                   string     `db:"id"`
	OrganizationID       string     `db:"organization_id"`
	VehicleID            string     `db:"vehicle_id"`
	Slug                 string     `db:"slug"`
	ShowPhoto            bool       `db:"show_photo"`
	ShowEstimatedArrival bool       `db:"show_estimated_arrival"`
	ShowProgress         bool       `db:"show_progress"`
	ShowCustomerNotes    bool       `db:"show_customer_notes"`
	ExpiresAt            *time.Time `db:"expires_at"`
	CreatedBy            *string    `db:"created_by"`
	CreatedAt            time.Time  `db:"created_at"`
	UpdatedAt            time.Time  `db:"updated_at"`
	EndedAt              *time.Time `db:"ended_at"`
	OpenCount            int        `db:"open_count"`
	FirstOpenedAt        *time.Time `db:"first_opened_at"`
	LastOpenedAt         *time.Time `db:"last_opened_at"`
	VehicleDeletedAt     *time.Time `db:"vehicle_deleted_at"`
	PhotoIDs             []string   `db:"-"`
}

func (r linkRow) toDomain() *domain.TrackingLink {
	ids := r.PhotoIDs
	if ids == nil {
		ids = []string{}
	}
	return &domain.TrackingLink{
		ID: r.ID, OrganizationID: r.OrganizationID, VehicleID: r.VehicleID, Slug: r.Slug,
		ShowPhoto: r.ShowPhoto, ShowEstimatedArrival: r.ShowEstimatedArrival,
		ShowProgress: r.ShowProgress, ShowCustomerNotes: r.ShowCustomerNotes,
		PhotoIDs: ids, ExpiresAt: r.ExpiresAt, CreatedByID: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, EndedAt: r.EndedAt,
		OpenCount: r.OpenCount, FirstOpenedAt: r.FirstOpenedAt, LastOpenedAt: r.LastOpenedAt,
		VehicleDeletedAt: r.VehicleDeletedAt,
	}
}

// linkRowColumns are a link's own columns; linkColumns and newLinkColumns
// add whether its vehicle was deleted.
const linkRowColumns = `l.id, l.organization_id, l.vehicle_id, l.slug, l.show_photo, l.show_estimated_arrival,
	l.show_progress, l.show_customer_notes, l.expires_at, l.created_by, l.created_at, l.updated_at, l.ended_at,
	l.open_count, l.first_opened_at, l.last_opened_at`

const linkColumns = linkRowColumns + `,
	(SELECT v.deleted_at FROM vehicles v WHERE v.id = l.vehicle_id) AS vehicle_deleted_at`

// newLinkColumns are linkColumns of a link just created on a live vehicle.
const newLinkColumns = linkRowColumns + `, NULL::timestamptz AS vehicle_deleted_at`

const (
	sqlInsertLink = `INSERT INTO tracking_links AS l (organization_id, vehicle_id, slug, show_photo,
		show_estimated_arrival, show_progress, show_customer_notes, expires_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ` + linkColumns
	// One statement, the function create_tracking_link (migration 0010,
	// planned once per connection), locks the live vehicle of the
	// organization as lockVehicle does and writes the link, its CREATED
	// event and, for a vehicle already DELIVERED, its expiry after
	// delivery (link_delivery_expiry) with that event, unless expiresAt
	// was given ($10); no row when there is no such vehicle. Its vehicle
	// is live: it was locked so.
	sqlCreateLink          = `SELECT ` + newLinkColumns + ` FROM create_tracking_link($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) l`
	sqlActiveLinkForUpdate = `SELECT ` + linkColumns + ` FROM tracking_links l
		WHERE l.organization_id = $1 AND l.vehicle_id = $2 AND l.ended_at IS NULL FOR UPDATE`
	sqlUpdateLink = `UPDATE tracking_links l SET show_photo = $2, show_estimated_arrival = $3, show_progress = $4,
		show_customer_notes = $5, expires_at = $6, updated_at = now() WHERE l.id = $1 RETURNING ` + linkColumns
	sqlEndLink = `UPDATE tracking_links SET ended_at = now(), end_reason = $2, updated_at = now()
		WHERE id = $1`
	sqlSetReplacedBy    = `UPDATE tracking_links SET replaced_by = $2 WHERE id = $1`
	sqlLinkPhotoIDs     = `SELECT photo_id FROM tracking_link_photos WHERE link_id = $1 ORDER BY position`
	sqlDeleteLinkPhotos = `DELETE FROM tracking_link_photos WHERE link_id = $1`
	sqlInsertLinkPhotos = `INSERT INTO tracking_link_photos (link_id, photo_id, position)
		SELECT $1, id, ord FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, ord)`
	sqlActiveLinksByVehicles = `SELECT ` + linkColumns + `,
		COALESCE((SELECT array_agg(lp.photo_id ORDER BY lp.position) FROM tracking_link_photos lp WHERE lp.link_id = l.id), '{}') AS photo_ids
		FROM tracking_links l WHERE l.organization_id = $1 AND l.vehicle_id = ANY($2) AND l.ended_at IS NULL`
)

// LinkOptions are a link's settings; nil fields keep their current value
// (or the default on create). ExpiresAt.Set with a nil Value clears it.
type LinkOptions struct {
	ShowPhoto            *bool
	ShowEstimatedArrival *bool
	ShowProgress         *bool
	ShowCustomerNotes    *bool
	PhotoIDs             domain.Field[[]string]
	ExpiresAt            domain.Field[*time.Time]
}

func (o LinkOptions) applyTo(r *linkRow, now time.Time) error {
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setBool(&r.ShowPhoto, o.ShowPhoto)
	setBool(&r.ShowEstimatedArrival, o.ShowEstimatedArrival)
	setBool(&r.ShowProgress, o.ShowProgress)
	setBool(&r.ShowCustomerNotes, o.ShowCustomerNotes)
	if o.ExpiresAt.Set {
		if o.ExpiresAt.Value != nil {
			if err := domain.ValidateFuture("expiresAt", *o.ExpiresAt.Value, now); err != nil {
				return err
			}
		}
		r.ExpiresAt = o.ExpiresAt.Value
	}
	if o.PhotoIDs.Set {
		if len(o.PhotoIDs.Value) > domain.MaxPickedPhoto {
			return domain.Errorf(domain.BadInput, "at most %d photos can be picked", domain.MaxPickedPhoto)
		}
		r.PhotoIDs = o.PhotoIDs.Value
	}
	return nil
}

// ErrLinkExists is the CONFLICT of creating a second active link.
var ErrLinkExists = domain.Errorf(domain.Conflict, "this vehicle already has an active tracking link")

var errNoActiveLink = domain.Errorf(domain.NotFound, "this vehicle has no active tracking link")

// CreateTrackingLink issues the vehicle's link with a new slug. A vehicle
// with an active link is a CONFLICT; the partial unique index
// tracking_links_one_active holds that rule even against concurrent calls.
//
// A vehicle that is already DELIVERED gets the organization's expiry after
// delivery (linkExpiryDaysAfterDelivery) unless o gives expiresAt.
//
// It announces no public change (PublicChannel): a new link changes no
// public view that a replica caches or follows. Its slug is new, so no
// cache holds it (unknown slugs are never kept) and no stream follows it;
// the vehicle's earlier links, which a cache may hold, are all ended, and
// stay ended. A NOTIFY would cost more than its round trip: PostgreSQL
// makes every committing transaction that notified take one cluster-wide
// lock in turn, so links created concurrently would commit one by one
// (seeding ran about 30% faster without it).
func (s *Store) CreateTrackingLink(ctx context.Context, orgID, userID, vehicleID, slug string, o LinkOptions) (*domain.TrackingLink, error) {
	r := defaultLinkOptions()
	if err := o.applyTo(&r, time.Now()); err != nil {
		return nil, err
	}
	if !validID(vehicleID) {
		return nil, domain.InvalidID("vehicle")
	}
	create := func(q sqlx.QueryerContext) (*domain.TrackingLink, error) {
		var l linkRow
		err := sqlx.GetContext(ctx, q, &l, sqlCreateLink, orgID, vehicleID, slug, r.ShowPhoto, r.ShowEstimatedArrival,
			r.ShowProgress, r.ShowCustomerNotes, r.ExpiresAt, userID, o.ExpiresAt.Set)
		switch {
		case isUniqueViolation(err, "tracking_links_one_active"):
			return nil, ErrLinkExists
		case errors.Is(err, sql.ErrNoRows):
			return nil, domain.Errorf(domain.NotFound, "vehicle not found")
		case err != nil:
			return nil, fmt.Errorf("create tracking link: %w", err)
		}
		l.PhotoIDs = r.PhotoIDs
		return l.toDomain(), nil
	}
	if len(r.PhotoIDs) == 0 {
		// One row and its events, written by one statement: its own
		// transaction.
		return create(s.db)
	}
	var out *domain.TrackingLink
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		// Picked photos are checked under the vehicle's lock, before they
		// are inserted.
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		if err := checkPhotosOfVehicle(ctx, tx, vehicleID, r.PhotoIDs); err != nil {
			return err
		}
		l, err := create(tx)
		if err != nil {
			return err
		}
		out = l
		return addLinkPhotos(ctx, tx, l.ID, r.PhotoIDs)
	})
	return out, err
}

// defaultLinkOptions are a new link's options: everything shown.
func defaultLinkOptions() linkRow {
	return linkRow{ShowPhoto: true, ShowEstimatedArrival: true, ShowProgress: true, ShowCustomerNotes: true}
}

// insertLink inserts a link and its CREATED event, by createdBy.
func insertLink(ctx context.Context, tx *sqlx.Tx, orgID, vehicleID, slug string, createdBy *string, opts linkRow) (*domain.TrackingLink, error) {
	var r linkRow
	err := tx.GetContext(ctx, &r, sqlInsertLink, orgID, vehicleID, slug, opts.ShowPhoto, opts.ShowEstimatedArrival,
		opts.ShowProgress, opts.ShowCustomerNotes, opts.ExpiresAt, createdBy)
	if isUniqueViolation(err, "tracking_links_one_active") {
		return nil, ErrLinkExists
	}
	if err != nil {
		return nil, fmt.Errorf("insert tracking link: %w", err)
	}
	// A new link has no photos to clear.
	if err := addLinkPhotos(ctx, tx, r.ID, opts.PhotoIDs); err != nil {
		return nil, err
	}
	if err := addEvent(ctx, tx, r.ID, domain.EventCreated, createdBy, nil); err != nil {
		return nil, err
	}
	r.PhotoIDs = opts.PhotoIDs
	return r.toDomain(), nil
}

func setLinkPhotos(ctx context.Context, tx *sqlx.Tx, linkID string, ids []string) error {
	if _, err := tx.ExecContext(ctx, sqlDeleteLinkPhotos, linkID); err != nil {
		return fmt.Errorf("clear link photos: %w", err)
	}
	return addLinkPhotos(ctx, tx, linkID, ids)
}

func addLinkPhotos(ctx context.Context, tx *sqlx.Tx, linkID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, sqlInsertLinkPhotos, linkID, pq.Array(ids)); err != nil {
		return fmt.Errorf("set link photos: %w", err)
	}
	return nil
}

// activeLink locks the vehicle and its active link; NOT_FOUND when either
// is missing.
func activeLink(ctx context.Context, tx *sqlx.Tx, orgID, vehicleID string) (*linkRow, error) {
	if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
		return nil, err
	}
	var r linkRow
	err := tx.GetContext(ctx, &r, sqlActiveLinkForUpdate, orgID, vehicleID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoActiveLink
	}
	if err != nil {
		return nil, fmt.Errorf("load tracking link: %w", err)
	}
	if err := tx.SelectContext(ctx, &r.PhotoIDs, sqlLinkPhotoIDs, r.ID); err != nil {
		return nil, fmt.Errorf("load link photos: %w", err)
	}
	return &r, nil
}

// UpdateTrackingLink changes the options of the active link; its slug and
// URL stay the same.
// An UPDATED event by userID names the options that changed (none: no
// event).
func (s *Store) UpdateTrackingLink(ctx context.Context, orgID, userID, vehicleID string, o LinkOptions) (*domain.TrackingLink, error) {
	var out *domain.TrackingLink
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := activeLink(ctx, tx, orgID, vehicleID)
		if err != nil {
			return err
		}
		before := *r
		if err := o.applyTo(r, time.Now()); err != nil {
			return err
		}
		ids := r.PhotoIDs
		if o.PhotoIDs.Set {
			if err := checkPhotosOfVehicle(ctx, tx, vehicleID, ids); err != nil {
				return err
			}
			if err := setLinkPhotos(ctx, tx, r.ID, ids); err != nil {
				return err
			}
		}
		var u linkRow
		if err := tx.GetContext(ctx, &u, sqlUpdateLink, r.ID, r.ShowPhoto, r.ShowEstimatedArrival,
			r.ShowProgress, r.ShowCustomerNotes, r.ExpiresAt); err != nil {
			return fmt.Errorf("update tracking link: %w", err)
		}
		u.PhotoIDs = ids
		if changed := changedOptions(before, *r); len(changed) > 0 {
			if err := addEvent(ctx, tx, r.ID, domain.EventUpdated, &userID, changed); err != nil {
				return err
			}
		}
		out = u.toDomain()
		return s.notifyPublic(ctx, tx, VehicleKey(vehicleID))
	})
	return out, err
}

// RevokeTrackingLink ends the vehicle's active link at once (a REVOKED
// event by userID).
func (s *Store) RevokeTrackingLink(ctx context.Context, orgID, userID, vehicleID string) (*domain.Vehicle, error) {
	var out *domain.Vehicle
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := activeLink(ctx, tx, orgID, vehicleID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlEndLink, r.ID, "REVOKED"); err != nil {
			return fmt.Errorf("revoke tracking link: %w", err)
		}
		if err := addEvent(ctx, tx, r.ID, domain.EventRevoked, &userID, nil); err != nil {
			return err
		}
		if out, err = getVehicle(ctx, tx, orgID, vehicleID, sqlVehicle); err != nil {
			return err
		}
		return s.notifyPublic(ctx, tx, VehicleKey(vehicleID))
	})
	return out, err
}

// RegenerateTrackingLink replaces the active link by one with a new slug
// and the same options; the old slug stops working in the same commit.
func (s *Store) RegenerateTrackingLink(ctx context.Context, orgID, userID, vehicleID, slug string) (*domain.TrackingLink, error) {
	var out *domain.TrackingLink
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		old, err := activeLink(ctx, tx, orgID, vehicleID)
		if err != nil {
			return err
		}
		// End the old link first: the one-active index allows one at a time.
		if _, err := tx.ExecContext(ctx, sqlEndLink, old.ID, "REGENERATED"); err != nil {
			return fmt.Errorf("end old tracking link: %w", err)
		}
		if err := addEvent(ctx, tx, old.ID, domain.EventRegenerated, &userID, nil); err != nil {
			return err
		}
		l, err := insertLink(ctx, tx, orgID, vehicleID, slug, &userID, *old)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlSetReplacedBy, old.ID, l.ID); err != nil {
			return fmt.Errorf("link old to new: %w", err)
		}
		out = l
		return s.notifyPublic(ctx, tx, VehicleKey(vehicleID))
	})
	return out, err
}

// ActiveLinksByVehicles returns the active link of each vehicle that has one.
func (s *Store) ActiveLinksByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string]*domain.TrackingLink, error) {
	var rows []struct {
		linkRow
		PhotoIDs pq.StringArray `db:"photo_ids"`
	}
	if err := s.db.SelectContext(ctx, &rows, sqlActiveLinksByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load tracking links: %w", err)
	}
	out := make(map[string]*domain.TrackingLink, len(rows))
	for _, r := range rows {
		r.linkRow.PhotoIDs = r.PhotoIDs
		out[r.VehicleID] = r.linkRow.toDomain()
	}
	return out, nil
}
