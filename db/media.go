package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

// MediaObject is a stored file: what it is and its strong ETag.
type MediaObject struct {
	Key         string `db:"key"`
	ContentType string `db:"content_type"`
	Width       int    `db:"width"`
	Height      int    `db:"height"`
	Size        int64  `db:"size"`
	ETag        string `db:"etag"`
}

const mediaColumns = `key, content_type, width, height, size, etag`

const (
	sqlInsertMediaObject = `INSERT INTO media_objects (key, photo_id, content_type, width, height, size, etag)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlMediaObject       = `SELECT ` + mediaColumns + ` FROM media_objects WHERE key = $1`
	sqlDeleteMediaObject = `DELETE FROM media_objects WHERE key = $1`
	sqlOrgLogoForUpdate  = `SELECT logo_key FROM organizations WHERE id = $1 FOR UPDATE`
	// A stored file is referred to by its media_objects row; a photo
	// stored before variants existed only by photos.storage_key.
	sqlKnownMediaKeys = `SELECT key FROM media_objects WHERE key = ANY($1)
		UNION SELECT storage_key FROM photos WHERE storage_key = ANY($1)
		UNION SELECT logo_key FROM organizations WHERE logo_key = ANY($1)`
)

// KnownMediaKeys reports which of keys a row refers to: the files a
// sweep of storage must keep.
func (s *Store) KnownMediaKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	var found []string
	if err := s.db.SelectContext(ctx, &found, sqlKnownMediaKeys, pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("look up media keys: %w", err)
	}
	known := make(map[string]bool, len(found))
	for _, k := range found {
		known[k] = true
	}
	return known, nil
}

// MediaObject returns the stored file at key, or nil when there is none.
func (s *Store) MediaObject(ctx context.Context, key string) (*MediaObject, error) {
	var m MediaObject
	err := s.db.GetContext(ctx, &m, sqlMediaObject, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load media object: %w", err)
	}
	return &m, nil
}

// insertMediaObjects records stored files; photoID ties them to a photo
// (its variants), nil for a logo.
func insertMediaObjects(ctx context.Context, q sqlx.ExtContext, photoID *string, objs []MediaObject) error {
	for _, m := range objs {
		if _, err := q.ExecContext(ctx, sqlInsertMediaObject,
			m.Key, photoID, m.ContentType, m.Width, m.Height, m.Size, m.ETag); err != nil {
			return fmt.Errorf("insert media object: %w", err)
		}
	}
	return nil
}

// SetOrganizationLogoObject records a stored logo and points the
// organization at it, in one transaction. It returns the key of the logo
// it replaced, whose file the caller deletes.
func (s *Store) SetOrganizationLogoObject(ctx context.Context, orgID string, logo MediaObject) (*domain.Organization, *string, error) {
	var (
		r   orgRow
		old *string
	)
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &old, sqlOrgLogoForUpdate, orgID); err != nil {
			return notFound(err, "organization")
		}
		if err := insertMediaObjects(ctx, tx, nil, []MediaObject{logo}); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, sqlSetOrgLogo, orgID, logo.Key); err != nil {
			return fmt.Errorf("set logo: %w", err)
		}
		if old != nil {
			if _, err := tx.ExecContext(ctx, sqlDeleteMediaObject, *old); err != nil {
				return fmt.Errorf("forget old logo: %w", err)
			}
		}
		return s.notifyPublic(ctx, tx, OrgKey(orgID))
	})
	if err != nil {
		return nil, nil, err
	}
	return r.toDomain(), old, nil
}
