package loaders

import (
	"context"

	"importops/domain"
)

// TrackingLink is a tracking link as one request answers it. As for
// Vehicle, its url, photos and createdBy are methods gqlgen calls in line,
// not resolvers with a goroutine each; the link desk's other fields
// (state, vehicle, events, …) stay resolvers.
type TrackingLink struct {
	*domain.TrackingLink
	ctx context.Context // the request's, for the loads
	l   *Loaders
}

// BindLink answers link with l, asking at once for its picked photos and
// its creator when the query selects them (photos, createdBy), so that the
// links bound by one request share one batch of each.
func (l *Loaders) BindLink(ctx context.Context, link *domain.TrackingLink, photos, createdBy bool) *TrackingLink {
	if photos {
		for _, id := range link.PhotoIDs {
			l.Photo.Load(ctx, id)
		}
	}
	if createdBy && link.CreatedByID != nil {
		l.User.Load(ctx, *link.CreatedByID)
	}
	return &TrackingLink{TrackingLink: link, ctx: ctx, l: l}
}

// URL is the customer's URL of the link.
func (t *TrackingLink) URL() string { return t.l.linkURL(t.Slug) }

// Photos are the link's picked photos, in the order picked; a picked
// photo since deleted is left out.
func (t *TrackingLink) Photos() ([]domain.Photo, error) {
	photos, errs := Each(t.ctx, t.l.Photo, t.PhotoIDs)
	out := make([]domain.Photo, 0, len(photos))
	for i, p := range photos {
		if len(errs) > i && errs[i] != nil {
			return nil, errs[i]
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// CreatedBy is the member who made the link; nil when unknown (removed).
func (t *TrackingLink) CreatedBy() (*domain.User, error) {
	if t.CreatedByID == nil {
		return nil, nil
	}
	return t.l.User.Load(t.ctx, *t.CreatedByID)()
}
