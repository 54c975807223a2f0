package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"importops/auth"
	"importops/db"
	"importops/domain"
)

// TestAdminInvite: the printed URL points at STAFF_APP_URL and its token
// makes an ADMIN of the organization; an email with an account and an
// unknown organization fail with exit 1 and write nothing.
func TestAdminInvite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, map[string]string{"STAFF_APP_URL": "https://app.harbour.example/"})
	owner := randomEmail()
	org := createOrgJSON(t, env, owner)
	email := randomEmail()

	r := runCLI(t, env, "admin", "invite", "--org", org.OrganizationID, "--email", email, "--role", "admin")
	if r.code != ExitOK || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("admin invite: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.report)
	}
	var out inviteOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("output %q is not JSON: %v", r.stdout, err)
	}
	token, ok := strings.CutPrefix(out.URL, "https://app.harbour.example/invite/")
	if !ok || len(token) < 22 { // 128 bits in base64url
		t.Fatalf("url = %q, want https://app.harbour.example/invite/<token>", out.URL)
	}
	if d := time.Until(out.ExpiresAt); d < 7*24*time.Hour-time.Hour || d > 7*24*time.Hour {
		t.Errorf("expiresAt %v is not 7 days ahead", out.ExpiresAt)
	}
	_, session := auth.NewToken()
	user, err := db.NewStore(testDB).AcceptInvite(ctx, db.Acceptance{
		TokenHash: auth.HashToken(token), Name: "New Admin", PasswordHash: "x", SessionTokenHash: session,
	})
	if err != nil {
		t.Fatalf("accept the printed invite: %v", err)
	}
	if user.OrganizationID != org.OrganizationID || user.Role != domain.RoleAdmin || user.Email != email {
		t.Errorf("accepted user = %+v, want ADMIN %s of %s", user, email, org.OrganizationID)
	}

	for _, c := range []struct{ name, org, email, want string }{
		{"existing account", org.OrganizationID, owner, "already exists"},
		{"unknown organization", "7b0c3f3e-2d9a-4c1e-9a53-6f1d2b3c4d5e", randomEmail(), "no organization with id"},
	} {
		var before int
		if err := testDB.Get(&before, `SELECT count(*) FROM invites`); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, env, "admin", "invite", "--org", c.org, "--email", c.email, "--role", "STAFF")
		var after int
		if err := testDB.Get(&after, `SELECT count(*) FROM invites`); err != nil {
			t.Fatal(err)
		}
		if r.code != ExitFailure || r.stdout != "" || !strings.Contains(r.report, c.want) || after != before {
			t.Errorf("%s: exit %d, stdout %q, report %q, invites %d→%d; want exit 1 saying %q, nothing written",
				c.name, r.code, r.stdout, r.report, before, after, c.want)
		}
	}
}
