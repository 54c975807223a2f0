package cli

import (
	"context"
	"fmt"
	"strings"

	"importops/auth"
	"importops/db"
)

// The demo's STAFF member, invited and signed up through the GraphQL API
// on the first run.
const (
	demoStaffEmail    = "staff@importops.test"
	demoStaffName     = "Demo Staff"
	demoStaffPassword = "harbour-staff-pass"
)

const (
	qInviteStaff = `mutation DemoInvite($email: String!) { inviteUser(email: $email, role: STAFF) { url } }`
	qAcceptStaff = `mutation DemoAccept($token: String!, $name: String!, $password: String!) {
  acceptInvite(token: $token, name: $name, password: $password) { user { email } }
}`
)

// demoStaff makes sure the demo organization has its STAFF member and
// returns the member's email. owner is a client signed in as the OWNER.
func demoStaff(ctx context.Context, owner *gqlClient, store *db.Store, passwords *auth.Passwords) (string, error) {
	user, hash, err := store.UserByEmail(ctx, demoStaffEmail)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if user != nil {
		if !passwords.Check(hash, demoStaffPassword) {
			return "", fmt.Errorf("demo: the account %s exists but its password is no longer the demo password; use another database", demoStaffEmail)
		}
		return demoStaffEmail, nil
	}
	var invited struct {
		InviteUser struct{ URL string } `json:"inviteUser"`
	}
	if err := owner.do(ctx, qInviteStaff, map[string]any{"email": demoStaffEmail}, &invited); err != nil {
		return "", err
	}
	token := invited.InviteUser.URL[strings.LastIndex(invited.InviteUser.URL, "/")+1:]
	anonymous := &gqlClient{handler: owner.handler}
	var accepted struct{}
	err = anonymous.do(ctx, qAcceptStaff, map[string]any{"token": token, "name": demoStaffName, "password": demoStaffPassword}, &accepted)
	if err != nil {
		return "", err
	}
	return demoStaffEmail, nil
}
