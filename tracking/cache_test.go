package tracking

import (
	"testing"

	"importops/db"
)

func link(org, vehicle string) *db.PublicLink {
	return &db.PublicLink{OrganizationID: org, VehicleID: vehicle}
}

// put stores what a read begun now found.
func put(c *cache, slug string, l *db.PublicLink) { c.put(slug, l, c.begin()) }

func cached(c *cache, slug string) bool {
	_, ok := c.get(slug)
	return ok
}

func TestCacheInvalidation(t *testing.T) {
	c := newCache(10)
	put(c, "s1", link("o1", "v1"))
	if cached(c, "s1") {
		t.Fatal("an off cache kept an entry")
	}
	c.setOn(true)
	put(c, "s1", link("o1", "v1"))
	put(c, "s2", link("o1", "v2"))
	put(c, "s3", link("o2", "v3"))
	if !cached(c, "s1") || !cached(c, "s2") || !cached(c, "s3") {
		t.Fatal("entries not kept")
	}

	c.invalidate(db.VehicleKey("v1"))
	if cached(c, "s1") || !cached(c, "s2") || !cached(c, "s3") {
		t.Fatal("vehicle:v1 must drop s1 only")
	}
	c.invalidate(db.OrgKey("o1"))
	if cached(c, "s2") || !cached(c, "s3") {
		t.Fatal("org:o1 must drop s2 only")
	}
	c.invalidate("something new")
	if cached(c, "s3") {
		t.Fatal("an unknown key must drop everything")
	}
	put(c, "s3", link("o2", "v3"))
	c.setOn(false)
	c.setOn(true)
	if cached(c, "s3") {
		t.Fatal("switching the cache off and on must empty it")
	}
	hits, misses := c.hits.Load(), c.misses.Load()
	if hits != 6 || misses != 5 {
		t.Fatalf("hits %d misses %d, want 6 and 5", hits, misses)
	}
}

// A read that began before a write must not store what it read; a read
// of something else may.
func TestCacheReadRacingAWrite(t *testing.T) {
	c := newCache(10)
	c.setOn(true)

	stale := c.begin()
	fresh := c.begin()
	c.invalidate(db.VehicleKey("v1"))
	c.put("s1", link("o1", "v1"), stale)
	if cached(c, "s1") {
		t.Fatal("a read begun before its vehicle was invalidated was kept")
	}
	c.put("s2", link("o1", "v2"), fresh)
	if !cached(c, "s2") {
		t.Fatal("a read of another vehicle was dropped")
	}

	before := c.begin()
	c.invalidate(db.OrgKey("o1"))
	after := c.begin()
	c.put("s1", link("o1", "v1"), before)
	if cached(c, "s1") {
		t.Fatal("a read begun before its organization was invalidated was kept")
	}
	c.put("s1", link("o1", "v1"), after)
	if !cached(c, "s1") {
		t.Fatal("a read begun after the invalidation was dropped")
	}

	before = c.begin()
	c.flush()
	c.put("s3", link("o3", "v3"), before)
	if cached(c, "s3") {
		t.Fatal("a read begun before a flush was kept")
	}
	before = c.begin()
	c.setOn(false)
	c.setOn(true)
	c.put("s3", link("o3", "v3"), before)
	if cached(c, "s3") {
		t.Fatal("a read begun before the cache switched was kept")
	}
	if c.reading != 0 || len(c.changed) != 0 {
		t.Fatalf("reads in flight %d, changed keys kept %d; want 0 and 0", c.reading, len(c.changed))
	}
}

func TestCacheEvictionKeepsIndexes(t *testing.T) {
	c := newCache(2)
	c.setOn(true)
	put(c, "s1", link("o1", "v1"))
	put(c, "s2", link("o1", "v2"))
	put(c, "s3", link("o1", "v3")) // evicts s1
	if cached(c, "s1") || c.len() != 2 {
		t.Fatalf("LRU bound not kept: %d entries", c.len())
	}
	if _, ok := c.byVehicle["v1"]; ok {
		t.Fatal("an evicted entry is still indexed")
	}
	if n := len(c.byOrg["o1"]); n != 2 {
		t.Fatalf("org index holds %d slugs, want 2", n)
	}
	c.invalidate(db.OrgKey("o1"))
	if c.len() != 0 || len(c.byOrg) != 0 || len(c.byVehicle) != 0 {
		t.Fatal("indexes not emptied with the cache")
	}
}

func TestWithAppName(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@h:5432/d?sslmode=disable":                     "postgres://u@h:5432/d?application_name=n&sslmode=disable",
		"postgres://u@h/d?application_name=mine":                    "postgres://u@h/d?application_name=mine",
		"host=h dbname=d":                                           "host=h dbname=d application_name=n",
		"host=h application_name=mine":                              "host=h application_name=mine",
		"postgresql://u@h/d":                                        "postgresql://u@h/d?application_name=n",
		"postgres://u:p%40ss@h/d?sslmode=disable&connect_timeout=5": "postgres://u:p%40ss@h/d?application_name=n&connect_timeout=5&sslmode=disable",
	} {
		if got := withAppName(in, "n"); got != want {
			t.Errorf("withAppName(%q) = %q, want %q", in, got, want)
		}
	}
}
