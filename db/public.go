package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/domain"
)

// PublicLink is everything the public side may need about one slug, read
// in ONE statement: the link, the facts that decide whether it is
// available, and only the public parts of its vehicle and organization.
// It never selects a VIN, stock number, customer, money or internal note.
type PublicLink struct {
	LinkID string `db:"link_id"`
	// OrganizationID and VehicleID name the link's owners for cache
	// invalidation (see PublicChannel); they are never shown.
	OrganizationID       string     `db:"organization_id"`
	VehicleID            string     `db:"vehicle_id"`
	ShowPhoto            bool       `db:"show_photo"`
	ShowEstimatedArrival bool       `db:"show_estimated_arrival"`
	ShowProgress         bool       `db:"show_progress"`
	ShowCustomerNotes    bool       `db:"show_customer_notes"`
	ExpiresAt            *time.Time `db:"expires_at"`
	EndedAt              *time.Time `db:"ended_at"`

	VehicleYear      int          `db:"year"`
	VehicleMake      string       `db:"make"`
	VehicleModel     string       `db:"model"`
	Stage            string       `db:"stage"`
	EstimatedArrival *domain.Date `db:"estimated_arrival"`
	VehicleDeletedAt *time.Time   `db:"vehicle_deleted_at"`

	OrgName            string  `db:"org_name"`
	OrgCountry         string  `db:"country"`
	SubscriptionStatus string  `db:"subscription_status"`
	LogoKey            *string `db:"logo_key"`
	OrgLanguage        *string `db:"language"`
	OrgTimeZone        *string `db:"time_zone"`

	HeroJSON   []byte `db:"hero"`
	PhotosJSON []byte `db:"photos"`
	NotesJSON  []byte `db:"notes"`

	Hero   *PublicPhotoRow
	Photos []PublicPhotoRow
	Notes  []PublicNoteRow
}

type PublicPhotoRow struct {
	ID          string  `json:"id"`
	StorageKey  string  `json:"storage_key"`
	ContentType string  `json:"content_type"`
	Caption     *string `json:"caption"`
	Width       *int    `json:"width"`
	Height      *int    `json:"height"`
}

type PublicNoteRow struct {
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// The hero photo, picked photos and customer notes come back as JSON
// columns so that the whole page costs one round trip. Parts whose option
// is off are not read at all. The preview (sqlPreviewLink) reads the same
// columns with its options given instead of a link's.
const (
	publicPhotoJSON = `json_build_object('id', p.id, 'storage_key', p.storage_key, 'content_type', p.content_type,
                                 'caption', p.caption, 'width', p.width, 'height', p.height)`
	publicVehicleOrgColumns = `v.year, v.make, v.model, v.stage, v.estimated_arrival, v.deleted_at AS vehicle_deleted_at,
       o.name AS org_name, o.country, o.subscription_status, o.logo_key, o.language, o.time_zone`
	// Completed by the condition that shows notes, then ") AS notes".
	publicNotesJSONWhere = `(SELECT COALESCE(json_agg(json_build_object('body', n.body, 'created_at', n.created_at)
                                 ORDER BY n.created_at DESC, n.id DESC), '[]')
          FROM notes n
         WHERE n.vehicle_id = v.id AND n.scope = 'CUSTOMER' AND `
)

const sqlPublicLink = `
SELECT l.id AS link_id, l.organization_id, l.vehicle_id, l.show_photo, l.show_estimated_arrival, l.show_progress,
       l.show_customer_notes, l.expires_at, l.ended_at,
       ` + publicVehicleOrgColumns + `,
       (SELECT ` + publicPhotoJSON + `
          FROM photos p WHERE l.show_photo AND p.id = v.hero_photo_id) AS hero,
       (SELECT COALESCE(json_agg(` + publicPhotoJSON + ` ORDER BY lp.position), '[]')
          FROM tracking_link_photos lp JOIN photos p ON p.id = lp.photo_id
         WHERE lp.link_id = l.id) AS photos,
       ` + publicNotesJSONWhere + `l.show_customer_notes) AS notes
  FROM tracking_links l
  JOIN vehicles v ON v.id = l.vehicle_id
  JOIN organizations o ON o.id = l.organization_id
 WHERE l.slug = $1`

// sqlPreviewLink is sqlPublicLink for a vehicle and options instead of a
// link: $1 org, $2 vehicle, $3..$6 showPhoto, showEstimatedArrival,
// showProgress, showCustomerNotes, $7 expiresAt, $8 the picked photos.
const sqlPreviewLink = `
SELECT '' AS link_id, v.organization_id, v.id AS vehicle_id, $3::boolean AS show_photo,
       $4::boolean AS show_estimated_arrival, $5::boolean AS show_progress, $6::boolean AS show_customer_notes,
       $7::timestamptz AS expires_at, NULL::timestamptz AS ended_at,
       ` + publicVehicleOrgColumns + `,
       (SELECT ` + publicPhotoJSON + `
          FROM photos p WHERE $3 AND p.id = v.hero_photo_id) AS hero,
       (SELECT COALESCE(json_agg(` + publicPhotoJSON + ` ORDER BY t.ord), '[]')
          FROM unnest($8::uuid[]) WITH ORDINALITY AS t(id, ord) JOIN photos p ON p.id = t.id
         WHERE p.vehicle_id = v.id) AS photos,
       ` + publicNotesJSONWhere + `$6) AS notes
  FROM vehicles v
  JOIN organizations o ON o.id = v.organization_id
 WHERE v.organization_id = $1 AND v.id = $2 AND v.deleted_at IS NULL`

// PublicLink returns what the public side needs for slug, or nil when no
// link ever had that slug. It is the public hot path: the statement is
// prepared once (database/sql then prepares it once per connection), so
// each call is one Bind/Execute round trip with no parsing or planning.
func (s *Store) PublicLink(ctx context.Context, slug string) (*PublicLink, error) {
	stmt, err := s.public.get(ctx, s.db, sqlPublicLink)
	if err != nil {
		return nil, fmt.Errorf("prepare public link: %w", err)
	}
	var p PublicLink
	err = stmt.GetContext(ctx, &p, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load public link: %w", err)
	}
	return p.decode()
}

// decode fills in the parts read as JSON.
func (p *PublicLink) decode() (*PublicLink, error) {
	if len(p.HeroJSON) > 0 {
		p.Hero = new(PublicPhotoRow)
		if err := json.Unmarshal(p.HeroJSON, p.Hero); err != nil {
			return nil, fmt.Errorf("decode hero photo: %w", err)
		}
	}
	if err := json.Unmarshal(p.PhotosJSON, &p.Photos); err != nil {
		return nil, fmt.Errorf("decode link photos: %w", err)
	}
	if err := json.Unmarshal(p.NotesJSON, &p.Notes); err != nil {
		return nil, fmt.Errorf("decode notes: %w", err)
	}
	return p, nil
}

// preparedStmt is a statement prepared on the pool on first use and kept
// for the life of the Store. A failed prepare (the database is down) is
// tried again on the next call.
type preparedStmt struct {
	stmt atomic.Pointer[sqlx.Stmt]
	mu   sync.Mutex
}

func (p *preparedStmt) get(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	st, err := db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(st)
	return st, nil
}
