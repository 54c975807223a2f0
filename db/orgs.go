package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/domain"
)

type orgRow struct {
	ID                 string    `db:"id"`
	Name               string    `db:"name"`
	Country            string    `db:"country"`
	SubscriptionStatus string    `db:"subscription_status"`
	LogoKey            *string   `db:"logo_key"`
	LinkExpiryDays     *int      `db:"link_expiry_days_after_delivery"`
	Language           *string   `db:"language"`
	TimeZone           *string   `db:"time_zone"`
	CreatedAt          time.Time `db:"created_at"`
	UpdatedAt          time.Time `db:"updated_at"`
}

func (r orgRow) toDomain() *domain.Organization {
	return &domain.Organization{
		ID: r.ID, Name: r.Name, Country: r.Country,
		SubscriptionStatus: domain.SubscriptionStatus(r.SubscriptionStatus),
		LogoKey:            r.LogoKey, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		LinkExpiryDaysAfterDelivery: r.LinkExpiryDays,
		LanguageSet:                 r.Language, TimeZoneSet: r.TimeZone,
	}
}

const orgColumns = `id, name, country, subscription_status, logo_key, language, time_zone,
	link_expiry_days_after_delivery, created_at, updated_at`

const (
	sqlInsertOrg = `INSERT INTO organizations (name, country, subscription_status)
		VALUES ($1, $2, 'ACTIVE') RETURNING ` + orgColumns
	sqlOrgByID         = `SELECT ` + orgColumns + ` FROM organizations WHERE id = $1`
	sqlSetSubscription = `UPDATE organizations SET subscription_status = $2, updated_at = now() WHERE id = $1 RETURNING ` + orgColumns
	sqlUpdateOrg       = `UPDATE organizations SET name = $2, country = $3, language = $4, time_zone = $5,
		link_expiry_days_after_delivery = $6, updated_at = now() WHERE id = $1 RETURNING ` + orgColumns
	sqlSetOrgLogo       = `UPDATE organizations SET logo_key = $2, updated_at = now() WHERE id = $1 RETURNING ` + orgColumns
	sqlOrgByLogoKey     = `SELECT ` + orgColumns + ` FROM organizations WHERE logo_key = $1`
	sqlOrgForUpdateByID = sqlOrgByID + ` FOR UPDATE`
)

// NewOrganization is an organization with its first user, the OWNER.
type NewOrganization struct {
	Name              string
	Country           string
	OwnerEmail        string
	OwnerName         string
	OwnerPasswordHash string
}

// CreateOrganization creates an ACTIVE organization and its OWNER in one
// transaction. The email must not belong to another account (CONFLICT).
func (s *Store) CreateOrganization(ctx context.Context, p NewOrganization) (*domain.Organization, *domain.User, error) {
	if err := domain.ValidateText("name", p.Name, domain.MaxNameLen); err != nil {
		return nil, nil, err
	}
	country, err := domain.NormalizeCountry(p.Country)
	if err != nil {
		return nil, nil, err
	}
	if err := domain.ValidateEmail("owner email", p.OwnerEmail); err != nil {
		return nil, nil, err
	}
	ownerName := p.OwnerName
	if ownerName == "" {
		ownerName = p.OwnerEmail
	}
	var org orgRow
	var user *domain.User
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &org, sqlInsertOrg, p.Name, country); err != nil {
			return fmt.Errorf("insert organization: %w", err)
		}
		user, err = insertUser(ctx, tx, org.ID, p.OwnerEmail, ownerName, domain.RoleOwner, p.OwnerPasswordHash)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return org.toDomain(), user, nil
}

// Organization returns the organization with id.
func (s *Store) Organization(ctx context.Context, id string) (*domain.Organization, error) {
	if !validID(id) {
		return nil, domain.InvalidID("organization")
	}
	var r orgRow
	if err := s.db.GetContext(ctx, &r, sqlOrgByID, id); err != nil {
		return nil, notFound(err, "organization")
	}
	return r.toDomain(), nil
}

// SetSubscription records the billing system's status for an organization.
func (s *Store) SetSubscription(ctx context.Context, orgID string, status domain.SubscriptionStatus) (*domain.Organization, error) {
	if !status.IsValid() {
		return nil, domain.Errorf(domain.BadInput, "subscription status %q is not one of TRIALING ACTIVE PAST_DUE LOCKED CANCELED", status)
	}
	if !validID(orgID) {
		return nil, domain.InvalidID("organization")
	}
	var r orgRow
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r, sqlSetSubscription, orgID, string(status)); err != nil {
			return notFound(err, "organization")
		}
		// Every link of the organization opens or closes with it.
		return s.notifyPublic(ctx, tx, OrgKey(orgID))
	})
	if err != nil {
		return nil, err
	}
	return r.toDomain(), nil
}

// OrganizationUpdate: nil fields stay as they are.
type OrganizationUpdate struct {
	Name     *string
	Country  *string
	Language *string
	TimeZone *string
	// LinkExpiryDays changes linkExpiryDaysAfterDelivery when Set (nil:
	// off); existing links keep their expiresAt.
	LinkExpiryDays domain.Field[*int]
}

// UpdateOrganization changes the organization's name, country, language
// or time zone.
func (s *Store) UpdateOrganization(ctx context.Context, orgID string, u OrganizationUpdate) (*domain.Organization, error) {
	if u.Name != nil {
		if err := domain.ValidateText("name", *u.Name, domain.MaxNameLen); err != nil {
			return nil, err
		}
	}
	if u.Country != nil {
		c, err := domain.NormalizeCountry(*u.Country)
		if err != nil {
			return nil, err
		}
		u.Country = &c
	}
	if u.Language != nil {
		l, err := domain.NormalizeLanguage(*u.Language)
		if err != nil {
			return nil, err
		}
		u.Language = &l
	}
	if u.TimeZone != nil {
		z, err := domain.NormalizeTimeZone(*u.TimeZone)
		if err != nil {
			return nil, err
		}
		u.TimeZone = &z
	}
	if err := domain.ValidateLinkExpiryDays(u.LinkExpiryDays.Value); err != nil {
		return nil, err
	}
	var r orgRow
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r, sqlOrgForUpdateByID, orgID); err != nil {
			return notFound(err, "organization")
		}
		name, country, lang, zone, days := r.Name, r.Country, r.Language, r.TimeZone, r.LinkExpiryDays
		if u.LinkExpiryDays.Set {
			days = u.LinkExpiryDays.Value
		}
		if u.Name != nil {
			name = *u.Name
		}
		if u.Country != nil {
			country = *u.Country
		}
		if u.Language != nil {
			lang = u.Language
		}
		if u.TimeZone != nil {
			zone = u.TimeZone
		}
		if err := tx.GetContext(ctx, &r, sqlUpdateOrg, orgID, name, country, lang, zone, days); err != nil {
			return fmt.Errorf("update organization: %w", err)
		}
		return s.notifyPublic(ctx, tx, OrgKey(orgID))
	})
	if err != nil {
		return nil, err
	}
	return r.toDomain(), nil
}

// SetOrganizationLogo points the organization at a stored logo.
func (s *Store) SetOrganizationLogo(ctx context.Context, orgID, key string) (*domain.Organization, error) {
	var r orgRow
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r, sqlSetOrgLogo, orgID, key); err != nil {
			return notFound(err, "organization")
		}
		return s.notifyPublic(ctx, tx, OrgKey(orgID))
	})
	if err != nil {
		return nil, err
	}
	return r.toDomain(), nil
}

// OrganizationByLogoKey finds the organization showing a logo.
func (s *Store) OrganizationByLogoKey(ctx context.Context, key string) (*domain.Organization, error) {
	var r orgRow
	if err := s.db.GetContext(ctx, &r, sqlOrgByLogoKey, key); err != nil {
		return nil, notFound(err, "logo")
	}
	return r.toDomain(), nil
}

// Setting returns a stored server setting, or nil when unset.
func (s *Store) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.GetContext(ctx, &v, `SELECT value FROM settings WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// SettingOrInit returns the setting, storing value first when it is unset;
// concurrent callers all get the value that won.
func (s *Store) SettingOrInit(ctx context.Context, key string, value []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return nil, fmt.Errorf("store setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}
