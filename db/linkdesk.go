package db

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

// deliveryExpiry is THE expiry after delivery of the organization o: the
// SQL function link_delivery_expiry (migration 0010), now plus its
// linkExpiryDaysAfterDelivery, which create_tracking_link uses too.
const deliveryExpiry = `link_delivery_expiry(o.link_expiry_days_after_delivery)`

const (
	sqlInsertLinkEvent = `INSERT INTO tracking_link_events (link_id, kind, actor_id, changed) VALUES ($1, $2, $3, $4)`
	// The link of a vehicle that has just reached DELIVERED expires N days
	// from now (the organization's linkExpiryDaysAfterDelivery) unless it
	// already expires sooner; each link changed gets its event. $1 vehicle.
	sqlExpireOnDelivery = `WITH changed AS (
		UPDATE tracking_links l
		   SET expires_at = ` + deliveryExpiry + `, updated_at = now()
		  FROM organizations o
		 WHERE o.id = l.organization_id AND l.vehicle_id = $1 AND l.ended_at IS NULL
		   AND o.link_expiry_days_after_delivery IS NOT NULL
		   AND (l.expires_at IS NULL OR l.expires_at > ` + deliveryExpiry + `)
		RETURNING l.id)
		INSERT INTO tracking_link_events (link_id, kind) SELECT id, 'EXPIRY_SET_ON_DELIVERY' FROM changed`
	// Deleting a vehicle ends its link, with the event, in one statement.
	// $1 vehicle, $2 the user deleting it.
	sqlEndLinksOfDeletedVehicle = `WITH ended AS (
		UPDATE tracking_links SET ended_at = now(), end_reason = 'VEHICLE_DELETED', updated_at = now()
		 WHERE vehicle_id = $1 AND ended_at IS NULL RETURNING id)
		INSERT INTO tracking_link_events (link_id, kind, actor_id) SELECT id, 'VEHICLE_DELETED', $2 FROM ended`
	// Each event with its actor, read in the same statement: a list of
	// links then costs one statement for all their events and actors.
	sqlEventsByLinks = `SELECT e.link_id, e.kind, e.at, e.actor_id, e.changed,
		u.id AS "actor.id", u.organization_id AS "actor.organization_id", u.email AS "actor.email",
		u.name AS "actor.name", u.role AS "actor.role", u.created_at AS "actor.created_at"
		FROM tracking_link_events e JOIN tracking_links l ON l.id = e.link_id
		LEFT JOIN users u ON u.id = e.actor_id AND u.organization_id = l.organization_id
		WHERE l.organization_id = $1 AND e.link_id = ANY($2) ORDER BY e.at, e.id`
	sqlLinksByVehicles = `SELECT ` + linkColumns + `,
		COALESCE((SELECT array_agg(lp.photo_id ORDER BY lp.position) FROM tracking_link_photos lp WHERE lp.link_id = l.id), '{}') AS photo_ids
		FROM tracking_links l WHERE l.organization_id = $1 AND l.vehicle_id = ANY($2)
		ORDER BY l.created_at DESC, l.id DESC`

	// The filters of the org-wide list and its count. $1 org; $2 the
	// facts codes to keep (nil: all; see LinkFacts.Code); $3 expiringBefore.
	// The state itself is decided in Go (tracking.State): this only reads
	// the facts it is decided from.
	linkListFilter = ` FROM tracking_links l JOIN vehicles v ON v.id = l.vehicle_id
		WHERE l.organization_id = $1
		  AND ($2::int[] IS NULL OR
		       (CASE WHEN l.ended_at IS NOT NULL OR v.deleted_at IS NOT NULL THEN 2 ELSE 0 END +
		        CASE WHEN l.expires_at IS NOT NULL AND l.expires_at <= now() THEN 1 ELSE 0 END) = ANY($2))
		  AND ($3::timestamptz IS NULL OR (l.expires_at IS NOT NULL AND l.expires_at < $3))`
	// Newest first; $4/$5 the cursor, $6 the limit.
	sqlLinkPage = `SELECT ` + linkColumns + `,
		COALESCE((SELECT array_agg(lp.photo_id ORDER BY lp.position) FROM tracking_link_photos lp WHERE lp.link_id = l.id), '{}') AS photo_ids` +
		linkListFilter + `
		  AND ($4::timestamptz IS NULL OR (l.created_at, l.id) < ($4, $5::uuid))
		ORDER BY l.created_at DESC, l.id DESC LIMIT $6`
	sqlLinkCount = `SELECT count(*)` + linkListFilter

	// Pending opens of many links, added in one statement: several
	// replicas' increments add up.
	sqlAddOpens = `UPDATE tracking_links l
		SET open_count = l.open_count + t.n,
		    first_opened_at = LEAST(COALESCE(l.first_opened_at, t.first), t.first),
		    last_opened_at = GREATEST(COALESCE(l.last_opened_at, t.last), t.last)
		FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::timestamptz[]) AS t(id, n, first, last)
		WHERE l.id = t.id`
)

// nullUserRow is a user read through a LEFT JOIN: all NULL when none.
type nullUserRow struct {
	ID             *string    `db:"id"`
	OrganizationID *string    `db:"organization_id"`
	Email          *string    `db:"email"`
	Name           *string    `db:"name"`
	Role           *string    `db:"role"`
	CreatedAt      *time.Time `db:"created_at"`
}

func (r nullUserRow) toDomain() *domain.User {
	if r.ID == nil || r.OrganizationID == nil || r.Email == nil || r.Name == nil || r.Role == nil || r.CreatedAt == nil {
		return nil
	}
	return userRow{ID: *r.ID, OrganizationID: *r.OrganizationID, Email: *r.Email, Name: *r.Name,
		Role: *r.Role, CreatedAt: *r.CreatedAt}.toDomain()
}

type linkRowWithPhotos struct {
	linkRow
	PhotoIDs pq.StringArray `db:"photo_ids"`
}

func (r linkRowWithPhotos) toDomain() *domain.TrackingLink {
	r.linkRow.PhotoIDs = r.PhotoIDs
	return r.linkRow.toDomain()
}

func addEvent(ctx context.Context, tx *sqlx.Tx, linkID string, kind domain.LinkEventKind, actor *string, changed []string) error {
	if changed == nil {
		changed = []string{}
	}
	if _, err := tx.ExecContext(ctx, sqlInsertLinkEvent, linkID, string(kind), actor, pq.Array(changed)); err != nil {
		return fmt.Errorf("record %s event: %w", kind, err)
	}
	return nil
}

// expireOnDelivery applies linkExpiryDaysAfterDelivery to the vehicle's
// active link; it runs in the transaction that makes the vehicle DELIVERED
// (or creates a link for a delivered one).
func expireOnDelivery(ctx context.Context, tx *sqlx.Tx, vehicleID string) error {
	if _, err := tx.ExecContext(ctx, sqlExpireOnDelivery, vehicleID); err != nil {
		return fmt.Errorf("set expiry on delivery: %w", err)
	}
	return nil
}

// changedOptions names the options that differ between two versions of
// a link, in the order of domain.LinkOptionNames.
func changedOptions(before, after linkRow) []string {
	var out []string
	add := func(differs bool, name string) {
		if differs {
			out = append(out, name)
		}
	}
	add(before.ShowPhoto != after.ShowPhoto, "showPhoto")
	add(before.ShowEstimatedArrival != after.ShowEstimatedArrival, "showEstimatedArrival")
	add(before.ShowProgress != after.ShowProgress, "showProgress")
	add(before.ShowCustomerNotes != after.ShowCustomerNotes, "showCustomerNotes")
	add(!slices.Equal(before.PhotoIDs, after.PhotoIDs), "photoIds")
	add(!sameTime(before.ExpiresAt, after.ExpiresAt), "expiresAt")
	return out
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// EventsByLinks returns the history of each of the organization's links
// among ids, oldest first.
func (s *Store) EventsByLinks(ctx context.Context, orgID string, ids []string) (map[string][]domain.LinkEvent, error) {
	var rows []struct {
		LinkID  string         `db:"link_id"`
		Kind    string         `db:"kind"`
		At      time.Time      `db:"at"`
		ActorID *string        `db:"actor_id"`
		Changed pq.StringArray `db:"changed"`
		Actor   nullUserRow    `db:"actor"`
	}
	if err := s.db.SelectContext(ctx, &rows, sqlEventsByLinks, orgID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("load link events: %w", err)
	}
	out := make(map[string][]domain.LinkEvent, len(ids))
	for _, r := range rows {
		changed := []string(r.Changed)
		if changed == nil {
			changed = []string{}
		}
		out[r.LinkID] = append(out[r.LinkID], domain.LinkEvent{
			LinkID: r.LinkID, Kind: domain.LinkEventKind(r.Kind), At: r.At, ActorID: r.ActorID, Changed: changed,
			Actor: r.Actor.toDomain(),
		})
	}
	return out, nil
}

// LinksByVehicles returns every link each vehicle has had, newest first.
func (s *Store) LinksByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string][]*domain.TrackingLink, error) {
	var rows []linkRowWithPhotos
	if err := s.db.SelectContext(ctx, &rows, sqlLinksByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load link history: %w", err)
	}
	out := make(map[string][]*domain.TrackingLink, len(vehicleIDs))
	for _, r := range rows {
		out[r.VehicleID] = append(out[r.VehicleID], r.toDomain())
	}
	return out, nil
}

// LinkFilter narrows the org-wide list of links.
type LinkFilter struct {
	// FactCodes keeps links whose facts have one of these codes (see
	// LinkFactsCode); nil keeps all.
	FactCodes      []int
	ExpiringBefore *time.Time
}

// LinkFactsCode is how the list query encodes the two per-link facts a
// state is decided from: ended (revoked, regenerated or its vehicle
// deleted) and expired (expiresAt has passed).
func LinkFactsCode(ended, expired bool) int {
	c := 0
	if ended {
		c += 2
	}
	if expired {
		c++
	}
	return c
}

// LinkPage is one page of links, newest first.
type LinkPage struct {
	Links       []*domain.TrackingLink
	Cursors     []string
	HasNextPage bool
	TotalCount  int
}

// TrackingLinks lists the organization's links, ended ones included,
// newest first; TotalCount is counted only withCount, as for Vehicles.
func (s *Store) TrackingLinks(ctx context.Context, orgID string, first *int, after *string, f LinkFilter, withCount bool) (*LinkPage, error) {
	n, err := PageSize(first)
	if err != nil {
		return nil, err
	}
	var afterTime *time.Time
	var afterID *string
	if after != nil {
		c, err := decodeCursor(*after)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return nil, domain.Errorf(domain.BadInput, "after is not a cursor from this list")
		}
		afterTime, afterID = &t, &c.ID
	}
	var codes any // NULL: every link
	if f.FactCodes != nil {
		codes = pq.Array(f.FactCodes)
	}
	var rows []linkRowWithPhotos
	if err := s.db.SelectContext(ctx, &rows, sqlLinkPage, orgID, codes, f.ExpiringBefore, afterTime, afterID, n+1); err != nil {
		return nil, fmt.Errorf("list tracking links: %w", err)
	}
	page := &LinkPage{HasNextPage: len(rows) > n, Links: []*domain.TrackingLink{}}
	if page.HasNextPage {
		rows = rows[:n]
	}
	if withCount {
		if err := s.db.GetContext(ctx, &page.TotalCount, sqlLinkCount, orgID, codes, f.ExpiringBefore); err != nil {
			return nil, fmt.Errorf("count tracking links: %w", err)
		}
	}
	for _, r := range rows {
		page.Links = append(page.Links, r.toDomain())
		page.Cursors = append(page.Cursors, encodeCursor(r.CreatedAt.UTC().Format(time.RFC3339Nano), r.ID))
	}
	return page, nil
}

// Opens are the pending opens of one link.
type Opens struct {
	LinkID      string
	N           int64
	First, Last time.Time
}

// AddOpens adds pending opens to their links, in one statement.
func (s *Store) AddOpens(ctx context.Context, opens []Opens) error {
	if len(opens) == 0 {
		return nil
	}
	ids := make([]string, len(opens))
	ns := make([]int64, len(opens))
	firsts := make([]string, len(opens))
	lasts := make([]string, len(opens))
	for i, o := range opens {
		ids[i], ns[i] = o.LinkID, o.N
		firsts[i], lasts[i] = o.First.UTC().Format(time.RFC3339Nano), o.Last.UTC().Format(time.RFC3339Nano)
	}
	if _, err := s.db.ExecContext(ctx, sqlAddOpens, pq.Array(ids), pq.Array(ns), pq.Array(firsts), pq.Array(lasts)); err != nil {
		return fmt.Errorf("add opens: %w", err)
	}
	return nil
}

// PreviewOptions are the options of a preview, resolved: what the vehicle's
// link would show.
type PreviewOptions struct {
	ShowPhoto            bool       `json:"sp"`
	ShowEstimatedArrival bool       `json:"se"`
	ShowProgress         bool       `json:"sg"`
	ShowCustomerNotes    bool       `json:"sn"`
	PhotoIDs             []string   `json:"ph"`
	ExpiresAt            *time.Time `json:"ex,omitempty"`
}

// ResolvePreviewOptions applies o to the vehicle's current link options,
// or to a new link's when it has none. It reads only.
func (s *Store) ResolvePreviewOptions(ctx context.Context, orgID, vehicleID string, o LinkOptions) (PreviewOptions, error) {
	if _, err := getVehicle(ctx, s.db, orgID, vehicleID, sqlVehicle); err != nil {
		return PreviewOptions{}, err
	}
	r := defaultLinkOptions()
	var rows []linkRowWithPhotos
	if err := s.db.SelectContext(ctx, &rows, sqlActiveLinksByVehicles, orgID, pq.Array([]string{vehicleID})); err != nil {
		return PreviewOptions{}, fmt.Errorf("load tracking link: %w", err)
	}
	if len(rows) > 0 {
		r = rows[0].linkRow
		r.PhotoIDs = rows[0].PhotoIDs
	}
	if err := o.applyTo(&r, time.Now()); err != nil {
		return PreviewOptions{}, err
	}
	if o.PhotoIDs.Set {
		if err := checkPhotosOfVehicle(ctx, s.db, vehicleID, r.PhotoIDs); err != nil {
			return PreviewOptions{}, err
		}
	}
	ids := r.PhotoIDs
	if ids == nil {
		ids = []string{}
	}
	return PreviewOptions{
		ShowPhoto: r.ShowPhoto, ShowEstimatedArrival: r.ShowEstimatedArrival, ShowProgress: r.ShowProgress,
		ShowCustomerNotes: r.ShowCustomerNotes, PhotoIDs: ids, ExpiresAt: r.ExpiresAt,
	}, nil
}

// PreviewLink reads what the public side would read for a link of the
// vehicle with options o, whatever the subscription status; NOT_FOUND for
// a vehicle that is not the organization's or is deleted.
func (s *Store) PreviewLink(ctx context.Context, orgID, vehicleID string, o PreviewOptions) (*PublicLink, error) {
	if !validID(vehicleID) {
		return nil, domain.Errorf(domain.NotFound, "vehicle not found")
	}
	var p PublicLink
	err := s.db.GetContext(ctx, &p, sqlPreviewLink, orgID, vehicleID, o.ShowPhoto, o.ShowEstimatedArrival,
		o.ShowProgress, o.ShowCustomerNotes, o.ExpiresAt, pq.Array(validIDs(o.PhotoIDs)))
	if err != nil {
		return nil, notFound(err, "vehicle")
	}
	if err := p.decode(); err != nil {
		return nil, err
	}
	return &p, nil
}
