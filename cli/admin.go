package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/domain"
)

// openDB connects (creating the database when missing) and applies the
// pending migrations, so every command works on a fresh server.
func openDB(ctx context.Context, cfg config.Config) (*sqlx.DB, []string, error) {
	conn, err := db.Open(ctx, cfg.DatabaseURL, db.PoolConfig{
		MaxOpen:     cfg.DBMaxOpenConns,
		MaxIdle:     cfg.DBMaxIdleConns,
		MaxLifetime: cfg.DBConnMaxLifetime,

		StatementTimeout:       cfg.DBStatementTimeout,
		LockTimeout:            cfg.DBLockTimeout,
		IdleInTxSessionTimeout: cfg.DBIdleInTxSessionTimeout,
		ConnectTimeout:         cfg.DBConnectTimeout,
	})
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("migrate %s: %w", db.Redact(cfg.DatabaseURL), err)
	}
	return conn, applied, nil
}

func migrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	conn, applied, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "no pending migrations")
		return nil
	}
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	return nil
}

type createOrgInput struct {
	name, country, ownerEmail, ownerName, ownerPassword string
}

// parseCreateOrg validates every argument before the database is opened.
func parseCreateOrg(args []string) (createOrgInput, error) {
	var in createOrgInput
	fs := flag.NewFlagSet("admin create-org", flag.ContinueOnError)
	fs.StringVar(&in.name, "name", "", "organization name")
	fs.StringVar(&in.country, "country", "", "ISO 3166-1 alpha-2 country code, e.g. NZ")
	fs.StringVar(&in.ownerEmail, "owner-email", "", "the OWNER's sign-in email")
	fs.StringVar(&in.ownerPassword, "owner-password", "", "the OWNER's password")
	fs.StringVar(&in.ownerName, "owner-name", "", "the OWNER's display name (default: the email)")
	if err := parseFlags(fs, args); err != nil {
		return in, err
	}
	for _, f := range []struct{ flag, value string }{
		{"--name", in.name}, {"--country", in.country},
		{"--owner-email", in.ownerEmail}, {"--owner-password", in.ownerPassword},
	} {
		if f.value == "" {
			return in, usageErrorf("admin create-org: missing %s (usage: importops admin create-org --name NAME --country CC --owner-email EMAIL --owner-password PW)", f.flag)
		}
	}
	if err := domain.ValidateText("name", in.name, domain.MaxNameLen); err != nil {
		return in, usageErrorf("admin create-org: --name: %s", domain.ErrorMessage(err))
	}
	country, err := domain.NormalizeCountry(in.country)
	if err != nil {
		return in, usageErrorf("admin create-org: --country: %s", domain.ErrorMessage(err))
	}
	in.country = country
	if err := domain.ValidateEmail("owner email", in.ownerEmail); err != nil {
		return in, usageErrorf("admin create-org: --owner-email: %s", domain.ErrorMessage(err))
	}
	if in.ownerName != "" {
		if err := domain.ValidateText("owner name", in.ownerName, domain.MaxNameLen); err != nil {
			return in, usageErrorf("admin create-org: --owner-name: %s", domain.ErrorMessage(err))
		}
	}
	if n := len(in.ownerPassword); n < auth.MinPasswordLen || n > auth.MaxPasswordLen {
		return in, usageErrorf("admin create-org: --owner-password must be %d to %d bytes long", auth.MinPasswordLen, auth.MaxPasswordLen)
	}
	return in, nil
}

// createOrgOutput is the one line of JSON create-org prints.
type createOrgOutput struct {
	OrganizationID string `json:"organizationId"`
	UserID         string `json:"userId"`
	Token          string `json:"token"`
}

func createOrg(ctx context.Context, cfg config.Config, in createOrgInput, stdout io.Writer) error {
	hash, err := auth.NewPasswords(cfg.BcryptCost).Hash(in.ownerPassword)
	if err != nil {
		return fmt.Errorf("hash password: %s", domain.ErrorMessage(err))
	}
	conn, _, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	store := db.NewStore(conn)
	org, user, err := store.CreateOrganization(ctx, db.NewOrganization{
		Name: in.name, Country: in.country,
		OwnerEmail: in.ownerEmail, OwnerName: in.ownerName, OwnerPasswordHash: hash,
	})
	if err != nil {
		return fmt.Errorf("create organization: %s", clientMessage(err))
	}
	token, tokenHash := auth.NewToken()
	if err := store.CreateToken(ctx, user.ID, tokenHash); err != nil {
		return fmt.Errorf("create token for organization %s: %w", org.ID, err)
	}
	return json.NewEncoder(stdout).Encode(createOrgOutput{OrganizationID: org.ID, UserID: user.ID, Token: token})
}

type setSubscriptionInput struct {
	orgID  string
	status domain.SubscriptionStatus
}

func parseSetSubscription(args []string) (setSubscriptionInput, error) {
	var in setSubscriptionInput
	var status string
	fs := flag.NewFlagSet("admin set-subscription", flag.ContinueOnError)
	fs.StringVar(&in.orgID, "org", "", "organization id")
	fs.StringVar(&status, "status", "", "TRIALING, ACTIVE, PAST_DUE, LOCKED or CANCELED")
	if err := parseFlags(fs, args); err != nil {
		return in, err
	}
	const help = "(usage: importops admin set-subscription --org ORG_ID --status TRIALING|ACTIVE|PAST_DUE|LOCKED|CANCELED)"
	if in.orgID == "" {
		return in, usageErrorf("admin set-subscription: missing --org %s", help)
	}
	if status == "" {
		return in, usageErrorf("admin set-subscription: missing --status %s", help)
	}
	id, err := uuid.Parse(in.orgID)
	if err != nil || len(in.orgID) != 36 {
		return in, usageErrorf("admin set-subscription: --org %q is not an organization id (a UUID)", in.orgID)
	}
	in.orgID = id.String()
	in.status = domain.SubscriptionStatus(strings.ToUpper(strings.TrimSpace(status)))
	if !in.status.IsValid() {
		return in, usageErrorf("admin set-subscription: --status %q is not one of TRIALING ACTIVE PAST_DUE LOCKED CANCELED", status)
	}
	return in, nil
}

func setSubscription(ctx context.Context, cfg config.Config, in setSubscriptionInput, stdout io.Writer) error {
	conn, _, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	org, err := db.NewStore(conn).SetSubscription(ctx, in.orgID, in.status)
	if domain.IsCode(err, domain.NotFound) {
		return fmt.Errorf("set subscription: no organization with id %s", in.orgID)
	}
	if err != nil {
		return fmt.Errorf("set subscription of organization %s: %s", in.orgID, clientMessage(err))
	}
	return json.NewEncoder(stdout).Encode(struct {
		OrganizationID     string `json:"organizationId"`
		SubscriptionStatus string `json:"subscriptionStatus"`
	}{org.ID, string(org.SubscriptionStatus)})
}

// clientMessage is the message of a *domain.Error, or the full error for
// the operator otherwise (the CLI is the operator's own tool).
func clientMessage(err error) string {
	if domain.ErrorCode(err) == domain.Internal {
		return err.Error()
	}
	return domain.ErrorMessage(err)
}
