package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"importops/db"
	"importops/domain"
)

// The vehicle list at scale: an organization of 20,000 vehicles beside one
// of 60, seeded in SQL. Every page, count and search is planned on an
// index, never a sequential scan of vehicles, and reads what it returns,
// not what comes before it.

const (
	bigVehicles   = 20000
	smallVehicles = 60
)

type scaleOrgs struct {
	big, small string
	// A vehicle of big near the end of its list, and its list position.
	nearEndID   string
	nearEndAt   time.Time
	nearEndRank int // vehicles of big listed before it (newest first)
	// An exact VIN and stock number of one vehicle of big.
	vin, stock string
}

var (
	seedOnce sync.Once
	seeded   scaleOrgs
	seedErr  error
)

// seedScale fills the package database once; the tests only read it.
func seedScale(t *testing.T) scaleOrgs {
	t.Helper()
	seedOnce.Do(func() { seeded, seedErr = seed(context.Background()) })
	if seedErr != nil {
		t.Fatalf("seed: %v", seedErr)
	}
	return seeded
}

func seed(ctx context.Context) (scaleOrgs, error) {
	var o scaleOrgs
	err := testDB.QueryRowxContext(ctx, `WITH b AS (INSERT INTO organizations (name, country) VALUES ('Big Imports', 'NZ') RETURNING id),
		s AS (INSERT INTO organizations (name, country) VALUES ('Small Imports', 'NZ') RETURNING id)
		SELECT b.id, s.id FROM b, s`).Scan(&o.big, &o.small)
	if err != nil {
		return o, err
	}
	// One customer per ten vehicles; a vehicle a minute, the newest first;
	// makes and models that repeat, VINs and stock numbers that do not;
	// every 50th vehicle deleted (the lists skip those).
	_, err = testDB.ExecContext(ctx, `
		INSERT INTO customers (organization_id, name)
		SELECT o.id, (ARRAY['Aroha','Ben','Chloe','Dmitri','Emi','Farah','Grace','Hiro'])[1 + g % 8] || ' ' ||
		       (ARRAY['Ngata','Smith','Tanaka','Patel','Nguyen','Brown','Walker','Kim','Singh'])[1 + g % 9] || ' ' || g
		FROM (VALUES ($1::uuid, $3::int), ($2::uuid, $4::int)) o(id, n), generate_series(1, o.n / 10) g`,
		o.big, o.small, bigVehicles, smallVehicles)
	if err != nil {
		return o, err
	}
	_, err = testDB.ExecContext(ctx, `
		WITH c AS (SELECT organization_id, array_agg(id ORDER BY id) AS ids FROM customers
		           WHERE organization_id IN ($1, $2) GROUP BY organization_id)
		INSERT INTO vehicles (organization_id, year, make, model, vin, stock_number, customer_id, stage, created_at, deleted_at)
		SELECT o.id, 1990 + g % 35,
		       (ARRAY['Toyota','Nissan','Mazda','Honda','Subaru','Mitsubishi','Suzuki','Lexus'])[1 + g % 8],
		       (ARRAY['Land Cruiser','Skyline','MX-5','Fit','Legacy','Pajero','Jimny','RX 450h','Hilux','Leaf'])[1 + g % 10],
		       upper(substr(md5(o.id::text || g), 1, 17)), 'STK-' || g,
		       c.ids[1 + g % cardinality(c.ids)],
		       (ARRAY['PURCHASED','IN_TRANSIT','ARRIVED','DELIVERED'])[1 + g % 4],
		       timestamptz '2026-01-01' - g * interval '1 minute',
		       CASE WHEN g % 50 = 0 THEN timestamptz '2026-06-01' END
		FROM (VALUES ($1::uuid, $3::int), ($2::uuid, $4::int)) o(id, n)
		JOIN c ON c.organization_id = o.id, generate_series(1, o.n) g`,
		o.big, o.small, bigVehicles, smallVehicles)
	if err != nil {
		return o, err
	}
	// As autovacuum and autoanalyze would after a bulk load: statistics
	// for the planner, and the visibility map for index-only counts.
	if _, err := testDB.ExecContext(ctx, `VACUUM ANALYZE vehicles, vehicle_titles, customers`); err != nil {
		return o, err
	}
	err = testDB.QueryRowxContext(ctx, `SELECT id, created_at, vin, stock_number,
		(SELECT count(*) FROM vehicles x WHERE x.organization_id = v.organization_id AND x.deleted_at IS NULL AND x.created_at > v.created_at)
		FROM vehicles v WHERE organization_id = $1 AND stock_number = 'STK-19901'`, o.big).
		Scan(&o.nearEndID, &o.nearEndAt, &o.vin, &o.stock, &o.nearEndRank)
	return o, err
}

// plan is a node of EXPLAIN (FORMAT JSON).
type plan struct {
	NodeType     string  `json:"Node Type"`
	RelationName string  `json:"Relation Name"`
	IndexName    string  `json:"Index Name"`
	ActualRows   float64 `json:"Actual Rows"`
	ActualLoops  float64 `json:"Actual Loops"`
	Filtered     float64 `json:"Rows Removed by Filter"`
	Rechecked    float64 `json:"Rows Removed by Index Recheck"`
	Plans        []plan  `json:"Plans"`
}

func (p plan) walk(fn func(plan)) {
	fn(p)
	for _, c := range p.Plans {
		c.walk(fn)
	}
}

func (p plan) String() string {
	var b strings.Builder
	var show func(plan, int)
	show = func(p plan, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s (rows %.0f, loops %.0f)\n", strings.Repeat("  ", depth), p.NodeType, p.RelationName, p.IndexName, p.ActualRows, p.ActualLoops)
		for _, c := range p.Plans {
			show(c, depth+1)
		}
	}
	show(p, 0)
	return b.String()
}

// explain runs the statement under EXPLAIN ANALYZE and returns its plan.
func explain(t *testing.T, query string, args []any) plan {
	t.Helper()
	var out string
	if err := testDB.GetContext(context.Background(), &out, "EXPLAIN (ANALYZE, FORMAT JSON) "+query, args...); err != nil {
		t.Fatalf("explain: %v\n%s", err, query)
	}
	var plans []struct{ Plan plan }
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("explain output: %v\n%s", err, out)
	}
	return plans[0].Plan
}

// checkPlan fails when the plan scans vehicles sequentially, or runs none
// of the indexes in want.
func checkPlan(t *testing.T, p plan, want ...string) {
	t.Helper()
	used := false
	p.walk(func(n plan) {
		if n.NodeType == "Seq Scan" && n.RelationName == "vehicles" {
			t.Errorf("sequential scan of vehicles:\n%s", p)
		}
		if slices.Contains(want, n.IndexName) && n.ActualLoops > 0 {
			used = true
		}
	})
	if !used {
		t.Errorf("none of the indexes %v is used:\n%s", want, p)
	}
}

// vehicleRowsRead is the most rows any scan of vehicles read: those it
// returned and those its filter or an index recheck removed.
func vehicleRowsRead(p plan) float64 {
	var most float64
	p.walk(func(n plan) {
		if read := (n.ActualRows + n.Filtered + n.Rechecked) * max(n.ActualLoops, 1); n.RelationName == "vehicles" && read > most {
			most = read
		}
	})
	return most
}

func ptr[T any](v T) *T { return &v }

func TestVehicleListPlansAt20000(t *testing.T) {
	o := seedScale(t)
	t.Parallel()
	nearEnd := db.VehicleCursor(o.nearEndAt, o.nearEndID)
	transit := domain.Stage("IN_TRANSIT")

	for _, tc := range []struct {
		name     string
		org      string
		after    *string
		filter   db.VehicleFilter
		pageIdx  []string
		countIdx []string
		// The count reads vehicle_counts (one row per stage), not vehicles.
		countFromCounts bool
		// The count of a search matched by title sums vehicle_titles and
		// reads no vehicle: none of the organization's matches is by VIN,
		// stock number or customer name, and the other organizations'
		// matches (the vehicles of TestVehicleCountsFollowTheVehicles) are
		// not in its part of the index. Counting the matches read about
		// 2,450.
		countByTitles bool
	}{
		{name: "first page", org: o.big, pageIdx: []string{"vehicles_page_idx"},
			countFromCounts: true},
		{name: "page near the end", org: o.big, after: &nearEnd, pageIdx: []string{"vehicles_page_idx"},
			countFromCounts: true},
		{name: "one stage", org: o.big, filter: db.VehicleFilter{Stage: &transit}, pageIdx: []string{"vehicles_stage_page_idx"},
			countFromCounts: true},
		{name: "one stage near the end", org: o.big, after: &nearEnd, filter: db.VehicleFilter{Stage: &transit},
			pageIdx: []string{"vehicles_stage_page_idx"}, countFromCounts: true},
		{name: "search by exact VIN", org: o.big, filter: db.VehicleFilter{Search: ptr(strings.ToLower(o.vin))},
			pageIdx: []string{"vehicles_vin_idx"}, countIdx: []string{"vehicles_vin_idx"}},
		{name: "search by exact stock number", org: o.big, filter: db.VehicleFilter{Search: ptr(" " + strings.ToLower(o.stock))},
			pageIdx: []string{"vehicles_stock_number_idx"}, countIdx: []string{"vehicles_stock_number_idx"}},
		// A common match is found soonest by walking the list in order.
		{name: "search by part of a make", org: o.big, filter: db.VehicleFilter{Search: ptr("toyo")},
			pageIdx: []string{"vehicles_title_trgm", "vehicles_page_idx"}, countIdx: []string{"vehicles_ident_trgm"}, countByTitles: true},
		{name: "search by part of a VIN", org: o.big, filter: db.VehicleFilter{Search: ptr(o.vin[3:12])},
			pageIdx: []string{"vehicles_ident_trgm"}, countIdx: []string{"vehicles_ident_trgm"}},
		{name: "search by customer name", org: o.big, filter: db.VehicleFilter{Search: ptr("Aroha Ngata")},
			pageIdx: []string{"vehicles_customer_idx"}, countIdx: []string{"vehicles_customer_idx"}},
		{name: "search with stage and cursor", org: o.big, after: &nearEnd, filter: db.VehicleFilter{Stage: &transit, Search: ptr("hilux")},
			pageIdx: []string{"vehicles_title_trgm", "vehicles_stage_page_idx"}, countIdx: []string{"vehicles_ident_trgm", "vehicles_stage_page_idx", "vehicles_count_idx"},
			countByTitles: true},
		{name: "small organization's search", org: o.small, filter: db.VehicleFilter{Search: ptr("toyo")},
			pageIdx: []string{"vehicles_title_trgm", "vehicles_page_idx"}, countIdx: []string{"vehicles_ident_trgm", "vehicles_page_idx", "vehicles_count_idx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, pageArgs, count, countArgs, err := db.VehicleListSQL(tc.org, ptr(50), tc.after, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, explain(t, page, pageArgs), tc.pageIdx...)
			cp := explain(t, count, countArgs)
			if !tc.countFromCounts {
				checkPlan(t, cp, tc.countIdx...)
				if r := vehicleRowsRead(cp); tc.countByTitles && r > 0 {
					t.Errorf("the count reads %.0f rows of vehicles, want none (the titles count them):\n%s", r, cp)
				}
				return
			}
			cp.walk(func(n plan) {
				if n.RelationName == "vehicles" {
					t.Errorf("the count reads vehicles:\n%s", cp)
				}
				if read := (n.ActualRows + n.Filtered) * max(n.ActualLoops, 1); n.RelationName == "vehicle_counts" && read > 8 {
					t.Errorf("the count reads %.0f rows of vehicle_counts, want at most one per stage (8):\n%s", read, cp)
				}
			})
		})
	}

	t.Run("a page near the end reads no more rows than the first", func(t *testing.T) {
		t.Parallel()
		for name, f := range map[string]db.VehicleFilter{"every stage": {}, "IN_TRANSIT": {Stage: &transit}} {
			first, firstArgs, _, _, err := db.VehicleListSQL(o.big, ptr(50), nil, f)
			if err != nil {
				t.Fatal(err)
			}
			last, lastArgs, _, _, err := db.VehicleListSQL(o.big, ptr(50), &nearEnd, f)
			if err != nil {
				t.Fatal(err)
			}
			fp, lp := explain(t, first, firstArgs), explain(t, last, lastArgs)
			// The page and the row that tells whether another follows.
			if r := vehicleRowsRead(fp); r > 51 {
				t.Errorf("%s: the first page reads %.0f rows of vehicles, want at most 51:\n%s", name, r, fp)
			}
			if r := vehicleRowsRead(lp); r > 51 {
				t.Errorf("%s: a page near the end reads %.0f rows of vehicles, want at most 51 (an OFFSET reads all before it):\n%s", name, r, lp)
			}
		}
	})

	t.Run("an exact VIN never runs the trigram search", func(t *testing.T) {
		t.Parallel()
		page, args, _, _, err := db.VehicleListSQL(o.big, ptr(50), nil, db.VehicleFilter{Search: &o.vin})
		if err != nil {
			t.Fatal(err)
		}
		p := explain(t, page, args)
		p.walk(func(n plan) {
			if (n.IndexName == "vehicles_title_trgm" || n.IndexName == "vehicles_ident_trgm") && n.ActualLoops > 0 {
				t.Errorf("the trigram index was scanned for an exact VIN:\n%s", p)
			}
		})
	})
}

// What the list answers at scale, through the store.
func TestVehicleListAt20000(t *testing.T) {
	o := seedScale(t)
	t.Parallel()
	store := db.NewStore(testDB)
	ctx := context.Background()
	list := func(t *testing.T, org string, after *string, f db.VehicleFilter, withCount bool) *db.VehiclePage {
		t.Helper()
		p, err := store.Vehicles(ctx, org, ptr(50), after, f, withCount, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	total := func(t *testing.T, p *db.VehiclePage) int {
		t.Helper()
		n, err := p.TotalCount()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	live := bigVehicles - bigVehicles/50

	t.Run("totalCount is counted only when asked for", func(t *testing.T) {
		p := list(t, o.big, nil, db.VehicleFilter{}, true)
		if n, err := p.TotalCount(); err != nil || n != live || len(p.Vehicles) != 50 || !p.HasNextPage {
			t.Errorf("with count: totalCount %d (%v), %d vehicles, hasNextPage %v; want %d, 50, true", n, err, len(p.Vehicles), p.HasNextPage, live)
		}
		p = list(t, o.big, nil, db.VehicleFilter{}, false)
		if n, err := p.TotalCount(); err != nil || n != 0 || len(p.Vehicles) != 50 {
			t.Errorf("without count: totalCount %d (%v), %d vehicles; want 0 (not counted), 50", n, err, len(p.Vehicles))
		}
	})

	t.Run("the page after a cursor near the end starts right after it", func(t *testing.T) {
		cur := db.VehicleCursor(o.nearEndAt, o.nearEndID)
		p := list(t, o.big, &cur, db.VehicleFilter{}, true)
		wantLen := min(50, live-o.nearEndRank-1)
		if len(p.Vehicles) != wantLen || total(t, p) != live {
			t.Fatalf("page after rank %d: %d vehicles, totalCount %d; want %d, %d", o.nearEndRank, len(p.Vehicles), total(t, p), wantLen, live)
		}
		prev := o.nearEndAt
		for _, v := range p.Vehicles {
			if !v.CreatedAt.Before(prev) {
				t.Fatalf("page not in list order after the cursor: %v then %v", prev, v.CreatedAt)
			}
			prev = v.CreatedAt
		}
		// The next vehicle of the list is one minute older, or two when the
		// one between is deleted.
		if gap := o.nearEndAt.Sub(p.Vehicles[0].CreatedAt); gap != time.Minute && gap != 2*time.Minute {
			t.Errorf("the page starts %v after the cursor, want the next vehicle", gap)
		}
	})

	t.Run("an exact VIN or stock number lists that vehicle alone", func(t *testing.T) {
		for _, s := range []string{o.vin, strings.ToLower(o.vin), o.stock, strings.ToLower(o.stock)} {
			p := list(t, o.big, nil, db.VehicleFilter{Search: ptr(s)}, true)
			if len(p.Vehicles) != 1 || p.Vehicles[0].ID != o.nearEndID || total(t, p) != 1 {
				t.Errorf("search %q: %d vehicles, totalCount %d; want only %s", s, len(p.Vehicles), total(t, p), o.nearEndID)
			}
		}
		// "STK-1990" names a vehicle exactly, though "STK-19901" contains it.
		p := list(t, o.big, nil, db.VehicleFilter{Search: ptr("STK-1990")}, true)
		if len(p.Vehicles) != 1 || total(t, p) != 1 || *p.Vehicles[0].StockNumber != "STK-1990" {
			t.Errorf("search STK-1990: %d vehicles, totalCount %d; want the one vehicle STK-1990", len(p.Vehicles), total(t, p))
		}
	})

	t.Run("a partial search finds every match, in the organization only", func(t *testing.T) {
		// Toyota is every eighth vehicle; every 50th is deleted.
		var want int
		if err := testDB.GetContext(ctx, &want, `SELECT count(*) FROM vehicles WHERE organization_id = $1
			AND deleted_at IS NULL AND make = 'Toyota'`, o.big); err != nil {
			t.Fatal(err)
		}
		p := list(t, o.big, nil, db.VehicleFilter{Search: ptr("toyo")}, true)
		if total(t, p) != want || len(p.Vehicles) != 50 {
			t.Errorf("toyo: totalCount %d, %d vehicles; want %d, 50", total(t, p), len(p.Vehicles), want)
		}
		for _, v := range p.Vehicles {
			if v.Make != "Toyota" || v.OrganizationID != o.big {
				t.Errorf("toyo lists %s %s of %s", v.Make, v.Model, v.OrganizationID)
			}
		}
		if p := list(t, o.small, nil, db.VehicleFilter{Search: ptr("toyo")}, true); total(t, p) == 0 || total(t, p) > smallVehicles/8+1 {
			t.Errorf("toyo in the small organization: totalCount %d, want its own few", total(t, p))
		}
	})
}
