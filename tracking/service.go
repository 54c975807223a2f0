// Package tracking holds the rules of public tracking links: how slugs are
// made, when a link is available, and what its customer may see.
package tracking

import (
	"context"
	"time"

	"importops/db"
	"importops/domain"
)

// Available is THE rule for whether a link works: it exists, is not
// revoked or replaced, has not expired, its vehicle is not deleted, and its
// organization's subscription is open. Every public path asks this.
func Available(l *db.PublicLink, now time.Time) bool {
	return l != nil &&
		l.EndedAt == nil &&
		(l.ExpiresAt == nil || now.Before(*l.ExpiresAt)) &&
		l.VehicleDeletedAt == nil &&
		domain.SubscriptionStatus(l.SubscriptionStatus).IsOpen()
}

// Service answers public lookups by slug.
type Service struct {
	store   *db.Store
	baseURL string
	now     func() time.Time
}

func NewService(store *db.Store, publicBaseURL string) *Service {
	return &Service{store: store, baseURL: publicBaseURL, now: time.Now}
}

// LinkURL is the customer's URL for slug.
func (s *Service) LinkURL(slug string) string { return s.baseURL + "/t/" + slug }

// PhotoPath is the public URL path of a photo shown through slug.
func PhotoPath(slug, photoID string) string { return "/t/" + slug + "/photos/" + photoID }

// LogoPath is the URL path of an organization's logo (keys are "logos/…").
func LogoPath(key string) string { return "/media/" + key }

// View returns what the customer sees for slug, or nil when the link is
// not available, for whatever reason.
func (s *Service) View(ctx context.Context, slug string) (*View, error) {
	l, err := s.lookup(ctx, slug)
	if err != nil || l == nil {
		return nil, err
	}
	return s.build(slug, l), nil
}

// PublicPhoto returns the stored photo behind a public photo URL, or nil
// when the link is not available or does not show that photo.
func (s *Service) PublicPhoto(ctx context.Context, slug, photoID string) (*db.PublicPhotoRow, error) {
	l, err := s.lookup(ctx, slug)
	if err != nil || l == nil {
		return nil, err
	}
	if l.Hero != nil && l.Hero.ID == photoID {
		return l.Hero, nil
	}
	for i := range l.Photos {
		if l.Photos[i].ID == photoID {
			return &l.Photos[i], nil
		}
	}
	return nil, nil
}

func (s *Service) lookup(ctx context.Context, slug string) (*db.PublicLink, error) {
	if !PlausibleSlug(slug) {
		return nil, nil
	}
	l, err := s.store.PublicLink(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !Available(l, s.now()) {
		return nil, nil
	}
	return l, nil
}

func (s *Service) build(slug string, l *db.PublicLink) *View {
	v := &View{
		Organization: PublicOrganization{
			Name:    l.OrgName,
			Country: l.OrgCountry,
			Locale:  domain.LocaleForCountry(l.OrgCountry),
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
		u := s.baseURL + LogoPath(*l.LogoKey)
		v.Organization.LogoURL = &u
	}
	if l.ShowPhoto && l.Hero != nil {
		p := s.publicPhoto(slug, *l.Hero)
		v.HeroPhoto = &p
	}
	if l.ShowProgress {
		v.Progress = NewProgress(domain.Stage(l.Stage))
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
		v.Photos = append(v.Photos, s.publicPhoto(slug, p))
	}
	return v
}

func (s *Service) publicPhoto(slug string, p db.PublicPhotoRow) PublicPhoto {
	return PublicPhoto{
		ID: p.ID, URL: s.baseURL + PhotoPath(slug, p.ID),
		Caption: p.Caption, Width: p.Width, Height: p.Height,
	}
}
