package tracking

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"importops/db"
)

// Lookups that arrive while statements run share the next one; each gets
// its own slug's link, or nil.
func TestBatcherCoalescesConcurrentLookups(t *testing.T) {
	release := make(chan struct{})
	var statements, taken atomic.Int32
	b := &batcher{load: func(ctx context.Context, slugs []string) (map[string]*db.PublicLink, error) {
		statements.Add(1)
		taken.Add(int32(len(slugs)))
		<-release
		out := map[string]*db.PublicLink{}
		for _, s := range slugs {
			if !strings.HasPrefix(s, "unknown") {
				out[s] = &db.PublicLink{Slug: s}
			}
		}
		return out, nil
	}}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			slug := fmt.Sprintf("slug-%d", i)
			if i%5 == 0 {
				slug = fmt.Sprintf("unknown-%d", i)
			}
			l, err := b.get(context.Background(), slug)
			switch {
			case err != nil:
				errs <- err
			case i%5 == 0 && l != nil, i%5 != 0 && (l == nil || l.Slug != slug):
				errs <- fmt.Errorf("lookup of %s got %+v", slug, l)
			}
		})
	}
	// Every lookup is in a running statement or queued behind them.
	for {
		b.mu.Lock()
		queued := len(b.pending)
		b.mu.Unlock()
		if queued+int(taken.Load()) == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := statements.Load(); got >= n/2 {
		t.Errorf("%d statements for %d concurrent lookups, want them coalesced", got, n)
	}
}

// A panic in a statement fails its lookups, not the process.
func TestBatcherPanicIsAnError(t *testing.T) {
	b := &batcher{load: func(context.Context, []string) (map[string]*db.PublicLink, error) {
		var s *db.Store
		return s.PublicLinks(context.Background(), nil) // nil store
	}}
	if _, err := b.get(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
}
