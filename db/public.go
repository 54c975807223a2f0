package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"importops/domain"
)

// PublicLink is everything the public side may need about one slug, read
// in ONE statement: the link, the facts that decide whether it is
// available, and only the public parts of its vehicle and organization.
// It never selects a VIN, stock number, customer, money or internal note.
type PublicLink struct {
	Slug   string `db:"slug"`
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

	// The JSON columns, decoded into Hero, Photos and Notes and then
	// dropped (a cached link keeps only what its answers need).
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

// is off are not read at all. The query itself is the function
// public_links (migration 0008), planned once per connection.
const sqlPublicLinks = `
SELECT slug, link_id, organization_id, vehicle_id, show_photo, show_estimated_arrival, show_progress,
       show_customer_notes, expires_at, ended_at, year, make, model, stage, estimated_arrival, vehicle_deleted_at,
       org_name, country, subscription_status, logo_key, language, time_zone, hero, photos, notes
  FROM public_links($1)`

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
// link ever had that slug: one statement.
func (s *Store) PublicLink(ctx context.Context, slug string) (*PublicLink, error) {
	links, err := s.PublicLinks(ctx, []string{slug})
	if err != nil {
		return nil, err
	}
	return links[slug], nil
}

// PublicLinks is PublicLink for several slugs in one statement; a slug no
// link ever had is absent from the map. The statement is lib/pq's unnamed
// one, never a named server-side prepared statement, so it runs through
// PgBouncer in transaction pooling.
func (s *Store) PublicLinks(ctx context.Context, slugs []string) (map[string]*PublicLink, error) {
	rows, err := s.db.QueryxContext(ctx, sqlPublicLinks, pq.Array(slugs))
	if err != nil {
		return nil, fmt.Errorf("load public links: %w", err)
	}
	defer rows.Close()
	links := make(map[string]*PublicLink, len(slugs))
	for rows.Next() {
		p := new(PublicLink)
		if err := rows.StructScan(p); err != nil {
			return nil, fmt.Errorf("load public links: %w", err)
		}
		if err := p.decode(); err != nil {
			return nil, err
		}
		links[p.Slug] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load public links: %w", err)
	}
	return links, nil
}

// decode fills Hero, Photos and Notes from their JSON columns.
func (p *PublicLink) decode() error {
	if len(p.HeroJSON) > 0 {
		p.Hero = new(PublicPhotoRow)
		if err := json.Unmarshal(p.HeroJSON, p.Hero); err != nil {
			return fmt.Errorf("decode hero photo: %w", err)
		}
	}
	if err := json.Unmarshal(p.PhotosJSON, &p.Photos); err != nil {
		return fmt.Errorf("decode link photos: %w", err)
	}
	if err := json.Unmarshal(p.NotesJSON, &p.Notes); err != nil {
		return fmt.Errorf("decode notes: %w", err)
	}
	p.HeroJSON, p.PhotosJSON, p.NotesJSON = nil, nil, nil
	return nil
}
