package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"importops/domain"
)

// fakes are fetchers over made-up data that count their calls.
type fakes struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *fakes) count(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[name]++
}

func ptr(s string) *string { return &s }

func (f *fakes) fetchers() fetchers {
	return fetchers{
		customers: func(_ context.Context, ids []string) ([]*domain.Customer, error) {
			f.count("customers")
			var out []*domain.Customer
			for i := len(ids) - 1; i >= 0; i-- { // any order, some missing
				if ids[i] != "missing" {
					out = append(out, &domain.Customer{ID: ids[i]})
				}
			}
			return out, nil
		},
		users: func(_ context.Context, ids []string) ([]*domain.User, error) {
			f.count("users")
			var out []*domain.User
			for _, id := range ids {
				out = append(out, &domain.User{ID: id})
			}
			return out, nil
		},
		photos: func(_ context.Context, ids []string) ([]*domain.Photo, error) {
			f.count("photos")
			var out []*domain.Photo
			for _, id := range ids {
				out = append(out, &domain.Photo{ID: id})
			}
			return out, nil
		},
		vehiclePhotos: func(_ context.Context, ids []string) (map[string][]domain.Photo, error) {
			f.count("vehiclePhotos")
			return map[string][]domain.Photo{ids[0]: {{ID: "p"}}}, nil
		},
		notes: func(_ context.Context, ids []string) (map[string][]domain.Note, error) {
			f.count("notes")
			m := map[string][]domain.Note{}
			for _, id := range ids {
				m[id] = []domain.Note{{ID: "n-" + id, AuthorID: ptr("author-" + id)}}
			}
			return m, nil
		},
		costs: func(_ context.Context, ids []string) (map[string][]domain.CostItem, error) {
			f.count("costs")
			return nil, nil
		},
		payments: func(_ context.Context, ids []string) (map[string][]domain.Payment, error) {
			f.count("payments")
			return nil, nil
		},
		links: func(_ context.Context, ids []string) (map[string]*domain.TrackingLink, error) {
			f.count("links")
			m := map[string]*domain.TrackingLink{}
			for _, id := range ids {
				m[id] = &domain.TrackingLink{ID: "l-" + id, CreatedByID: ptr("creator"), PhotoIDs: []string{"lp-" + id}}
			}
			return m, nil
		},
	}
}

func TestByIDAnswersEveryKeyInOrder(t *testing.T) {
	f := &fakes{calls: map[string]int{}}
	l := newLoaders(f.fetchers())
	keys := []string{"c1", "missing", "c2", "c3"}
	got, errs := l.Customer.LoadMany(context.Background(), keys)()
	if len(got) != len(keys) || errs != nil {
		t.Fatalf("got %d results (%v) for %d keys", len(got), errs, len(keys))
	}
	for i, k := range keys {
		switch {
		case k == "missing" && got[i] != nil:
			t.Fatalf("missing key answered %+v, want nil", got[i])
		case k != "missing" && (got[i] == nil || got[i].ID != k):
			t.Fatalf("key %d (%s) answered %+v", i, k, got[i])
		}
	}
}

// Priming costs one read per kind whatever the number of vehicles, and
// the fields then resolve without reading.
func TestPrimeVehiclesReadsEachKindOnce(t *testing.T) {
	for _, n := range []int{1, 10, 100} {
		f := &fakes{calls: map[string]int{}}
		l := newLoaders(f.fetchers())
		ctx := context.Background()
		var vehicles []*domain.Vehicle
		for i := range n {
			id := fmt.Sprint("v", i)
			vehicles = append(vehicles, &domain.Vehicle{ID: id, CustomerID: ptr("c-" + id), HeroPhotoID: ptr("hero-" + id)})
		}
		all := VehicleFields{Customer: true, HeroPhoto: true, Photos: true, Notes: true, NoteAuthors: true,
			Costs: true, Payments: true, TrackingLink: true, LinkPhotos: true, LinkCreatedBy: true}
		l.PrimeVehicles(ctx, vehicles, all)
		for _, kind := range []string{"customers", "users", "photos", "vehiclePhotos", "notes", "costs", "payments", "links"} {
			if f.calls[kind] != 1 {
				t.Fatalf("n=%d: %s read %d times, want 1", n, kind, f.calls[kind])
			}
		}
		for _, v := range vehicles {
			if c, _ := l.Customer.Load(ctx, *v.CustomerID)(); c == nil {
				t.Fatal("customer not primed")
			}
			if p, _ := l.Photo.Load(ctx, *v.HeroPhotoID)(); p == nil {
				t.Fatal("hero photo not primed")
			}
			if p, _ := l.Photo.Load(ctx, "lp-"+v.ID)(); p == nil {
				t.Fatal("link photo not primed")
			}
			if u, _ := l.User.Load(ctx, "author-"+v.ID)(); u == nil {
				t.Fatal("note author not primed")
			}
			if c, _ := l.Costs.Load(ctx, v.ID)(); c != nil {
				t.Fatal("a vehicle without costs must load none")
			}
		}
		if u, _ := l.User.Load(ctx, "creator")(); u == nil {
			t.Fatal("link creator not primed")
		}
		for kind, c := range f.calls {
			if c != 1 {
				t.Fatalf("n=%d: %s read %d times after the fields resolved, want 1", n, kind, c)
			}
		}
	}
}

// Each answers like LoadMany: every key in order, the keys not cached in
// one read, a primed key without reading, and an error on its own key.
func TestEachAnswersEveryKeyInOneBatch(t *testing.T) {
	f := &fakes{calls: map[string]int{}}
	l := newLoaders(f.fetchers())
	ctx := context.Background()
	l.Photo.Prime(ctx, "primed", &domain.Photo{ID: "primed"})
	keys := []string{"p1", "primed", "p2", "p1"}
	got, errs := Each(ctx, l.Photo, keys)
	if len(got) != len(keys) || errs != nil {
		t.Fatalf("got %d results (%v) for %d keys", len(got), errs, len(keys))
	}
	for i, k := range keys {
		if got[i] == nil || got[i].ID != k {
			t.Fatalf("key %d (%s) answered %+v", i, k, got[i])
		}
	}
	if f.calls["photos"] != 1 {
		t.Fatalf("photos read %d times, want 1", f.calls["photos"])
	}
	if got, errs := Each(ctx, l.Photo, []string{"primed"}); len(got) != 1 || errs != nil || f.calls["photos"] != 1 {
		t.Fatalf("a primed key: %v, %v after %d reads, want it without reading", got, errs, f.calls["photos"])
	}

	fs := f.fetchers()
	fs.photos = func(context.Context, []string) ([]*domain.Photo, error) { return nil, errors.New("down") }
	l = newLoaders(fs)
	l.Photo.Prime(ctx, "primed", &domain.Photo{ID: "primed"})
	got, errs = Each(ctx, l.Photo, []string{"primed", "p1"})
	if len(errs) != 2 || errs[0] != nil || errs[1] == nil || got[0] == nil {
		t.Fatalf("a failed read: %v, %v; want the error on p1 alone", got, errs)
	}
}
