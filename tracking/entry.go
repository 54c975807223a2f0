package tracking

import (
	"context"
	"sync"

	"importops/db"
)

// Entry names the cached link a view was built from: the same slug and
// the very same *db.PublicLink the cache held. A view is a function of
// its slug and its link alone (see build), so an Answer rendered from it
// is still what a lookup would give for as long as the cache holds that
// link. Entries are compared by pointer: a link read again after an
// invalidation is a new one, and an Entry that holds its link keeps the
// address from being reused.
type Entry struct {
	slug string
	link *db.PublicLink
}

// LinkID is the id of the entry's tracking link.
func (e Entry) LinkID() string { return e.link.LinkID }

// Slug is the slug the entry's link was looked up by.
func (e Entry) Slug() string { return e.slug }

// Stored is the answer kept for key on slug's cached link, when a lookup
// of slug would now answer from the cache with that link (the cache is
// on — its listener connected — and holds it), the link is available
// now, and the client has failed-lookup budget left (a client out of it
// is refused by View instead). A served answer counts as a cache hit.
func (s *Service) Stored(ctx context.Context, slug string, key []byte) (a *Answer, linkID string, ok bool) {
	c := s.cache
	if c == nil {
		return nil, "", false
	}
	l, a, ok := c.answer(slug, key)
	if !ok || !Available(l, s.now()) || (s.budget != nil && !s.budget.Allows(ctx)) {
		return nil, "", false
	}
	c.hits.Add(1)
	return a, l.LinkID, true
}

// Keep stores a, rendered from e's link, under key, for Stored to serve
// while the cache holds that link; it reports whether it was kept.
func (s *Service) Keep(e Entry, key string, a *Answer) bool {
	return s.cache != nil && e.link != nil && s.cache.keep(e.slug, e.link, key, a)
}

type recorderKey struct{}

// Recorder collects the links the View lookups made with its context
// used, so that what is rendered from them can be tagged with their
// Entry. It may be shared by concurrent resolvers.
type Recorder struct {
	mu    sync.Mutex
	n     int
	entry Entry
}

// Record returns a context whose View lookups rec records.
func Record(ctx context.Context) (_ context.Context, rec *Recorder) {
	rec = new(Recorder)
	return context.WithValue(ctx, recorderKey{}, rec), rec
}

// Only is the Entry of the one lookup made, if exactly one was and it
// found an available link; ok is false otherwise (none, several, or an
// unavailable link: a null view is never tagged).
func (r *Recorder) Only() (e Entry, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entry, r.n == 1 && r.entry.link != nil
}

func (r *Recorder) add(slug string, l *db.PublicLink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.entry = Entry{slug: slug, link: l}
}

func record(ctx context.Context, slug string, l *db.PublicLink) {
	if r, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		r.add(slug, l)
	}
}
