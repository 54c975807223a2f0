package tracking

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"importops/db"
)

// batcher coalesces concurrent lookups of different slugs into one
// statement (db.Store.PublicLinks, slug = ANY($1)): a lookup that finds
// fewer than maxInFlight statements running starts one at once, so a lone
// miss waits for nothing; lookups that arrive while they all run share the
// next one. A miss thus costs at most one statement, and under load much
// less than one.
type batcher struct {
	load func(ctx context.Context, slugs []string) (map[string]*db.PublicLink, error)

	mu       sync.Mutex
	pending  []*pendingLookup
	inFlight int
}

const (
	// maxInFlight bounds the lookup statements running at once, below
	// the pool's size, so other queries still find a connection.
	maxInFlight = 2
	// maxBatch bounds the slugs of one statement.
	maxBatch = 128
)

type pendingLookup struct {
	slug string
	done chan struct{}
	link *db.PublicLink
	err  error
}

// get is what the database holds for slug (nil: no such link). The
// statement runs detached from ctx, bounded by loadTimeout: it serves
// other lookups too.
func (b *batcher) get(ctx context.Context, slug string) (*db.PublicLink, error) {
	p := &pendingLookup{slug: slug, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, p)
	if b.inFlight < maxInFlight {
		b.inFlight++
		go b.run()
	}
	b.mu.Unlock()
	select {
	case <-p.done:
		return p.link, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run runs statements for the pending lookups until there are none.
func (b *batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxBatch)
		if n == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil // let the backing array go
		}
		b.mu.Unlock()

		slugs := make([]string, len(batch))
		for i, p := range batch {
			slugs[i] = p.slug
		}
		links, err := b.loadSafely(slugs)
		for _, p := range batch {
			p.link, p.err = links[p.slug], err
			close(p.done)
		}
	}
}

// loadSafely runs one statement; a panic (a bug) fails the batch's
// lookups with an error that carries it and its stack, rather than the
// process: it runs on no request's goroutine.
func (b *batcher) loadSafely(slugs []string) (links map[string]*db.PublicLink, err error) {
	defer func() {
		if p := recover(); p != nil {
			links, err = nil, fmt.Errorf("public lookup panicked: %v\n%s", p, debug.Stack())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	return b.load(ctx, slugs)
}
