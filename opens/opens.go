// Package opens counts the real opens of tracking links — the customer
// page and publicTracking — without storing who opened them.
//
// A request is an open unless it is a HEAD or a prefetch, comes from a
// link-preview bot or crawler (by User-Agent, from the maintained list of
// github.com/monperrus/crawler-user-agents), or comes from a client that
// already opened the same link within the last 30 minutes. A client is a
// keyed hash (HMAC-SHA-256, with a random key made at start and never
// kept) of its address and User-Agent, held in memory only and forgotten
// after 30 minutes. Neither the address, the User-Agent nor the hash is
// written anywhere.
//
// Counts are batched: an open costs no SQL. Pending counts are added to
// the database as increments, about once a second and on shutdown, so
// several replicas add up.
package opens

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	agents "github.com/monperrus/crawler-user-agents"

	"importops/db"
)

const (
	// Window is how long the same client opening the same link again is
	// not counted, and how long its hash is remembered.
	Window = 30 * time.Minute
	// maxClients bounds the hashes remembered (16 bytes each, plus the
	// LRU's overhead): past it, the least recently seen go first.
	maxClients = 200_000
	// FlushInterval is how often pending counts reach the database.
	FlushInterval = time.Second
)

// Store adds pending opens to their links (db.Store.AddOpens).
type Store interface {
	AddOpens(ctx context.Context, opens []db.Opens) error
}

type clientKey [16]byte

// Counter counts opens; its methods are safe for concurrent use. A nil
// Counter counts nothing.
type Counter struct {
	seen  *expirable.LRU[clientKey, struct{}]
	store Store
	log   *slog.Logger
	now   func() time.Time

	keyers sync.Pool // of *keyer, each with the process's random key

	mu      sync.Mutex
	pending map[string]*db.Opens
}

// New returns a Counter that adds its counts to store; call Run to flush
// them.
func New(store Store, log *slog.Logger) *Counter { return newCounter(store, log, Window) }

// newCounter is New with the window of repeats, for tests.
func newCounter(store Store, log *slog.Logger, window time.Duration) *Counter {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("opens: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Counter{
		seen:    expirable.NewLRU[clientKey, struct{}](maxClients, nil, window),
		store:   store,
		log:     log,
		now:     time.Now,
		pending: make(map[string]*db.Opens),
	}
	c.keyers.New = func() any { return &keyer{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 256)} }
	return c
}

// Served counts that an answer for link linkID was served to r, whose
// client (after TRUSTED_PROXIES) is client — unless r is a HEAD or a
// prefetch, comes from a bot, or its client opened that link within
// Window. It costs no SQL; nothing of r is kept but a keyed hash.
func (c *Counter) Served(linkID string, r *http.Request, client netip.Addr) {
	if c == nil || linkID == "" || r.Method == http.MethodHead ||
		isPrefetch(r.Header.Get("Sec-Purpose")) || isPrefetch(r.Header.Get("Purpose")) || isPageRefresh(r) {
		return
	}
	ua := r.Header.Get("User-Agent")
	k := c.clientKey(client, ua, linkID)
	// The window starts at the first open (a repeat does not extend it),
	// and a bot's hash is remembered too, so the list is matched once per
	// bot, link and window.
	c.mu.Lock()
	_, seen := c.seen.Peek(k) // Contains would also see an expired hash not yet purged
	if !seen {
		c.seen.Add(k, struct{}{})
	}
	c.mu.Unlock()
	if seen || isBot(ua) {
		return
	}
	now := c.now()
	c.mu.Lock()
	p := c.pending[linkID]
	if p == nil {
		p = &db.Opens{LinkID: linkID, First: now}
		c.pending[linkID] = p
	}
	p.N++
	p.Last = now
	c.mu.Unlock()
}

// isPageRefresh: an open page following along (page/live.js) fetches
// itself again on each change, which is no new open. Browsers set
// Sec-Fetch-Dest themselves (a script cannot): "document" when a person
// opens the page, "empty" for a script's fetch.
func isPageRefresh(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Dest") == "empty" && strings.HasPrefix(r.URL.Path, "/t/")
}

// isPrefetch reads Sec-Purpose ("prefetch", "prefetch;prerender") and the
// older Purpose header.
func isPrefetch(v string) bool {
	return v != "" && strings.Contains(strings.ToLower(v), "prefetch")
}

// isBot: a link-preview bot or crawler by the maintained list; a request
// with no User-Agent at all is no browser either.
func isBot(ua string) bool {
	return strings.TrimSpace(ua) == "" || agents.IsCrawler(ua)
}

func (c *Counter) clientKey(client netip.Addr, ua, linkID string) clientKey {
	k := c.keyers.Get().(*keyer)
	a := client.Unmap().As16()
	k.buf = append(append(append(append(append(k.buf[:0], a[:]...), 0), linkID...), 0), ua...)
	k.mac.Reset()
	k.mac.Write(k.buf)
	var out clientKey
	copy(out[:], k.mac.Sum(k.sum[:0]))
	c.keyers.Put(k)
	return out
}

// keyer is a reusable HMAC and buffer: a warm request's hash allocates
// nothing.
type keyer struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// Pending is the number of opens not yet flushed, for tests.
func (c *Counter) Pending() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, p := range c.pending {
		n += p.N
	}
	return n
}

// Flush adds the pending counts to the database in one statement. Counts
// that fail to be written are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return nil
	}
	batch := make([]db.Opens, 0, len(c.pending))
	for _, p := range c.pending {
		batch = append(batch, *p)
	}
	clear(c.pending)
	c.mu.Unlock()
	if err := c.store.AddOpens(ctx, batch); err != nil {
		c.mu.Lock()
		for _, b := range batch {
			p := c.pending[b.LinkID]
			if p == nil {
				p = &db.Opens{LinkID: b.LinkID, First: b.First}
				c.pending[b.LinkID] = p
			}
			p.N += b.N
			p.First, p.Last = minTime(p.First, b.First), maxTime(p.Last, b.Last)
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every FlushInterval until ctx is done, then once more (with
// a few seconds to do it), so that no count is lost on shutdown.
func (c *Counter) Run(ctx context.Context) {
	if c == nil {
		return
	}
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("flush opens", "error", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.log.Error("flush opens on shutdown", "error", err)
			}
			cancel()
			return
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Hook is Served as an httpapi.Deps.OnServed hook, the client of each
// request given by client (httpapi.ClientAddr); nil for a nil Counter.
func (c *Counter) Hook(client func(*http.Request) netip.Addr) func(linkID string, r *http.Request) {
	if c == nil {
		return nil
	}
	return func(linkID string, r *http.Request) { c.Served(linkID, r, client(r)) }
}
