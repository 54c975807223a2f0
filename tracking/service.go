// Package tracking holds the rules of public tracking links: how slugs are
// made, when a link is available, and what its customer may see.
package tracking

import (
	"context"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"importops/db"
	"importops/domain"
)

// Facts are what decides whether a link works.
type Facts struct {
	EndedAt          *time.Time // revoked, replaced by regenerate, or its vehicle deleted
	VehicleDeletedAt *time.Time
	ExpiresAt        *time.Time
	Subscription     domain.SubscriptionStatus
}

// Ended reports whether the link is dead for good.
func (f Facts) Ended() bool { return f.EndedAt != nil || f.VehicleDeletedAt != nil }

// Expired reports whether the link's expiresAt has passed at now.
func (f Facts) Expired(now time.Time) bool { return f.ExpiresAt != nil && !now.Before(*f.ExpiresAt) }

// State is THE rule for whether a link works: LIVE exactly when it is not
// revoked or replaced, its vehicle is not deleted, its organization's
// subscription is open and it has not expired. A link that fails several
// of these is in the state that lasts longest: ENDED (for good), then
// SUSPENDED (organization-wide), then EXPIRED.
func State(f Facts, now time.Time) domain.LinkState {
	switch {
	case f.Ended():
		return domain.LinkEnded
	case !f.Subscription.IsOpen():
		return domain.LinkSuspended
	case f.Expired(now):
		return domain.LinkExpired
	default:
		return domain.LinkLive
	}
}

// StateFacts are the per-link fact codes (db.LinkFactsCode) of the links
// in state want, for an organization whose subscription is sub: how the
// org-wide list filters by state without a second copy of the rule.
func StateFacts(want domain.LinkState, sub domain.SubscriptionStatus) []int {
	codes := []int{}
	now := time.Now()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	for _, ended := range []bool{false, true} {
		for _, expired := range []bool{false, true} {
			f := Facts{Subscription: sub, ExpiresAt: &future}
			if ended {
				f.EndedAt = &now
			}
			if expired {
				f.ExpiresAt = &past
			}
			if State(f, now) == want {
				codes = append(codes, db.LinkFactsCode(ended, expired))
			}
		}
	}
	return codes
}

// PublicFacts are the facts of a public lookup.
func PublicFacts(l *db.PublicLink) Facts {
	return Facts{
		EndedAt: l.EndedAt, VehicleDeletedAt: l.VehicleDeletedAt, ExpiresAt: l.ExpiresAt,
		Subscription: domain.SubscriptionStatus(l.SubscriptionStatus),
	}
}

// LinkFacts are the facts of a staff link, whose organization's
// subscription is sub.
func LinkFacts(l *domain.TrackingLink, sub domain.SubscriptionStatus) Facts {
	return Facts{EndedAt: l.EndedAt, VehicleDeletedAt: l.VehicleDeletedAt, ExpiresAt: l.ExpiresAt, Subscription: sub}
}

// Available reports whether a public lookup's link works now: State is
// LIVE. Every public path asks this.
func Available(l *db.PublicLink, now time.Time) bool {
	return l != nil && State(PublicFacts(l), now) == domain.LinkLive
}

// Service answers public lookups by slug.
type Service struct {
	store   *db.Store
	baseURL string
	now     func() time.Time

	cache  *cache // nil: every lookup reads the database
	loads  singleflight.Group
	reads  batcher
	budget Budget // nil: lookups are not limited
	watch  *watchers
}

// A Budget limits, per client, the lookups that find no available link:
// slug guessing. The client is the one of the request's context.
type Budget interface {
	// Begin is asked before a lookup. It refuses the lookup with an error
	// when the client has no unit left; otherwise end settles it, and
	// spends a unit when failed.
	Begin(ctx context.Context) (end func(failed bool), err error)
	// Allows reports whether the client has a unit left, spending none.
	Allows(ctx context.Context) bool
}

// LimitLookups charges every failed lookup (View, PublicPhoto) to b, and
// refuses lookups, and stored answers, to a client out of it. Call it
// before serving.
func (s *Service) LimitLookups(b Budget) { s.budget = b }

// NewService returns a Service without a cache: every lookup is one
// database statement.
func NewService(store *db.Store, publicBaseURL string) *Service {
	s := &Service{store: store, baseURL: publicBaseURL, now: time.Now}
	s.reads.load = func(ctx context.Context, slugs []string) (map[string]*db.PublicLink, error) {
		return store.PublicLinks(ctx, slugs)
	}
	s.watch = newWatchers(s)
	return s
}

// StopWatching ends every stream of Watch, at shutdown; later calls of
// Watch end at once.
func (s *Service) StopWatching() { s.watch.close() }

// NewCachedService returns a Service that keeps up to size links in
// memory (size 0: none, as NewService). The cache stays off — every lookup
// reads the database — until a Listener (Service.Listen) is connected, and
// goes off again whenever it is not.
func NewCachedService(store *db.Store, publicBaseURL string, size int) *Service {
	s := NewService(store, publicBaseURL)
	if size > 0 {
		s.cache = newCache(size)
		// This process's own writes reach the cache before they return.
		store.OnPublicChange(s.cache.invalidate)
	}
	return s
}

// CacheStats counts lookups answered from the cache (hits) and from the
// database (misses, including every lookup while the cache is off).
func (s *Service) CacheStats() (hits, misses uint64) {
	if s.cache == nil {
		return 0, 0
	}
	return s.cache.hits.Load(), s.cache.misses.Load()
}

// Invalidate drops the cached views a change key names (db.OrgKey,
// db.VehicleKey, db.FlushAll). Writes through the store and notifications
// do this by themselves; it is for writes made around them.
func (s *Service) Invalidate(key string) {
	if s.cache != nil {
		s.cache.invalidate(key)
	}
}

// Caching tells whether lookups are being answered from the cache now.
func (s *Service) Caching() bool { return s.cache != nil && s.cache.isOn() }

// LinkURL is the customer's URL for slug.
func (s *Service) LinkURL(slug string) string { return s.baseURL + LinkPath(slug) }

// LinkPath is the URL path of the customer's page for slug.
func LinkPath(slug string) string { return "/t/" + slug }

// PhotoPath is the public URL path of a photo shown through slug.
func PhotoPath(slug, photoID string) string { return "/t/" + slug + "/photos/" + photoID }

// LogoPath is the URL path of an organization's logo (keys are "logos/…").
func LogoPath(key string) string { return "/media/" + key }

// View returns what the customer sees for slug, or nil when the link is
// not available, for whatever reason. A client out of failed-lookup
// budget gets the budget's error instead.
func (s *Service) View(ctx context.Context, slug string) (*View, error) {
	l, err := s.limitedLookup(ctx, slug)
	record(ctx, slug, l) // nil on an error or an unavailable link
	if err != nil || l == nil {
		return nil, err
	}
	return build(l, linkPhotoPath(slug)), nil
}

// Preview is what the customer would see for the organization's vehicle
// with options o, whatever the subscription status and whether or not it
// has a link: the view built as View builds it, with its photos through
// signed staff paths (photoPath) since no slug may exist. It reads only
// and counts no open.
func (s *Service) Preview(ctx context.Context, orgID, vehicleID string, o db.PreviewOptions, photoPath func(photoID string) string) (*View, error) {
	l, err := s.store.PreviewLink(ctx, orgID, vehicleID, o)
	if err != nil {
		return nil, err
	}
	return build(l, photoPath), nil
}

// linkPhotoPath makes the public paths of the photos shown through slug.
func linkPhotoPath(slug string) func(photoID string) string {
	return func(photoID string) string { return PhotoPath(slug, photoID) }
}

// PublicPhoto returns the stored photo behind a public photo URL, or nil
// when the link is not available or does not show that photo (a failed
// lookup, charged like View's). It may be shared with the cache: read it,
// never change it.
func (s *Service) PublicPhoto(ctx context.Context, slug, photoID string) (*db.PublicPhotoRow, error) {
	var photo *db.PublicPhotoRow
	err := s.charge(ctx, func() (bool, error) {
		l, err := s.lookup(ctx, slug)
		if err != nil || l == nil {
			return l != nil, err
		}
		if l.Hero != nil && l.Hero.ID == photoID {
			photo = l.Hero
		}
		for i := range l.Photos {
			if l.Photos[i].ID == photoID {
				photo = &l.Photos[i]
			}
		}
		return photo != nil, nil
	})
	return photo, err
}

// limitedLookup is lookup, charged to the client's budget.
func (s *Service) limitedLookup(ctx context.Context, slug string) (l *db.PublicLink, err error) {
	err = s.charge(ctx, func() (bool, error) {
		l, err = s.lookup(ctx, slug)
		return l != nil, err
	})
	return l, err
}

// charge runs a lookup (found: it found what was asked for) under the
// client's budget: the one place a failed lookup is charged. An error is
// not the client's failure and spends nothing.
func (s *Service) charge(ctx context.Context, lookup func() (found bool, err error)) error {
	if s.budget == nil {
		_, err := lookup()
		return err
	}
	end, err := s.budget.Begin(ctx)
	if err != nil {
		return err
	}
	found, err := lookup()
	end(err == nil && !found)
	return err
}

func (s *Service) lookup(ctx context.Context, slug string) (*db.PublicLink, error) {
	if !PlausibleSlug(slug) {
		return nil, nil
	}
	l, err := s.load(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !Available(l, s.now()) {
		return nil, nil
	}
	return l, nil
}

// loadTimeout bounds a database read shared by concurrent lookups, which
// runs on after the request that started it has gone.
const loadTimeout = 10 * time.Second

// load reads what the database holds for slug (nil: no such link), from
// the cache when it can. Concurrent misses of one slug share one read;
// never across an invalidation, so a lookup that starts after a write has
// committed never gets what was read before it.
func (s *Service) load(ctx context.Context, slug string) (*db.PublicLink, error) {
	c := s.cache
	if c == nil {
		return s.reads.get(ctx, slug)
	}
	if l, ok := c.get(slug); ok {
		return l, nil
	}
	if !c.isOn() {
		// No listener vouches for invalidation: read, and keep nothing.
		return s.reads.get(ctx, slug)
	}
	key := slug + "@" + strconv.FormatUint(c.generation(), 10)
	ch := s.loads.DoChan(key, func() (any, error) {
		gen := c.begin()
		l, err := s.reads.get(context.Background(), slug)
		if err != nil {
			l = nil
		}
		// Unknown slugs (nil) are not kept: anyone could otherwise push
		// real links out of the cache with random ones.
		c.put(slug, l, gen)
		return l, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*db.PublicLink), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// build is THE code that makes what a customer sees from what the
// database holds: publicTracking, the page and the preview all use it.
// Its URLs are paths: the GraphQL layer makes them absolute, the page
// keeps them on its origin.
func build(l *db.PublicLink, photoPath func(photoID string) string) *View {
	v := &View{
		Organization: PublicOrganization{
			Name:    l.OrgName,
			Country: l.OrgCountry,
			Locale:  domain.LocaleForCountry(l.OrgCountry),

			Language: domain.EffectiveLanguage(l.OrgLanguage, l.OrgCountry),
			TimeZone: domain.EffectiveTimeZone(l.OrgTimeZone, l.OrgCountry),
		},
		Vehicle: PublicVehicle{
			Year: l.VehicleYear, Make: l.VehicleMake, Model: l.VehicleModel,
			Title: domain.VehicleTitle(l.VehicleYear, l.VehicleMake, l.VehicleModel),
		},
		Notes:     []PublicNote{},
		Photos:    []PublicPhoto{},
		ExpiresAt: l.ExpiresAt,
	}
	if l.LogoKey != nil {
		p := LogoPath(*l.LogoKey)
		v.Organization.LogoPath = &p
	}
	if l.ShowPhoto && l.Hero != nil {
		p := publicPhoto(*l.Hero, photoPath)
		v.HeroPhoto = &p
	}
	if l.ShowProgress {
		v.Progress = NewProgress(domain.Stage(l.Stage), v.Organization.Language)
	}
	if l.ShowEstimatedArrival {
		v.EstimatedArrival = l.EstimatedArrival
	}
	if l.ShowCustomerNotes {
		for _, n := range l.Notes {
			v.Notes = append(v.Notes, PublicNote{Body: n.Body, CreatedAt: n.CreatedAt})
		}
	}
	for _, p := range l.Photos {
		v.Photos = append(v.Photos, publicPhoto(p, photoPath))
	}
	return v
}

func publicPhoto(p db.PublicPhotoRow, photoPath func(photoID string) string) PublicPhoto {
	return PublicPhoto{
		ID: p.ID, Path: photoPath(p.ID),
		Caption: p.Caption, Width: p.Width, Height: p.Height,
	}
}
