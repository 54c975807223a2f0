package tracking

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"importops/db"
)

// watchers fans the changes a Listener hears out to the customers
// following a link (publicTrackingUpdated). The watchers of one slug share
// one group: a change re-reads the link once for the group, through the
// Service's cache, however many are watching, and each watcher gets the
// new View only when what the customer sees differs from the last one.
type watchers struct {
	s *Service

	mu     sync.Mutex
	groups map[string]*group // by slug
	closed bool
}

type group struct {
	slug  string
	dirty chan struct{} // cap 1: a re-read is due

	// Guarded by watchers.mu.
	subs             map[*watcher]struct{}
	orgID, vehicleID string // from the last read; "" before it
	last             *View  // the last View sent; nil before the first read
	read             bool
	ended            bool
}

// watcher is one stream: a channel of one slot that holds only the newest
// View not yet read, so a slow reader skips intermediate states rather
// than falling behind. Only the group writes to it, with watchers.mu held;
// gqlgen reads it. No goroutine per stream: a stream costs its slot.
type watcher struct {
	ch     chan *View
	closed bool
}

// offer replaces the unread View, if any, with v; end closes the stream
// after it. watchers.mu is held.
func (w *watcher) offer(v *View, end bool) {
	if w.closed {
		return
	}
	select {
	case <-w.ch:
	default:
	}
	w.ch <- v // the one writer just emptied the slot
	if end {
		w.finish()
	}
}

// finish closes the stream after what it holds. watchers.mu is held.
func (w *watcher) finish() {
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}

func newWatchers(s *Service) *watchers {
	return &watchers{s: s, groups: make(map[string]*group)}
}

// Watch follows slug: the returned channel carries the current View at
// once, then a new one each time what the customer sees changes, and nil
// as its last value when the link stops being available (an unknown slug
// gets nil at once). It closes after nil, or when the Service stops
// watching (shutdown) — then without nil: the link still works and the
// client may reconnect elsewhere. When ctx ends the stream leaves its
// group; its reader has gone.
//
// Opening a stream is a lookup like any other: charged to the client's
// budget (LimitLookups) when it finds nothing, refused when the client
// has none left. The re-reads that follow are the group's, not the
// client's.
func (s *Service) Watch(ctx context.Context, slug string) (<-chan *View, error) {
	if err := s.charge(ctx, func() (bool, error) {
		l, err := s.lookup(ctx, slug)
		return l != nil, err
	}); err != nil {
		return nil, err
	}
	w := &watcher{ch: make(chan *View, 1)}
	remove := s.watch.add(slug, w)
	// Leaving is the group's business, once the reader has gone.
	context.AfterFunc(ctx, remove)
	return w.ch, nil
}

// add puts w in slug's group, starting the group when it is the first;
// a group that has read already gives w its last View at once.
func (ws *watchers) add(slug string, w *watcher) (remove func()) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		w.finish()
		return func() {}
	}
	g := ws.groups[slug]
	if g == nil {
		g = &group{slug: slug, dirty: make(chan struct{}, 1), subs: make(map[*watcher]struct{})}
		ws.groups[slug] = g
		g.dirty <- struct{}{}
		go ws.run(g)
	} else if g.read {
		w.offer(g.last, g.last == nil)
	}
	g.subs[w] = struct{}{}
	return func() {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		delete(g.subs, w)
		if len(g.subs) == 0 && !g.ended {
			g.ended = true
			delete(ws.groups, slug)
			g.mark() // lets run see it has ended
		}
	}
}

func (g *group) mark() {
	select {
	case g.dirty <- struct{}{}:
	default:
	}
}

// changed marks for a re-read the groups a change key names (db.OrgKey,
// db.VehicleKey); any other key, all of them.
func (ws *watchers) changed(key string) {
	kind, id, ok := db.ParseKey(key)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, g := range ws.groups {
		if !ok || !g.read || (kind == "org" && g.orgID == id) || (kind != "org" && g.vehicleID == id) {
			g.mark()
		}
	}
}

// all marks every group: notifications may have been missed.
func (ws *watchers) all() { ws.changed(db.FlushAll) }

// close ends every stream (shutdown), without nil.
func (ws *watchers) close() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.closed = true
	for slug, g := range ws.groups {
		g.ended = true
		for w := range g.subs {
			w.finish()
		}
		delete(ws.groups, slug)
		g.mark()
	}
}

// readTimeout bounds one re-read; a failed one is retried after retryWait.
const (
	readTimeout = 10 * time.Second
	retryWait   = time.Second
)

// run re-reads g's link whenever it is marked, or when it expires, and
// hands each changed View to the group's watchers.
func (ws *watchers) run(g *group) {
	var expiry *time.Timer
	var expiryC <-chan time.Time
	defer func() {
		if expiry != nil {
			expiry.Stop()
		}
	}()
	for {
		select {
		case <-g.dirty:
		case <-expiryC:
			expiryC = nil
		}
		ws.mu.Lock()
		ended := g.ended
		ws.mu.Unlock()
		if ended {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		l, err := ws.s.lookup(ctx, g.slug)
		cancel()
		if err != nil {
			slog.Warn("public tracking stream: re-read failed; retrying", "error", err)
			time.AfterFunc(retryWait, g.mark)
			continue
		}
		var v *View
		if l != nil {
			v = build(l, linkPhotoPath(g.slug))
			if expiry != nil {
				expiry.Stop()
				expiryC = nil
			}
			if l.ExpiresAt != nil {
				// The link stops working at expiresAt with no write to
				// announce it: look again then.
				expiry = time.NewTimer(time.Until(*l.ExpiresAt) + time.Millisecond)
				expiryC = expiry.C
			}
		}
		ws.mu.Lock()
		if g.ended {
			ws.mu.Unlock()
			return
		}
		first := !g.read
		g.read = true
		if l != nil {
			g.orgID, g.vehicleID = l.OrganizationID, l.VehicleID
		}
		if first || v == nil || !reflect.DeepEqual(v, g.last) {
			g.last = v
			for w := range g.subs {
				w.offer(v, v == nil)
			}
		}
		if v == nil {
			// The link is gone for good (a revoked or replaced slug never
			// comes back; an expired or locked one is a new stream).
			g.ended = true
			delete(ws.groups, g.slug)
			ws.mu.Unlock()
			return
		}
		ws.mu.Unlock()
	}
}
