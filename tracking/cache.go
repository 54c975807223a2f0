package tracking

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"importops/db"
)

// cache keeps the public links read by slug, so that a page refreshed by
// many customers costs no database round trip. It holds what the database
// said, not a decision: Available is asked on every read, so a link that
// expires while cached stops working at its expiresAt without any
// notification.
//
// Each entry also keeps the answers rendered from its link (Answer: the
// bytes of a publicTracking response or of the page), so whatever drops
// the link — a write, a notification, the listener going off, eviction —
// drops them with it, and expiry, checked on every read, covers them too.
//
// Every write that can change a public view announces its change key (see
// db.PublicChannel); invalidate drops the entries it names. The cache is
// only used while something vouches that no announcement can be missed —
// a connected Listener — and is flushed whenever that changes.
type cache struct {
	mu        sync.Mutex
	lru       *simplelru.LRU[string, *entry]
	byOrg     map[string]map[string]struct{} // organization id -> slugs
	byVehicle map[string]map[string]struct{} // vehicle id -> slugs
	on        bool

	// A database read that began before an invalidation may have read
	// what the write replaced: put drops it. gen counts invalidations;
	// a read remembers gen when it begins, and put compares it with when
	// the read's organization and vehicle were last invalidated (changed,
	// kept only while reads are in flight) or everything was (flushed).
	gen     uint64
	flushed uint64
	changed map[string]uint64
	reading int

	hits, misses atomic.Uint64
}

// entry is one cached link and what was rendered from it.
type entry struct {
	link *db.PublicLink
	// answers are keyed by the HTTP layer's key of the request; a link
	// has few (the page, the customer page's query): past maxAnswers new
	// ones are not kept.
	answers map[string]*Answer
}

// An Answer is a response rendered from one cached link, served as is for
// as long as the link stays cached and available. It is shared: never
// change it.
type Answer struct {
	ContentType string
	// The answer is Body with Shared inserted at SharedAt: a part that
	// every answer of its kind carries (the page's stylesheet) is kept
	// once for all, not once per link.
	Body     []byte
	Shared   []byte
	SharedAt int
	// Name is what the request's log line names it by (a GraphQL
	// operation name), if anything.
	Name string
}

// Len is the answer's length in bytes.
func (a *Answer) Len() int { return len(a.Body) + len(a.Shared) }

const (
	// maxAnswers bounds the answers kept per link, maxAnswerBytes each.
	maxAnswers     = 4
	maxAnswerBytes = 64 << 10
)

func newCache(size int) *cache {
	c := &cache{
		byOrg:     make(map[string]map[string]struct{}),
		byVehicle: make(map[string]map[string]struct{}),
		changed:   make(map[string]uint64),
	}
	// simplelru only refuses a size below 1, which NewCachedService never passes.
	c.lru, _ = simplelru.NewLRU(size, c.evicted)
	return c
}

// get returns the cached link of slug; ok is false on a miss or while the
// cache is off.
func (c *cache) get(slug string) (l *db.PublicLink, ok bool) {
	c.mu.Lock()
	if c.on {
		var e *entry
		if e, ok = c.lru.Get(slug); ok {
			l = e.link
		}
	}
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return l, ok
}

// answer is the link cached for slug and the answer kept on it for key.
// Like get, it makes slug the most recently used; it counts nothing.
func (c *cache) answer(slug string, key []byte) (*db.PublicLink, *Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil, nil, false
	}
	e, ok := c.lru.Get(slug)
	if !ok {
		return nil, nil, false
	}
	a, ok := e.answers[string(key)] // no copy: a map index by []byte
	return e.link, a, ok
}

// keep stores a on l's entry for key, if the cache still holds l itself
// for slug (the answer was rendered from what is cached now).
func (c *cache) keep(slug string, l *db.PublicLink, key string, a *Answer) bool {
	if a.Len() > maxAnswerBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Peek(slug)
	if !c.on || !ok || e.link != l {
		return false
	}
	if _, replaces := e.answers[key]; !replaces && len(e.answers) >= maxAnswers {
		return false
	}
	if e.answers == nil {
		e.answers = make(map[string]*Answer, 1)
	}
	e.answers[key] = a
	return true
}

// generation is the count of invalidations so far: lookups that see the
// same generation may share one database read.
func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// maxChanged bounds the keys remembered for reads in flight; past it, an
// invalidation counts as a flush for them (they are not stored).
const maxChanged = 4096

// begin is called before reading the database for a miss; hand what it
// returns to put (or to put with a nil link when nothing is to be kept).
func (c *cache) begin() (gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading++
	return c.gen
}

// put stores what a read begun at gen found, unless its organization or
// vehicle was invalidated meanwhile, everything was, or the cache is off.
// A nil l stores nothing and only ends the read.
func (c *cache) put(slug string, l *db.PublicLink, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if c.reading--; c.reading == 0 {
			clear(c.changed)
		}
	}()
	if l == nil || !c.on || c.flushed > gen ||
		c.changed[db.OrgKey(l.OrganizationID)] > gen || c.changed[db.VehicleKey(l.VehicleID)] > gen {
		return
	}
	c.lru.Add(slug, &entry{link: l})
	index(c.byOrg, l.OrganizationID, slug)
	index(c.byVehicle, l.VehicleID, slug)
}

// invalidate drops the entries a change key names; an unknown key drops
// everything.
func (c *cache) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	kind, id, ok := db.ParseKey(key)
	if !ok {
		c.purge()
		return
	}
	if c.reading > 0 {
		if len(c.changed) < maxChanged {
			c.changed[key] = c.gen
		} else {
			c.flushed = c.gen
		}
	}
	idx := c.byVehicle
	if kind == "org" {
		idx = c.byOrg
	}
	for slug := range idx[id] {
		c.lru.Remove(slug) // evicted unindexes it
	}
}

// flush drops everything.
func (c *cache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.purge()
}

// setOn switches the cache on or off; either way it starts empty.
func (c *cache) setOn(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.on = on
	c.purge()
}

func (c *cache) isOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// purge empties the cache, and keeps what reads in flight find from
// being stored; c.mu is held.
func (c *cache) purge() {
	c.flushed = c.gen
	c.byOrg = make(map[string]map[string]struct{})
	c.byVehicle = make(map[string]map[string]struct{})
	c.lru.Purge() // evicted finds nothing left to unindex
}

// evicted keeps the indexes in step with the LRU; it runs inside lru
// calls, with c.mu held.
func (c *cache) evicted(slug string, e *entry) {
	unindex(c.byOrg, e.link.OrganizationID, slug)
	unindex(c.byVehicle, e.link.VehicleID, slug)
}

func index(m map[string]map[string]struct{}, id, slug string) {
	set := m[id]
	if set == nil {
		set = make(map[string]struct{}, 1)
		m[id] = set
	}
	set[slug] = struct{}{}
}

func unindex(m map[string]map[string]struct{}, id, slug string) {
	if set := m[id]; set != nil {
		delete(set, slug)
		if len(set) == 0 {
			delete(m, id)
		}
	}
}
