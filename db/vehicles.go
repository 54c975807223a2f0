package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"importops/domain"
)

type vehicleRow struct {
	ID                string              `db:"id"`
	OrganizationID    string              `db:"organization_id"`
	Year              int                 `db:"year"`
	Make              string              `db:"make"`
	Model             string              `db:"model"`
	VIN               *string             `db:"vin"`
	StockNumber       *string             `db:"stock_number"`
	CustomerID        *string             `db:"customer_id"`
	Stage             string              `db:"stage"`
	EstimatedArrival  *domain.Date        `db:"estimated_arrival"`
	HeroPhotoID       *string             `db:"hero_photo_id"`
	SalePriceAmount   decimal.NullDecimal `db:"sale_price_amount"`
	SalePriceCurrency *string             `db:"sale_price_currency"`
	CreatedAt         time.Time           `db:"created_at"`
	UpdatedAt         time.Time           `db:"updated_at"`
}

func (r vehicleRow) toDomain() *domain.Vehicle {
	v := &domain.Vehicle{
		ID: r.ID, OrganizationID: r.OrganizationID, Year: r.Year, Make: r.Make, Model: r.Model,
		VIN: r.VIN, StockNumber: r.StockNumber, CustomerID: r.CustomerID,
		Stage: domain.Stage(r.Stage), EstimatedArrival: r.EstimatedArrival, HeroPhotoID: r.HeroPhotoID,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.SalePriceAmount.Valid && r.SalePriceCurrency != nil {
		m := scaled(r.SalePriceAmount.Decimal, *r.SalePriceCurrency)
		v.AgreedSalePrice = &m
	}
	return v
}

const vehicleColumns = `id, organization_id, year, make, model, vin, stock_number, customer_id, stage,
	estimated_arrival, hero_photo_id, sale_price_amount, sale_price_currency, created_at, updated_at`

const (
	// No row when the customer $7 is not the organization's: the check and
	// the insert are one statement, the function create_vehicle
	// (migration 0010), planned once per connection.
	sqlInsertVehicle = `SELECT ` + vehicleColumns + `
		FROM create_vehicle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	sqlVehicle = `SELECT ` + vehicleColumns + ` FROM vehicles
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`
	sqlVehicleForUpdate = sqlVehicle + ` FOR UPDATE`
	sqlUpdateVehicle    = `UPDATE vehicles SET year = $3, make = $4, model = $5, vin = $6, stock_number = $7,
		customer_id = $8, stage = $9, estimated_arrival = $10, sale_price_amount = $11,
		sale_price_currency = $12, updated_at = now()
		WHERE organization_id = $1 AND id = $2 RETURNING ` + vehicleColumns
	sqlDeleteVehicle = `UPDATE vehicles SET deleted_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`
	sqlSetHero = `UPDATE vehicles SET hero_photo_id = $3, updated_at = now()
		WHERE organization_id = $1 AND id = $2 RETURNING ` + vehicleColumns
	sqlPhotoOfVehicle = `SELECT EXISTS (SELECT 1 FROM photos WHERE vehicle_id = $1 AND id = $2)`
	sqlVehiclesByIDs  = `SELECT ` + vehicleColumns + ` FROM vehicles
		WHERE organization_id = $1 AND id = ANY($2) AND deleted_at IS NULL`
)

// The vehicle list. Every statement is served by an index of migration
// 0007 (held by db/vehicles_plan_test.go): pages walk vehicles_page_idx
// (or vehicles_stage_page_idx) from the cursor on, by keyset, so the last
// page costs what the first does; a count without a search reads
// vehicle_counts (migration 0011); a search is answered by the VIN and
// stock number indexes when the text is exactly one, and otherwise by the
// trigram indexes. Its count sums the matching titles of vehicle_titles
// (migration 0012) and reads only the vehicles no matching title accounts
// for: those matched by VIN, stock number or customer name alone.
const (
	vehicleColumnsV = `v.id, v.organization_id, v.year, v.make, v.model, v.vin, v.stock_number, v.customer_id,
	v.stage, v.estimated_arrival, v.hero_photo_id, v.sale_price_amount, v.sale_price_currency, v.created_at, v.updated_at`

	// $1 organization, $2 stage (NULL: any).
	vehicleListed = `v.organization_id = $1 AND v.deleted_at IS NULL AND ($2::text IS NULL OR v.stage = $2)`
	// $4 the search text: exactly a VIN (stored upper case) or stock number.
	vehicleExact = `(v.vin = upper($4) OR lower(v.stock_number) = lower($4))`
	// $3 the search as a "contains" pattern: the title, or VIN or stock
	// number (search_title and search_ident, lower case, of migration
	// 0012), or customer name.
	vehicleMatch = `(v.search_title LIKE lower($3) OR ` + vehicleOtherMatch + `)`
	// A match other than by title.
	vehicleOtherMatch = `v.search_ident LIKE lower($3)
		OR v.customer_id = ANY (ARRAY(SELECT c.id FROM customers c WHERE c.organization_id = $1 AND c.name ILIKE $3))`
	// The vehicles exactly named by $4; when there are any, they are the
	// whole answer and the trigram search is never run.
	vehicleExactCTE = `WITH exact AS MATERIALIZED (SELECT ` + vehicleColumnsV + ` FROM vehicles v
		WHERE ` + vehicleListed + ` AND ` + vehicleExact + `) `
	vehicleOrder = ` ORDER BY created_at DESC, id DESC`

	// Newest first, after the cursor ($3, $4); $5 the limit.
	sqlVehiclePage = `SELECT ` + vehicleColumnsV + ` FROM vehicles v WHERE ` + vehicleListed + `
		AND ($3::timestamptz IS NULL OR (v.created_at, v.id) < ($3, $4::uuid))` + vehicleOrder + ` LIMIT $5`
	// The live vehicles of the organization (of stage $2, or of every
	// stage), as the trigger of migration 0011 keeps them: one row per
	// stage, however many vehicles.
	sqlVehicleCount = `SELECT COALESCE(sum(live), 0) FROM vehicle_counts
		WHERE organization_id = $1 AND ($2::text IS NULL OR stage = $2)`

	// As sqlVehiclePage, of the vehicles a search finds; the cursor is
	// ($5, $6), $7 the limit.
	sqlVehicleSearchPage = vehicleExactCTE + `
		(SELECT ` + vehicleColumnsV + ` FROM exact v
		  WHERE ($5::timestamptz IS NULL OR (v.created_at, v.id) < ($5, $6::uuid))` + vehicleOrder + ` LIMIT $7)
		UNION ALL
		(SELECT ` + vehicleColumnsV + ` FROM vehicles v
		  WHERE ` + vehicleListed + ` AND NOT EXISTS (SELECT 1 FROM exact) AND ` + vehicleMatch + `
		    AND ($5::timestamptz IS NULL OR (v.created_at, v.id) < ($5, $6::uuid))` + vehicleOrder + ` LIMIT $7)` +
		vehicleOrder + ` LIMIT $7`
	sqlVehicleSearchCount = vehicleExactCTE + `
		SELECT CASE WHEN EXISTS (SELECT 1 FROM exact) THEN (SELECT count(*) FROM exact)
		  ELSE (SELECT COALESCE(sum(t.live), 0) FROM vehicle_titles t
		          WHERE t.organization_id = $1 AND ($2::text IS NULL OR t.stage = $2) AND t.title LIKE lower($3))
		     + (SELECT count(*) FROM vehicles v WHERE ` + vehicleListed + `
		          AND (` + vehicleOtherMatch + `) AND v.search_title NOT LIKE lower($3)) END`
)

// VehicleInput is a new vehicle.
type VehicleInput struct {
	Year             int
	Make             string
	Model            string
	VIN              *string
	StockNumber      *string
	CustomerID       *string
	Stage            domain.Stage
	EstimatedArrival *domain.Date
	AgreedSalePrice  *domain.Money
}

// VehiclePatch changes the fields that are Set.
type VehiclePatch struct {
	Year             domain.Field[*int]
	Make             domain.Field[*string]
	Model            domain.Field[*string]
	VIN              domain.Field[*string]
	StockNumber      domain.Field[*string]
	CustomerID       domain.Field[*string]
	Stage            domain.Field[*domain.Stage]
	EstimatedArrival domain.Field[*domain.Date]
	AgreedSalePrice  domain.Field[*domain.Money]
}

func (s *Store) validateVehicle(in *VehicleInput, now time.Time) error {
	if err := domain.ValidateYear(in.Year, now); err != nil {
		return err
	}
	if err := domain.ValidateText("make", in.Make, domain.MaxNameLen); err != nil {
		return err
	}
	if err := domain.ValidateText("model", in.Model, domain.MaxNameLen); err != nil {
		return err
	}
	in.Make, in.Model = strings.TrimSpace(in.Make), strings.TrimSpace(in.Model)
	in.VIN, in.StockNumber = emptyToNil(in.VIN), emptyToNil(in.StockNumber)
	if in.VIN != nil {
		if err := domain.ValidateVIN(*in.VIN); err != nil {
			return err
		}
		up := strings.ToUpper(*in.VIN)
		in.VIN = &up
	}
	if in.StockNumber != nil {
		if err := domain.ValidateText("stockNumber", *in.StockNumber, domain.MaxStockLen); err != nil {
			return err
		}
	}
	if !in.Stage.IsValid() {
		return domain.Errorf(domain.BadInput, "stage %q is not a stage", in.Stage)
	}
	if in.AgreedSalePrice != nil {
		m, err := domain.NormalizeMoney("agreedSalePrice", *in.AgreedSalePrice)
		if err != nil {
			return err
		}
		in.AgreedSalePrice = &m
	}
	return nil
}

func (s *Store) checkCustomer(ctx context.Context, q sqlx.QueryerContext, orgID string, id *string) error {
	if id == nil {
		return nil
	}
	var ok bool
	if validID(*id) {
		if err := sqlx.GetContext(ctx, q, &ok, sqlCustomerExists, orgID, *id); err != nil {
			return fmt.Errorf("check customer: %w", err)
		}
	}
	if !ok {
		return errNoCustomer
	}
	return nil
}

var errNoCustomer = domain.Errorf(domain.NotFound, "customer not found")

func moneyArgs(m *domain.Money) (any, any) {
	if m == nil {
		return nil, nil
	}
	return m.Amount, m.Currency
}

// CreateVehicle adds a vehicle to the organization.
func (s *Store) CreateVehicle(ctx context.Context, orgID string, in VehicleInput) (*domain.Vehicle, error) {
	if err := s.validateVehicle(&in, time.Now()); err != nil {
		return nil, err
	}
	if in.CustomerID != nil && !validID(*in.CustomerID) {
		return nil, errNoCustomer
	}
	amount, currency := moneyArgs(in.AgreedSalePrice)
	var r vehicleRow
	err := s.db.GetContext(ctx, &r, sqlInsertVehicle, orgID, in.Year, in.Make, in.Model, in.VIN, in.StockNumber,
		in.CustomerID, string(in.Stage), in.EstimatedArrival, amount, currency)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCustomer
	}
	if err != nil {
		return nil, fmt.Errorf("insert vehicle: %w", err)
	}
	return r.toDomain(), nil
}

// Vehicle returns the organization's vehicle, NOT_FOUND when it does not
// exist, is deleted or belongs to another organization.
func (s *Store) Vehicle(ctx context.Context, orgID, id string) (*domain.Vehicle, error) {
	return getVehicle(ctx, s.db, orgID, id, sqlVehicle)
}

func getVehicle(ctx context.Context, q sqlx.QueryerContext, orgID, id, query string) (*domain.Vehicle, error) {
	if !validID(id) {
		return nil, domain.InvalidID("vehicle")
	}
	var r vehicleRow
	if err := sqlx.GetContext(ctx, q, &r, query, orgID, id); err != nil {
		return nil, notFound(err, "vehicle")
	}
	return r.toDomain(), nil
}

// lockVehicle loads the vehicle FOR UPDATE: writes to one vehicle and its
// link are serialised on this row.
func lockVehicle(ctx context.Context, tx *sqlx.Tx, orgID, id string) (*domain.Vehicle, error) {
	return getVehicle(ctx, tx, orgID, id, sqlVehicleForUpdate)
}

// UpdateVehicle applies a patch: fields not Set stay as they are, a Set
// nil clears a nullable field and is refused for a required one.
func (s *Store) UpdateVehicle(ctx context.Context, orgID, id string, p VehiclePatch) (*domain.Vehicle, error) {
	var out *domain.Vehicle
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		v, err := lockVehicle(ctx, tx, orgID, id)
		if err != nil {
			return err
		}
		in := VehicleInput{
			Year: v.Year, Make: v.Make, Model: v.Model, VIN: v.VIN, StockNumber: v.StockNumber,
			CustomerID: v.CustomerID, Stage: v.Stage, EstimatedArrival: v.EstimatedArrival,
			AgreedSalePrice: v.AgreedSalePrice,
		}
		if err := applyRequired(p.Year, &in.Year, "year"); err != nil {
			return err
		}
		if err := applyRequired(p.Make, &in.Make, "make"); err != nil {
			return err
		}
		if err := applyRequired(p.Model, &in.Model, "model"); err != nil {
			return err
		}
		if err := applyRequired(p.Stage, &in.Stage, "stage"); err != nil {
			return err
		}
		apply(p.VIN, &in.VIN)
		apply(p.StockNumber, &in.StockNumber)
		apply(p.CustomerID, &in.CustomerID)
		apply(p.EstimatedArrival, &in.EstimatedArrival)
		apply(p.AgreedSalePrice, &in.AgreedSalePrice)
		if err := s.validateVehicle(&in, time.Now()); err != nil {
			return err
		}
		if p.CustomerID.Set {
			if err := s.checkCustomer(ctx, tx, orgID, in.CustomerID); err != nil {
				return err
			}
		}
		amount, currency := moneyArgs(in.AgreedSalePrice)
		var r vehicleRow
		if err := tx.GetContext(ctx, &r, sqlUpdateVehicle, orgID, id, in.Year, in.Make, in.Model, in.VIN,
			in.StockNumber, in.CustomerID, string(in.Stage), in.EstimatedArrival, amount, currency); err != nil {
			return fmt.Errorf("update vehicle: %w", err)
		}
		out = r.toDomain()
		if v.Stage != domain.StageDelivered && out.Stage == domain.StageDelivered {
			if err := expireOnDelivery(ctx, tx, id); err != nil {
				return err
			}
		}
		return s.notifyPublic(ctx, tx, VehicleKey(id))
	})
	return out, err
}

func applyRequired[T any](f domain.Field[*T], dst *T, name string) error {
	if !f.Set {
		return nil
	}
	if f.Value == nil {
		return domain.Required(name)
	}
	*dst = *f.Value
	return nil
}

func apply[T any](f domain.Field[T], dst *T) {
	if f.Set {
		*dst = f.Value
	}
}

// DeleteVehicle soft-deletes the vehicle and ends its tracking link for
// good (a VEHICLE_DELETED event by userID), in one transaction.
func (s *Store) DeleteVehicle(ctx context.Context, orgID, userID, id string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlDeleteVehicle, orgID, id); err != nil {
			return fmt.Errorf("delete vehicle: %w", err)
		}
		if _, err := tx.ExecContext(ctx, sqlEndLinksOfDeletedVehicle, id, userID); err != nil {
			return fmt.Errorf("end tracking link: %w", err)
		}
		return s.notifyPublic(ctx, tx, VehicleKey(id))
	})
}

// SetHeroPhoto makes one of the vehicle's photos its hero; nil clears it.
func (s *Store) SetHeroPhoto(ctx context.Context, orgID, vehicleID string, photoID *string) (*domain.Vehicle, error) {
	var out *domain.Vehicle
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		if photoID != nil {
			var ok bool
			if validID(*photoID) {
				if err := tx.GetContext(ctx, &ok, sqlPhotoOfVehicle, vehicleID, *photoID); err != nil {
					return fmt.Errorf("check hero photo: %w", err)
				}
			}
			if !ok {
				return domain.Errorf(domain.NotFound, "photo not found on this vehicle")
			}
		}
		var r vehicleRow
		if err := tx.GetContext(ctx, &r, sqlSetHero, orgID, vehicleID, photoID); err != nil {
			return fmt.Errorf("set hero photo: %w", err)
		}
		out = r.toDomain()
		return s.notifyPublic(ctx, tx, VehicleKey(vehicleID))
	})
	return out, err
}

// VehiclesByIDs returns the organization's live vehicles among ids.
func (s *Store) VehiclesByIDs(ctx context.Context, orgID string, ids []string) ([]*domain.Vehicle, error) {
	var rows []vehicleRow
	if err := s.db.SelectContext(ctx, &rows, sqlVehiclesByIDs, orgID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("load vehicles: %w", err)
	}
	out := make([]*domain.Vehicle, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// VehicleFilter narrows the vehicle list.
type VehicleFilter struct {
	Stage  *domain.Stage
	Search *string
}

// VehiclePage is one page of vehicles, newest first.
type VehiclePage struct {
	Vehicles    []*domain.Vehicle
	Cursors     []string
	HasNextPage bool

	counted  chan struct{} // closed when total and countErr are set; nil: not counted
	total    int
	countErr error
}

// TotalCount waits for the count of the whole filtered list, which
// Vehicles started only when asked withCount (0 otherwise).
func (p *VehiclePage) TotalCount() (int, error) {
	if p.counted == nil {
		return 0, nil
	}
	<-p.counted
	return p.total, p.countErr
}

// Vehicles lists the organization's vehicles, newest first, and counts the
// filtered list when withCount is set (a count reads every match; a page
// reads only itself). Search matches make, model, title, VIN, stock number
// and customer name as a part, except that a search that is exactly a VIN
// or stock number lists only the vehicles it names.
//
// The count is read on a connection of its own, from before the page is
// read until the caller asks the page's TotalCount: alongside (when not
// nil) runs with the page, and whatever the caller does with the page
// before asking (writing its answer) takes the time of the count, the one
// read that grows with the organization, instead of adding to it. The
// page and the count were never one snapshot (two statements, each its
// own transaction). When the page cannot be read, Vehicles waits for the
// count before it returns, so no read outlives a failed call.
func (s *Store) Vehicles(ctx context.Context, orgID string, first *int, after *string, f VehicleFilter, withCount bool,
	alongside func(*VehiclePage)) (*VehiclePage, error) {
	q, err := vehicleListQuery(orgID, first, after, f)
	if err != nil {
		return nil, err
	}
	page := &VehiclePage{}
	if withCount {
		page.counted = make(chan struct{})
		go func() {
			defer close(page.counted)
			if err := s.db.GetContext(ctx, &page.total, q.count, q.countArgs...); err != nil {
				page.countErr = fmt.Errorf("count vehicles: %w", err)
			}
		}()
	}
	var rows []vehicleRow
	if err := s.db.SelectContext(ctx, &rows, q.page, q.pageArgs...); err != nil {
		page.TotalCount() // never leave the count running
		return nil, fmt.Errorf("list vehicles: %w", err)
	}
	page.HasNextPage = len(rows) > q.size
	if page.HasNextPage {
		rows = rows[:q.size]
	}
	for _, r := range rows {
		page.Vehicles = append(page.Vehicles, r.toDomain())
		page.Cursors = append(page.Cursors, encodeCursor(r.CreatedAt.UTC().Format(time.RFC3339Nano), r.ID))
	}
	if alongside != nil {
		alongside(page)
	}
	return page, nil
}

// vehicleList is the pair of statements behind one call of Vehicles.
type vehicleList struct {
	size                int
	page, count         string
	pageArgs, countArgs []any
}

// vehicleListQuery validates the arguments of Vehicles and picks its
// statements: the plain ones, or the search ones when there is a search.
func vehicleListQuery(orgID string, first *int, after *string, f VehicleFilter) (vehicleList, error) {
	n, err := PageSize(first)
	if err != nil {
		return vehicleList{}, err
	}
	var stage *string
	if f.Stage != nil {
		st := string(*f.Stage)
		stage = &st
	}
	var afterTime *time.Time
	var afterID *string
	if after != nil {
		c, err := decodeCursor(*after)
		if err != nil {
			return vehicleList{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return vehicleList{}, domain.Errorf(domain.BadInput, "after is not a cursor from this list")
		}
		afterTime, afterID = &t, &c.ID
	}
	if f.Search == nil || strings.TrimSpace(*f.Search) == "" {
		return vehicleList{
			size: n, page: sqlVehiclePage, count: sqlVehicleCount,
			pageArgs:  []any{orgID, stage, afterTime, afterID, n + 1},
			countArgs: []any{orgID, stage},
		}, nil
	}
	if err := domain.ValidateOptionalText("search", *f.Search, domain.MaxNameLen); err != nil {
		return vehicleList{}, err
	}
	term := strings.TrimSpace(*f.Search)
	pattern := likePattern(term)
	return vehicleList{
		size: n, page: sqlVehicleSearchPage, count: sqlVehicleSearchCount,
		pageArgs:  []any{orgID, stage, pattern, term, afterTime, afterID, n + 1},
		countArgs: []any{orgID, stage, pattern, term},
	}, nil
}
