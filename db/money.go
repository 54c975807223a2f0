package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"importops/domain"
)

type costRow struct {
	ID             string          `db:"id"`
	OrganizationID string          `db:"organization_id"`
	VehicleID      string          `db:"vehicle_id"`
	Category       string          `db:"category"`
	Description    *string         `db:"description"`
	Amount         decimal.Decimal `db:"amount"`
	Currency       string          `db:"currency"`
	CreatedAt      time.Time       `db:"created_at"`
}

func (r costRow) toDomain() domain.CostItem {
	return domain.CostItem{ID: r.ID, OrganizationID: r.OrganizationID, VehicleID: r.VehicleID,
		Category: r.Category, Description: r.Description,
		Amount: scaled(r.Amount, r.Currency), CreatedAt: r.CreatedAt}
}

type paymentRow struct {
	ID             string          `db:"id"`
	OrganizationID string          `db:"organization_id"`
	VehicleID      string          `db:"vehicle_id"`
	Amount         decimal.Decimal `db:"amount"`
	Currency       string          `db:"currency"`
	ReceivedAt     time.Time       `db:"received_at"`
	Reference      *string         `db:"reference"`
	CreatedAt      time.Time       `db:"created_at"`
}

func (r paymentRow) toDomain() domain.Payment {
	return domain.Payment{ID: r.ID, OrganizationID: r.OrganizationID, VehicleID: r.VehicleID,
		Amount: scaled(r.Amount, r.Currency), ReceivedAt: r.ReceivedAt, Reference: r.Reference, CreatedAt: r.CreatedAt}
}

// scaled shows a stored amount at its currency's scale (the column keeps
// four decimals for every currency).
func scaled(amount decimal.Decimal, currency string) domain.Money {
	m, err := domain.NormalizeMoney("amount", domain.Money{Amount: amount, Currency: currency})
	if err != nil {
		return domain.Money{Amount: amount, Currency: currency}
	}
	return m
}

const (
	costColumns    = `id, organization_id, vehicle_id, category, description, amount, currency, created_at`
	paymentColumns = `id, organization_id, vehicle_id, amount, currency, received_at, reference, created_at`

	sqlInsertCost = `INSERT INTO cost_items (organization_id, vehicle_id, category, description, amount, currency)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING ` + costColumns
	sqlCostsByVehicles = `SELECT ` + costColumns + ` FROM cost_items
		WHERE organization_id = $1 AND vehicle_id = ANY($2) ORDER BY created_at, id`
	sqlInsertPayment = `INSERT INTO payments (organization_id, vehicle_id, amount, currency, received_at, reference)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING ` + paymentColumns
	sqlPaymentsByVehicles = `SELECT ` + paymentColumns + ` FROM payments
		WHERE organization_id = $1 AND vehicle_id = ANY($2) ORDER BY received_at, id`
)

// CostInput is a new cost item.
type CostInput struct {
	Category    string
	Description *string
	Amount      domain.Money
}

// AddCost records a cost on the organization's vehicle.
func (s *Store) AddCost(ctx context.Context, orgID, vehicleID string, in CostInput) (*domain.CostItem, error) {
	if err := domain.ValidateText("category", in.Category, domain.MaxNameLen); err != nil {
		return nil, err
	}
	if in.Description != nil {
		if err := domain.ValidateOptionalText("description", *in.Description, domain.MaxTextLen); err != nil {
			return nil, err
		}
	}
	m, err := domain.NormalizeMoney("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	var out domain.CostItem
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		var r costRow
		if err := tx.GetContext(ctx, &r, sqlInsertCost, orgID, vehicleID, strings.TrimSpace(in.Category),
			emptyToNil(in.Description), m.Amount, m.Currency); err != nil {
			return fmt.Errorf("insert cost: %w", err)
		}
		out = r.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PaymentInput is a new payment.
type PaymentInput struct {
	Amount     domain.Money
	ReceivedAt time.Time
	Reference  *string
}

// RecordPayment records a payment received for the organization's vehicle.
func (s *Store) RecordPayment(ctx context.Context, orgID, vehicleID string, in PaymentInput) (*domain.Payment, error) {
	m, err := domain.NormalizeMoney("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	if in.Reference != nil {
		if err := domain.ValidateOptionalText("reference", *in.Reference, domain.MaxNameLen); err != nil {
			return nil, err
		}
	}
	if in.ReceivedAt.IsZero() || in.ReceivedAt.Year() < 1970 || in.ReceivedAt.After(time.Now().AddDate(1, 0, 0)) {
		return nil, domain.Errorf(domain.BadInput, "receivedAt must be a real date, not more than a year ahead")
	}
	var out domain.Payment
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := lockVehicle(ctx, tx, orgID, vehicleID); err != nil {
			return err
		}
		var r paymentRow
		if err := tx.GetContext(ctx, &r, sqlInsertPayment, orgID, vehicleID, m.Amount, m.Currency,
			in.ReceivedAt, emptyToNil(in.Reference)); err != nil {
			return fmt.Errorf("insert payment: %w", err)
		}
		out = r.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CostsByVehicles returns each vehicle's cost items.
func (s *Store) CostsByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string][]domain.CostItem, error) {
	var rows []costRow
	if err := s.db.SelectContext(ctx, &rows, sqlCostsByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load costs: %w", err)
	}
	out := make(map[string][]domain.CostItem)
	for _, r := range rows {
		out[r.VehicleID] = append(out[r.VehicleID], r.toDomain())
	}
	return out, nil
}

// PaymentsByVehicles returns each vehicle's payments.
func (s *Store) PaymentsByVehicles(ctx context.Context, orgID string, vehicleIDs []string) (map[string][]domain.Payment, error) {
	var rows []paymentRow
	if err := s.db.SelectContext(ctx, &rows, sqlPaymentsByVehicles, orgID, pq.Array(validIDs(vehicleIDs))); err != nil {
		return nil, fmt.Errorf("load payments: %w", err)
	}
	out := make(map[string][]domain.Payment)
	for _, r := range rows {
		out[r.VehicleID] = append(out[r.VehicleID], r.toDomain())
	}
	return out, nil
}
