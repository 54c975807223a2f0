package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"importops/domain"
)

type customerRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	Name           string    `db:"name"`
	Email          *string   `db:"email"`
	Phone          *string   `db:"phone"`
	CreatedAt      time.Time `db:"created_at"`
}

func (r customerRow) toDomain() *domain.Customer {
	return &domain.Customer{ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name,
		Email: r.Email, Phone: r.Phone, CreatedAt: r.CreatedAt}
}

const customerColumns = `id, organization_id, name, email, phone, created_at`

const (
	sqlInsertCustomer = `INSERT INTO customers (organization_id, name, email, phone)
		VALUES ($1, $2, $3, $4) RETURNING ` + customerColumns
	sqlCustomersByIDs = `SELECT ` + customerColumns + ` FROM customers WHERE organization_id = $1 AND id = ANY($2)`
	sqlCustomerExists = `SELECT EXISTS (SELECT 1 FROM customers WHERE organization_id = $1 AND id = $2)`
	// Alphabetical, then by id so that equal names page stably.
	sqlCustomerPage = `SELECT ` + customerColumns + ` FROM customers
		WHERE organization_id = $1
		  AND ($2::text IS NULL OR (lower(name), id) > ($2, $3::uuid))
		ORDER BY lower(name), id LIMIT $4`
)

// CustomerInput is a new customer.
type CustomerInput struct {
	Name  string
	Email *string
	Phone *string
}

// CreateCustomer adds a customer to the organization.
func (s *Store) CreateCustomer(ctx context.Context, orgID string, in CustomerInput) (*domain.Customer, error) {
	if err := domain.ValidateText("name", in.Name, domain.MaxNameLen); err != nil {
		return nil, err
	}
	if in.Email != nil && *in.Email != "" {
		if err := domain.ValidateEmail("email", *in.Email); err != nil {
			return nil, err
		}
	}
	if in.Phone != nil {
		if err := domain.ValidateOptionalText("phone", *in.Phone, 40); err != nil {
			return nil, err
		}
	}
	var r customerRow
	if err := s.db.GetContext(ctx, &r, sqlInsertCustomer, orgID, strings.TrimSpace(in.Name), emptyToNil(in.Email), emptyToNil(in.Phone)); err != nil {
		return nil, fmt.Errorf("insert customer: %w", err)
	}
	return r.toDomain(), nil
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Customers   []*domain.Customer
	Cursors     []string
	HasNextPage bool
}

// Customers lists the organization's customers alphabetically.
func (s *Store) Customers(ctx context.Context, orgID string, first *int, after *string) (*CustomerPage, error) {
	n, err := PageSize(first)
	if err != nil {
		return nil, err
	}
	var key, id *string
	if after != nil {
		c, err := decodeCursor(*after)
		if err != nil {
			return nil, err
		}
		key, id = &c.Key, &c.ID
	}
	var rows []customerRow
	if err := s.db.SelectContext(ctx, &rows, sqlCustomerPage, orgID, key, id, n+1); err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	page := &CustomerPage{HasNextPage: len(rows) > n}
	if page.HasNextPage {
		rows = rows[:n]
	}
	for _, r := range rows {
		page.Customers = append(page.Customers, r.toDomain())
		page.Cursors = append(page.Cursors, encodeCursor(strings.ToLower(r.Name), r.ID))
	}
	return page, nil
}

// CustomersByIDs returns the organization's customers among ids.
func (s *Store) CustomersByIDs(ctx context.Context, orgID string, ids []string) ([]*domain.Customer, error) {
	var rows []customerRow
	if err := s.db.SelectContext(ctx, &rows, sqlCustomersByIDs, orgID, pq.Array(validIDs(ids))); err != nil {
		return nil, fmt.Errorf("load customers: %w", err)
	}
	out := make([]*domain.Customer, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

func emptyToNil(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	return &t
}
