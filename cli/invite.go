package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/domain"
	"importops/team"
)

type inviteInput struct {
	orgID, email string
	role         domain.Role
}

// parseInvite validates every argument before the database is opened.
func parseInvite(args []string) (inviteInput, error) {
	var in inviteInput
	var role string
	fs := flag.NewFlagSet("admin invite", flag.ContinueOnError)
	fs.StringVar(&in.orgID, "org", "", "organization id")
	fs.StringVar(&in.email, "email", "", "the invitee's email")
	fs.StringVar(&role, "role", "", "OWNER, ADMIN or STAFF")
	if err := parseFlags(fs, args); err != nil {
		return in, err
	}
	const help = "(usage: importops admin invite --org ORG_ID --email EMAIL --role OWNER|ADMIN|STAFF)"
	for _, f := range []struct{ flag, value string }{{"--org", in.orgID}, {"--email", in.email}, {"--role", role}} {
		if f.value == "" {
			return in, usageErrorf("admin invite: missing %s %s", f.flag, help)
		}
	}
	id, err := uuid.Parse(in.orgID)
	if err != nil || len(in.orgID) != 36 {
		return in, usageErrorf("admin invite: --org %q is not an organization id (a UUID)", in.orgID)
	}
	in.orgID = id.String()
	if err := domain.ValidateEmail("email", in.email); err != nil {
		return in, usageErrorf("admin invite: --email: %s", domain.ErrorMessage(err))
	}
	in.role = domain.Role(strings.ToUpper(strings.TrimSpace(role)))
	if !in.role.IsValid() {
		return in, usageErrorf("admin invite: --role %q is not one of OWNER ADMIN STAFF", role)
	}
	return in, nil
}

// inviteOutput is the one line of JSON admin invite prints.
type inviteOutput struct {
	InviteID  string    `json:"inviteId"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func invite(ctx context.Context, cfg config.Config, in inviteInput, stdout io.Writer) error {
	conn, _, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	svc := &team.Service{Store: db.NewStore(conn), Passwords: auth.NewPasswords(cfg.BcryptCost),
		StaffAppURL: cfg.StaffAppURL, Now: time.Now}
	inv, err := svc.Invite(ctx, in.orgID, nil, in.email, in.role, nil)
	if domain.IsCode(err, domain.NotFound) {
		return fmt.Errorf("invite: no organization with id %s", in.orgID)
	}
	if err != nil {
		return fmt.Errorf("invite: %s", clientMessage(err))
	}
	return json.NewEncoder(stdout).Encode(inviteOutput{InviteID: inv.ID, URL: svc.InviteURL(inv), ExpiresAt: inv.ExpiresAt.UTC()})
}
