package tracking

import (
	"context"
	"sync"

	"importops/db"
)

// Entry names the cached link a view was built from: the same slug and
// the very same *db.PublicLink the cache held. A view is a function of
// its slug and its link alone (see build), so anything rendered from it
// — an HTTP layer's stored answer — is still what a lookup would give
// for as long as Current(e) holds. Entries are compared by pointer: a
// link read again after an invalidation is a new one, and an Entry that
// holds its link keeps the address from being reused.
type Entry struct {
	slug string
	link *db.PublicLink
}

// Current reports whether a lookup of e's slug would now answer from the
// cache with e's link (the cache is on — its listener connected — and
// holds that link, not a newer one or nothing) and the link is available
// now. A true answer counts as a cache hit: the caller answers the lookup
// with what it built from e.
func (s *Service) Current(e Entry) bool {
	c := s.cache
	if c == nil || e.link == nil || !c.holds(e.slug, e.link) || !Available(e.link, s.now()) {
		return false
	}
	c.hits.Add(1)
	return true
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

// LinkID is the id of the link e was built from, to count its opens.
func (e Entry) LinkID() string {
	if e.link == nil {
		return ""
	}
	return e.link.LinkID
}
