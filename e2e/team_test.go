package e2e

// The team end to end: the role table as one matrix, invites from making
// to accepting, the organization boundary for members, the last owner,
// and sessions that end on removal and on a password change on every
// replica.

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"importops/apptest"
	"importops/domain"
	"importops/schema"
)

const (
	tmInviteQ   = `mutation($e: String!, $r: Role!) { inviteUser(email: $e, role: $r) { id email role url expiresAt invitedBy { id role } } }`
	tmAcceptQ   = `mutation($t: String!, $n: String!, $p: String!) { acceptInvite(token: $t, name: $n, password: $p) { token user { id email name role } } }`
	tmPendingQ  = `{ pendingInvites { id email role url expiresAt invitedBy { id } } }`
	tmUsersQ    = `{ users { id email name role } }`
	tmRoleQ     = `mutation($u: ID!, $r: Role!) { updateUserRole(userId: $u, role: $r) { id role } }`
	tmRemoveQ   = `mutation($u: ID!) { removeUser(userId: $u) }`
	tmCancelQ   = `mutation($id: ID!) { cancelInvite(id: $id) }`
	tmPasswordQ = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`
)

type tmInvite struct {
	ID, Email, Role, URL, ExpiresAt string
	InvitedBy                       *struct{ ID, Role string }
}

// tmInviteUser invites email with role as the holder of token.
func tmInviteUser(t testing.TB, env *apptest.Env, token, email, role string) tmInvite {
	t.Helper()
	var out struct{ InviteUser tmInvite }
	env.Do(t, token, tmInviteQ, apptest.Vars{"e": email, "r": role}).Decode(t, &out)
	return out.InviteUser
}

// tmToken is an invite URL's token: its last path segment.
func tmToken(url string) string { return url[strings.LastIndex(url, "/")+1:] }

type tmAuth struct {
	Token string
	User  struct{ ID, Email, Name, Role string }
}

func tmAccept(t testing.TB, env *apptest.Env, token, name, password string) (tmAuth, apptest.Response) {
	t.Helper()
	res := env.Do(t, "", tmAcceptQ, apptest.Vars{"t": token, "n": name, "p": password})
	var out struct{ AcceptInvite tmAuth }
	if len(res.Errors) == 0 {
		res.Decode(t, &out)
	}
	return out.AcceptInvite, res
}

// tmTeamSnapshot is the organization's team as stored: members with their
// roles and removal, invites with their state, live sessions.
func tmTeamSnapshot(t testing.TB, orgID string) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT coalesce(string_agg(id::text || role || coalesce(removed_at::text, 'member') || password_hash, ',' ORDER BY id), '') FROM users WHERE organization_id = $1`,
		`SELECT coalesce(string_agg(id::text || role || coalesce(accepted_at::text, '') || coalesce(cancelled_at::text, ''), ',' ORDER BY id), '') FROM invites WHERE organization_id = $1`,
		`SELECT count(*)::text FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE u.organization_id = $1 AND t.revoked_at IS NULL`,
	} {
		var s string
		if err := testDB.Get(&s, q, orgID); err != nil {
			t.Fatalf("snapshot %q: %v", q, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n")
}

// tmCase is one operation of the role matrix: setup prepares what it acts
// on in a fresh organization (owner: the organization's first OWNER) and
// returns its variables; want is the expected extensions.code per role of
// the caller ("" for success).
type tmCase struct {
	op    stStaffOperation
	setup func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars
	want  map[domain.Role]string
}

var (
	tmAll        = map[domain.Role]string{domain.RoleOwner: "", domain.RoleAdmin: "", domain.RoleStaff: ""}
	tmAdmins     = map[domain.Role]string{domain.RoleOwner: "", domain.RoleAdmin: "", domain.RoleStaff: "FORBIDDEN"}
	tmOwnersOnly = map[domain.Role]string{domain.RoleOwner: "", domain.RoleAdmin: "FORBIDDEN", domain.RoleStaff: "FORBIDDEN"}
)

// tmMatrix is every rule of the role table (shared/spec/team.graphql):
// every staff operation of the API, and the team's, with each role.
func tmMatrix() []tmCase {
	var cases []tmCase
	// The records and the organization's settings: every operation of
	// the API, aimed at a fresh vehicle with a note, photo, cost, payment
	// and tracking link.
	for _, op := range stStaffOperations("$vehicle", "$note", "$photo", "$customer") {
		want := tmAll
		if op.name == "updateOrganization" || op.name == "uploadOrganizationLogo" {
			want = tmAdmins
		}
		cases = append(cases, tmCase{op: op, want: want, setup: func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
			s := stSeedOrg(t, env, owner.Token)
			if op.name != "createTrackingLink" {
				env.Do(t, owner.Token, `mutation($v: ID!) { createTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": s.vehicleID}).Decode(t, &struct{}{})
			}
			ids := map[string]string{"$vehicle": s.vehicleID, "$note": s.noteID, "$photo": s.photoID, "$customer": s.customerID}
			vars := apptest.Vars{}
			for k, v := range op.vars {
				if s, ok := v.(string); ok && ids[s] != "" {
					v = ids[s]
				}
				vars[k] = v
			}
			return vars
		}})
	}
	member := func(role domain.Role) func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
		return func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
			return apptest.Vars{"u": env.AddMember(t, owner, role).UserID}
		}
	}
	invited := func(role string) func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
		return func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
			return apptest.Vars{"id": tmInviteUser(t, env, owner.Token, "invitee-"+randomSuffix()+"@example.com", role).ID}
		}
	}
	noSetup := func(*testing.T, *apptest.Env, apptest.Org) apptest.Vars { return apptest.Vars{} }
	newEmail := func(role string) func(*testing.T, *apptest.Env, apptest.Org) apptest.Vars {
		return func(*testing.T, *apptest.Env, apptest.Org) apptest.Vars {
			return apptest.Vars{"e": "new-" + randomSuffix() + "@example.com", "r": role}
		}
	}
	withRole := func(setup func(*testing.T, *apptest.Env, apptest.Org) apptest.Vars, role string) func(*testing.T, *apptest.Env, apptest.Org) apptest.Vars {
		return func(t *testing.T, env *apptest.Env, owner apptest.Org) apptest.Vars {
			v := setup(t, env, owner)
			v["r"] = role
			return v
		}
	}
	team := []tmCase{
		{op: stStaffOperation{name: "users", query: tmUsersQ}, setup: noSetup, want: tmAll},
		{op: stStaffOperation{name: "pendingInvites", query: tmPendingQ}, setup: noSetup, want: tmAdmins},
		{op: stStaffOperation{name: "inviteUser STAFF", query: tmInviteQ}, setup: newEmail("STAFF"), want: tmAdmins},
		{op: stStaffOperation{name: "inviteUser ADMIN", query: tmInviteQ}, setup: newEmail("ADMIN"), want: tmAdmins},
		{op: stStaffOperation{name: "inviteUser OWNER", query: tmInviteQ}, setup: newEmail("OWNER"), want: tmOwnersOnly},
		{op: stStaffOperation{name: "cancelInvite of a STAFF invite", query: tmCancelQ}, setup: invited("STAFF"), want: tmAdmins},
		{op: stStaffOperation{name: "cancelInvite of an OWNER invite", query: tmCancelQ}, setup: invited("OWNER"), want: tmOwnersOnly},
		{op: stStaffOperation{name: "updateUserRole STAFF to ADMIN", query: tmRoleQ}, setup: withRole(member(domain.RoleStaff), "ADMIN"), want: tmAdmins},
		{op: stStaffOperation{name: "updateUserRole ADMIN to STAFF", query: tmRoleQ}, setup: withRole(member(domain.RoleAdmin), "STAFF"), want: tmAdmins},
		{op: stStaffOperation{name: "updateUserRole STAFF to OWNER", query: tmRoleQ}, setup: withRole(member(domain.RoleStaff), "OWNER"), want: tmOwnersOnly},
		{op: stStaffOperation{name: "updateUserRole OWNER to ADMIN", query: tmRoleQ}, setup: withRole(member(domain.RoleOwner), "ADMIN"), want: tmOwnersOnly},
		{op: stStaffOperation{name: "removeUser STAFF", query: tmRemoveQ}, setup: member(domain.RoleStaff), want: tmAdmins},
		{op: stStaffOperation{name: "removeUser ADMIN", query: tmRemoveQ}, setup: member(domain.RoleAdmin), want: tmAdmins},
		{op: stStaffOperation{name: "removeUser OWNER", query: tmRemoveQ}, setup: member(domain.RoleOwner), want: tmOwnersOnly},
		{op: stStaffOperation{name: "changePassword", query: tmPasswordQ}, want: tmAll},
	}
	return append(cases, team...)
}

// tmAnonymous are the root fields open to callers without a token: they
// are outside the role table.
var tmAnonymous = map[string]bool{"login": true, "acceptInvite": true, "publicTracking": true}

// TestTeamRoleMatrix: each (role, operation) pair answers the code of the
// role table, and a refused operation writes nothing. Every root field of
// the schema is in the matrix.
func TestTeamRoleMatrix(t *testing.T) {
	env := apptest.New(t, testDB)
	t.Parallel()
	matrix := tmMatrix()
	s, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range matrix {
		covered[strings.Fields(c.op.name)[0]] = true // the case's root field
	}
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		for _, f := range root.Fields {
			if !covered[f.Name] && !tmAnonymous[f.Name] && !strings.HasPrefix(f.Name, "__") {
				t.Errorf("%s.%s is not in the role matrix: add a case to tmMatrix with each role's code", root.Name, f.Name)
			}
		}
	}
	for _, c := range matrix {
		for _, role := range []domain.Role{domain.RoleOwner, domain.RoleAdmin, domain.RoleStaff} {
			t.Run(string(role)+"/"+c.op.name, func(t *testing.T) {
				t.Parallel()
				owner := env.NewOrg(t, "Matrix "+string(role), "NZ")
				caller := env.AddMember(t, owner, role) // a fresh caller: logout and changePassword end sessions
				op := c.op
				if c.setup != nil {
					op.vars = c.setup(t, env, owner)
				} else { // changePassword: the caller's own
					op.vars = apptest.Vars{"c": caller.Password, "n": "a brand new password"}
				}
				before := stSnapshot(t, owner.ID) + tmTeamSnapshot(t, owner.ID)
				res := op.do(t, env, caller.Token)
				want := c.want[role]
				if res.Code() != want {
					t.Fatalf("%s as %s: code %q, want %q: %s", op.name, role, res.Code(), want, res.Body)
				}
				if want != "" && stSnapshot(t, owner.ID)+tmTeamSnapshot(t, owner.ID) != before {
					t.Errorf("%s as %s was refused but changed the organization", op.name, role)
				}
			})
		}
	}
}

// TestTeamInvites: invite, the pending list, accept (signed in, in the
// inviting organization, with the invited role), and every unusable token
// (used, unknown, cancelled, replaced, expired) refused alike.
func TestTeamInvites(t *testing.T) {
	env := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"STAFF_APP_URL": "https://app.harbour.example"}})
	owner := env.NewOrg(t, "Invites Ltd", "NZ")
	t.Parallel()

	email := "New.Person-" + randomSuffix() + "@Example.com"
	inv := tmInviteUser(t, env, owner.Token, email, "STAFF")
	token, ok := strings.CutPrefix(inv.URL, "https://app.harbour.example/invite/")
	if !ok || len(token) < 22 {
		t.Fatalf("url = %q, want https://app.harbour.example/invite/<token of at least 128 bits>", inv.URL)
	}
	if inv.Email != email || inv.Role != "STAFF" || inv.InvitedBy == nil || inv.InvitedBy.ID != owner.UserID {
		t.Errorf("invite = %+v, want %s STAFF invited by %s", inv, email, owner.UserID)
	}
	var minutes int
	if err := testDB.Get(&minutes, `SELECT round(extract(epoch FROM expires_at - created_at) / 60) FROM invites WHERE id = $1`, inv.ID); err != nil || minutes != 7*24*60 {
		t.Errorf("the invite is valid %d minutes (%v), want 7 days", minutes, err)
	}

	var pending struct{ PendingInvites []tmInvite }
	env.Do(t, owner.Token, tmPendingQ, nil).Decode(t, &pending)
	if len(pending.PendingInvites) != 1 || pending.PendingInvites[0].ID != inv.ID {
		t.Fatalf("pendingInvites = %+v, want the one invite", pending.PendingInvites)
	}
	if u := pending.PendingInvites[0].URL; strings.Contains(u, token) || u != "https://app.harbour.example/invite/" {
		t.Errorf("pendingInvites url = %q: the token is known only when the invite is made", u)
	}

	// Bad input writes nothing and leaves the invite usable.
	for _, bad := range []apptest.Vars{
		{"t": token, "n": "New Person", "p": "short"},
		{"t": token, "n": " ", "p": "long enough password"},
	} {
		if res := env.Do(t, "", tmAcceptQ, bad); res.Code() != "BAD_USER_INPUT" {
			t.Errorf("accept with %v: %s", bad, res.Body)
		}
	}

	member, res := tmAccept(t, env, token, "New Person", "long enough password")
	if len(res.Errors) > 0 {
		t.Fatalf("accept: %s", res.Body)
	}
	if member.User.Role != "STAFF" || !strings.EqualFold(member.User.Email, email) || member.User.Name != "New Person" {
		t.Errorf("accepted user = %+v", member.User)
	}
	var viewer struct {
		Viewer struct {
			User         struct{ ID, Role string }
			Organization struct{ ID string }
		}
	}
	env.Do(t, member.Token, `{ viewer { user { id role } organization { id } } }`, nil).Decode(t, &viewer)
	if viewer.Viewer.Organization.ID != owner.ID || viewer.Viewer.User.ID != member.User.ID {
		t.Errorf("the accepted token signs in as %+v, want user %s of %s", viewer.Viewer, member.User.ID, owner.ID)
	}
	if stLoginToken(t, env, email, "long enough password") == "" {
		t.Error("the new member cannot log in")
	}
	env.Do(t, owner.Token, tmPendingQ, nil).Decode(t, &pending)
	if len(pending.PendingInvites) != 0 {
		t.Errorf("an accepted invite is still pending: %+v", pending.PendingInvites)
	}

	// Every unusable token: the same code and message, and no account.
	cancelled := tmInviteUser(t, env, owner.Token, "cancelled-"+randomSuffix()+"@example.com", "ADMIN")
	env.Do(t, owner.Token, tmCancelQ, apptest.Vars{"id": cancelled.ID}).Decode(t, &struct{}{})
	replacedEmail := "replaced-" + randomSuffix() + "@example.com"
	replaced := tmInviteUser(t, env, owner.Token, replacedEmail, "STAFF")
	replacement := tmInviteUser(t, env, owner.Token, replacedEmail, "ADMIN")
	expired := tmInviteUser(t, env, owner.Token, "expired-"+randomSuffix()+"@example.com", "STAFF")
	if _, err := testDB.Exec(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	env.Do(t, owner.Token, tmPendingQ, nil).Decode(t, &pending)
	if len(pending.PendingInvites) != 1 || pending.PendingInvites[0].ID != replacement.ID {
		t.Errorf("pendingInvites = %+v, want only the replacement %s (not the cancelled, replaced or expired)", pending.PendingInvites, replacement.ID)
	}
	before := tmTeamSnapshot(t, owner.ID)
	var first apptest.Error
	for i, tok := range map[string]string{
		"used": token, "unknown": "x" + token[1:], "cancelled": tmToken(cancelled.URL),
		"replaced": tmToken(replaced.URL), "expired": tmToken(expired.URL), "empty": "",
	} {
		_, res := tmAccept(t, env, tok, "Someone", "long enough password")
		if res.Code() != "BAD_USER_INPUT" || len(res.Errors) != 1 {
			t.Errorf("accept a %s token: %s", i, res.Body)
			continue
		}
		if first.Message == "" {
			first = res.Errors[0]
		}
		if res.Errors[0].Message != first.Message {
			t.Errorf("a %s token is told %q, another %q: they must look alike", i, res.Errors[0].Message, first.Message)
		}
	}
	if tmTeamSnapshot(t, owner.ID) != before {
		t.Error("an unusable token changed the team")
	}
	if _, res := tmAccept(t, env, tmToken(replacement.URL), "Replacement", "long enough password"); len(res.Errors) > 0 {
		t.Errorf("the replacement invite does not work: %s", res.Body)
	}
}

// TestTeamInviteExistingEmail: an address with an account, in this or
// another organization and in any case, is CONFLICT and writes nothing.
func TestTeamInviteExistingEmail(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Conflicts Ltd", "NZ")
	other := env.NewOrg(t, "Elsewhere Ltd", "NZ")
	t.Parallel()
	for _, email := range []string{owner.Email, strings.ToUpper(other.Email)} {
		before := tmTeamSnapshot(t, owner.ID)
		res := env.Do(t, owner.Token, tmInviteQ, apptest.Vars{"e": email, "r": "STAFF"})
		if res.Code() != "CONFLICT" {
			t.Errorf("invite %s: %s", email, res.Body)
		}
		if tmTeamSnapshot(t, owner.ID) != before {
			t.Errorf("a refused invite of %s wrote to the team", email)
		}
	}
	// An invite accepted after the address got an account elsewhere.
	email := "race-" + randomSuffix() + "@example.com"
	inv := tmInviteUser(t, env, owner.Token, email, "STAFF")
	tmAccept(t, env, tmToken(tmInviteUser(t, env, other.Token, email, "STAFF").URL), "First", "long enough password")
	if _, res := tmAccept(t, env, tmToken(inv.URL), "Second", "long enough password"); res.Code() != "CONFLICT" {
		t.Errorf("accepting for an address that has an account: %s", res.Body)
	}
}

// TestTeamOtherOrganization: another organization's members and invites
// are never listed, and changing them is NOT_FOUND, for every caller who
// may change their own organization's.
func TestTeamOtherOrganization(t *testing.T) {
	env := apptest.New(t, testDB)
	mine := env.NewOrg(t, "Mine Ltd", "NZ")
	theirs := env.NewOrg(t, "Theirs Ltd", "NZ")
	t.Parallel()
	myAdmin := env.AddMember(t, mine, domain.RoleAdmin)
	theirStaff := env.AddMember(t, theirs, domain.RoleStaff)
	theirInvite := tmInviteUser(t, env, theirs.Token, "their-invitee-"+randomSuffix()+"@example.com", "STAFF")

	var users struct{ Users []struct{ ID, Email string } }
	env.Do(t, mine.Token, tmUsersQ, nil).Decode(t, &users)
	if len(users.Users) != 2 || users.Users[0].ID != mine.UserID || users.Users[1].ID != myAdmin.UserID {
		t.Errorf("users = %+v, want my owner then my admin, oldest first", users.Users)
	}
	var pending struct{ PendingInvites []tmInvite }
	env.Do(t, mine.Token, tmPendingQ, nil).Decode(t, &pending)
	if len(pending.PendingInvites) != 0 {
		t.Errorf("pendingInvites shows another organization's: %+v", pending.PendingInvites)
	}
	before := tmTeamSnapshot(t, theirs.ID)
	for _, caller := range []apptest.Org{mine, myAdmin} {
		for _, op := range []struct {
			q    string
			vars apptest.Vars
		}{
			{tmRoleQ, apptest.Vars{"u": theirStaff.UserID, "r": "ADMIN"}},
			{tmRoleQ, apptest.Vars{"u": theirs.UserID, "r": "STAFF"}},
			{tmRemoveQ, apptest.Vars{"u": theirStaff.UserID}},
			{tmRemoveQ, apptest.Vars{"u": theirs.UserID}},
			{tmCancelQ, apptest.Vars{"id": theirInvite.ID}},
		} {
			if res := env.Do(t, caller.Token, op.q, op.vars); res.Code() != "NOT_FOUND" {
				t.Errorf("%s %v: %s", op.q, op.vars, res.Body)
			}
		}
	}
	if tmTeamSnapshot(t, theirs.ID) != before {
		t.Error("another organization changed their team")
	}
}

// TestTeamLastOwner: the only OWNER can neither leave nor step down, and
// two owners stepping down at the same moment leave one of them OWNER.
func TestTeamLastOwner(t *testing.T) {
	env := apptest.New(t, testDB)
	solo := env.NewOrg(t, "Solo Ltd", "NZ")
	t.Parallel()
	for _, op := range []struct {
		q    string
		vars apptest.Vars
	}{
		{tmRoleQ, apptest.Vars{"u": solo.UserID, "r": "ADMIN"}},
		{tmRemoveQ, apptest.Vars{"u": solo.UserID}},
	} {
		if res := env.Do(t, solo.Token, op.q, op.vars); res.Code() != "CONFLICT" {
			t.Errorf("the last owner: %s %v: %s", op.q, op.vars, res.Body)
		}
	}

	for round := range 5 {
		first := env.NewOrg(t, fmt.Sprintf("Two Owners %d", round), "NZ")
		second := env.AddMember(t, first, domain.RoleOwner)
		codes := make([]string, 2)
		var wg sync.WaitGroup
		for i, o := range []apptest.Org{first, second} {
			wg.Go(func() {
				q, vars := tmRoleQ, apptest.Vars{"u": o.UserID, "r": "ADMIN"}
				if i == 1 && round%2 == 1 { // odd rounds: one steps down, the other leaves
					q, vars = tmRemoveQ, apptest.Vars{"u": o.UserID}
				}
				codes[i] = env.Do(t, o.Token, q, vars).Code()
			})
		}
		wg.Wait()
		if !(codes[0] == "" && codes[1] == "CONFLICT") && !(codes[0] == "CONFLICT" && codes[1] == "") {
			t.Errorf("round %d: two owners stepping down at once answered %q, want one success and one CONFLICT", round, codes)
		}
		var owners int
		if err := testDB.Get(&owners, `SELECT count(*) FROM users WHERE organization_id = $1 AND role = 'OWNER' AND removed_at IS NULL`, first.ID); err != nil || owners != 1 {
			t.Errorf("round %d: %d owners left (%v), want 1", round, owners, err)
		}
	}
}

// TestTeamSessionsEnd: removing a member ends every session of theirs,
// and a password change every other session, on both replicas at once.
func TestTeamSessionsEnd(t *testing.T) {
	one := apptest.New(t, testDB)
	two := apptest.New(t, testDB) // a second replica on the same database
	owner := one.NewOrg(t, "Sessions Ltd", "NZ")
	t.Parallel()
	works := func(env *apptest.Env, token string) bool {
		res := stViewerID(t, env, token)
		if c := res.Code(); c != "" && c != "UNAUTHENTICATED" {
			t.Fatalf("viewer: %s", res.Body)
		}
		return res.Code() == ""
	}

	t.Run("removeUser", func(t *testing.T) {
		m := one.AddMember(t, owner, domain.RoleAdmin)
		other := stLoginToken(t, two, m.Email, m.Password)
		for _, env := range []*apptest.Env{one, two} {
			if !works(env, m.Token) || !works(env, other) {
				t.Fatal("the member's sessions do not work before removal")
			}
		}
		var out struct{ RemoveUser string }
		one.Do(t, owner.Token, tmRemoveQ, apptest.Vars{"u": m.UserID}).Decode(t, &out)
		for name, env := range map[string]*apptest.Env{"the replica that removed": one, "the other replica": two} {
			for _, tok := range []string{m.Token, other} {
				if works(env, tok) {
					t.Errorf("%s still accepts a removed member's session", name)
				}
			}
		}
		if res := two.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			apptest.Vars{"e": m.Email, "p": m.Password}); res.Code() != "UNAUTHENTICATED" {
			t.Errorf("a removed member can log in: %s", res.Body)
		}
		var users struct{ Users []struct{ ID string } }
		one.Do(t, owner.Token, tmUsersQ, nil).Decode(t, &users)
		for _, u := range users.Users {
			if u.ID == m.UserID {
				t.Error("users still lists the removed member")
			}
		}
	})

	t.Run("changePassword", func(t *testing.T) {
		m := one.AddMember(t, owner, domain.RoleStaff)
		other := stLoginToken(t, two, m.Email, m.Password)
		before := tmTeamSnapshot(t, owner.ID)
		for _, bad := range []apptest.Vars{
			{"c": "not my password", "n": "a brand new password"},
			{"c": m.Password, "n": "short"},
			{"c": m.Password, "n": strings.Repeat("p", 73)},
		} {
			if res := one.Do(t, m.Token, tmPasswordQ, bad); res.Code() != "BAD_USER_INPUT" {
				t.Errorf("changePassword %v: %s", bad, res.Body)
			}
		}
		if tmTeamSnapshot(t, owner.ID) != before || !works(two, other) {
			t.Fatal("a refused password change changed the password or ended a session")
		}
		var out struct{ ChangePassword bool }
		one.Do(t, m.Token, tmPasswordQ, apptest.Vars{"c": m.Password, "n": strings.Repeat("p", 72)}).Decode(t, &out)
		for name, env := range map[string]*apptest.Env{"the replica that changed it": one, "the other replica": two} {
			if !works(env, m.Token) {
				t.Errorf("%s ended the session that changed the password", name)
			}
			if works(env, other) {
				t.Errorf("%s still accepts another session after the password changed", name)
			}
		}
		if stLoginToken(t, two, m.Email, strings.Repeat("p", 72)) == "" {
			t.Error("the new password does not log in")
		}
		if res := two.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			apptest.Vars{"e": m.Email, "p": m.Password}); res.Code() != "UNAUTHENTICATED" {
			t.Errorf("the old password still logs in: %s", res.Body)
		}
	})
}

// TestTeamActorsAreNamed: a STAFF member's tracking link and note name
// them (createdBy, author), also once they have been removed.
func TestTeamActorsAreNamed(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Authors Ltd", "NZ")
	t.Parallel()
	staffer := env.AddMember(t, owner, domain.RoleStaff)
	vehicleID := newVehicle(t, env, staffer.Token)
	addNote(t, env, staffer.Token, vehicleID, "called the shipper", "INTERNAL")
	env.Do(t, staffer.Token, `mutation($v: ID!) { createTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": vehicleID}).Decode(t, &struct{}{})

	check := func(when string) {
		var out struct {
			Vehicle struct {
				Notes []struct {
					Author *struct{ ID, Email, Role string }
				}
				TrackingLink struct {
					CreatedBy *struct{ ID, Email, Role string }
				}
			}
		}
		env.Do(t, owner.Token, `query($id: ID!) { vehicle(id: $id) {
			notes { author { id email role } } trackingLink { createdBy { id email role } } } }`,
			apptest.Vars{"id": vehicleID}).Decode(t, &out)
		v := out.Vehicle
		if len(v.Notes) != 1 || v.Notes[0].Author == nil || v.Notes[0].Author.ID != staffer.UserID || v.Notes[0].Author.Role != "STAFF" {
			b, _ := json.Marshal(v.Notes)
			t.Errorf("%s: note author = %s, want the STAFF member %s", when, b, staffer.UserID)
		}
		if c := v.TrackingLink.CreatedBy; c == nil || c.ID != staffer.UserID || c.Email != staffer.Email {
			t.Errorf("%s: link createdBy = %+v, want the STAFF member %s", when, c, staffer.UserID)
		}
	}
	check("as a member")
	env.Do(t, owner.Token, tmRemoveQ, apptest.Vars{"u": staffer.UserID}).Decode(t, &struct{}{})
	check("after removal")
}

// randomSuffix tells apart the addresses of one test run.
func randomSuffix() string { return strings.ToLower(rand.Text()[:10]) }

// TestTeamRateLimits: acceptInvite spends login's budget (the same
// failures per address count for both), and changePassword has login's
// budget per account, so a stolen session cannot guess the password.
func TestTeamRateLimits(t *testing.T) {
	env := rlEnv(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	owner := env.NewOrg(t, "Guarded Imports", "NZ")
	t.Parallel()
	invite := tmToken(tmInviteUser(t, env, owner.Token, "guarded-"+randomSuffix()+"@example.com", "STAFF").URL)

	t.Run("acceptInvite", func(t *testing.T) {
		const guesser = "198.51.100.7"
		for i := range 15 {
			if r := rlFrom(t, env, guesser, "", rlLogin, apptest.Vars{"e": "nobody" + strconv.Itoa(i) + "@example.com", "p": "password1"}); rlCode(r) != "UNAUTHENTICATED" {
				t.Fatalf("failed login %d: %s", i+1, r.body)
			}
			if r := rlFrom(t, env, guesser, "", tmAcceptQ, apptest.Vars{"t": "guess" + strconv.Itoa(i), "n": "Guess", "p": "password1"}); rlCode(r) != "BAD_USER_INPUT" {
				t.Fatalf("failed accept %d: %s", i+1, r.body)
			}
		}
		before := tmTeamSnapshot(t, owner.ID)
		r := rlFrom(t, env, guesser, "", tmAcceptQ, apptest.Vars{"t": invite, "n": "Real", "p": "password1"})
		if rlCode(r) != "RATE_LIMITED" || tmTeamSnapshot(t, owner.ID) != before {
			t.Fatalf("a real invite from the address after 30 failed sign-ins: %s, want RATE_LIMITED and nothing written", r.body)
		}
		rlRetryAfter(t, r, 10*time.Second)
		if r := rlFrom(t, env, "198.51.100.8", "", tmAcceptQ, apptest.Vars{"t": invite, "n": "Real", "p": "password1"}); rlCode(r) != "" {
			t.Errorf("the invite from another address: %s", r.body)
		}
	})

	t.Run("changePassword", func(t *testing.T) {
		m := env.AddMember(t, owner, domain.RoleStaff)
		for i := range 10 {
			ip := "203.0.113." + strconv.Itoa(100+i)
			if r := rlFrom(t, env, ip, m.Token, tmPasswordQ, apptest.Vars{"c": "guess " + strconv.Itoa(i), "n": "a brand new password"}); rlCode(r) != "BAD_USER_INPUT" {
				t.Fatalf("wrong current password %d: %s", i+1, r.body)
			}
		}
		r := rlFrom(t, env, "203.0.113.200", m.Token, tmPasswordQ, apptest.Vars{"c": m.Password, "n": "a brand new password"})
		if rlCode(r) != "RATE_LIMITED" {
			t.Fatalf("the right password after 10 wrong ones: %s, want RATE_LIMITED", r.body)
		}
	})
}

// TestTeamAnonymous: without a token every team operation but
// acceptInvite is UNAUTHENTICATED and writes nothing.
func TestTeamAnonymous(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Anonymous Team Ltd", "NZ")
	t.Parallel()
	staffer := env.AddMember(t, owner, domain.RoleStaff)
	inv := tmInviteUser(t, env, owner.Token, "anon-"+randomSuffix()+"@example.com", "STAFF")
	before := tmTeamSnapshot(t, owner.ID)
	for _, op := range []struct {
		q    string
		vars apptest.Vars
	}{
		{tmUsersQ, nil},
		{tmPendingQ, nil},
		{tmInviteQ, apptest.Vars{"e": "anon-new@example.com", "r": "OWNER"}},
		{tmCancelQ, apptest.Vars{"id": inv.ID}},
		{tmRoleQ, apptest.Vars{"u": staffer.UserID, "r": "OWNER"}},
		{tmRemoveQ, apptest.Vars{"u": staffer.UserID}},
		{tmPasswordQ, apptest.Vars{"c": staffer.Password, "n": "a brand new password"}},
	} {
		for _, token := range []string{"", "this-token-was-never-issued-" + strings.Repeat("x", 20)} {
			if res := env.Do(t, token, op.q, op.vars); res.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s with token %q: %s", op.q, token, res.Body)
			}
		}
	}
	if tmTeamSnapshot(t, owner.ID) != before {
		t.Error("anonymous calls changed the team")
	}
}

// TestTeamAcceptOnce: two accepts of one token at the same moment make
// one account; the other is refused like any used token.
func TestTeamAcceptOnce(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Once Ltd", "NZ")
	t.Parallel()
	for round := range 3 {
		email := "once-" + randomSuffix() + "@example.com"
		token := tmToken(tmInviteUser(t, env, owner.Token, email, "STAFF").URL)
		codes := make([]string, 2)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				_, res := tmAccept(t, env, token, fmt.Sprintf("Racer %d", i), "long enough password")
				codes[i] = res.Code()
			})
		}
		wg.Wait()
		if !(codes[0] == "" && codes[1] == "BAD_USER_INPUT") && !(codes[0] == "BAD_USER_INPUT" && codes[1] == "") {
			t.Errorf("round %d: two accepts of one token answered %q, want one success and one BAD_USER_INPUT", round, codes)
		}
		var accounts int
		if err := testDB.Get(&accounts, `SELECT count(*) FROM users WHERE lower(email) = $1`, email); err != nil || accounts != 1 {
			t.Errorf("round %d: %d accounts (%v), want 1", round, accounts, err)
		}
	}
}

// TestTeamAdminCannotReplaceOwnerInvite: inviting an address again
// replaces its open invite, and an ADMIN may not cancel an OWNER invite,
// so an ADMIN may not replace one either (FORBIDDEN, nothing written, the
// OWNER invite still works). An expired OWNER invite is no obstacle.
func TestTeamAdminCannotReplaceOwnerInvite(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Replacements Ltd", "NZ")
	admin := env.AddMember(t, owner, domain.RoleAdmin)
	t.Parallel()

	email := "future-owner-" + randomSuffix() + "@example.com"
	ownerInvite := tmInviteUser(t, env, owner.Token, email, "OWNER")
	before := tmTeamSnapshot(t, owner.ID)
	for _, role := range []string{"STAFF", "ADMIN"} {
		res := env.Do(t, admin.Token, tmInviteQ, apptest.Vars{"e": email, "r": role})
		if res.Code() != "FORBIDDEN" {
			t.Errorf("an ADMIN re-inviting an OWNER invite's address as %s: %s, want FORBIDDEN", role, res.Body)
		}
	}
	if tmTeamSnapshot(t, owner.ID) != before {
		t.Error("a refused re-invite changed the team")
	}
	if _, res := tmAccept(t, env, tmToken(ownerInvite.URL), "Future Owner", "long enough password"); len(res.Errors) > 0 {
		t.Errorf("the OWNER invite no longer works: %s", res.Body)
	}

	expiredEmail := "expired-owner-" + randomSuffix() + "@example.com"
	expired := tmInviteUser(t, env, owner.Token, expiredEmail, "OWNER")
	if _, err := testDB.Exec(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	if res := env.Do(t, admin.Token, tmInviteQ, apptest.Vars{"e": expiredEmail, "r": "STAFF"}); len(res.Errors) > 0 {
		t.Errorf("an expired OWNER invite blocks an ADMIN's invite: %s", res.Body)
	}
}

// TestTeamRemovalCancelsInvites: a removed member's invites that were not
// yet accepted stop working, so a member who leaves cannot come back
// through an invite sent to an address of their own. Others' invites stay.
func TestTeamRemovalCancelsInvites(t *testing.T) {
	env := apptest.New(t, testDB)
	owner := env.NewOrg(t, "Leavers Ltd", "NZ")
	admin := env.AddMember(t, owner, domain.RoleAdmin)
	t.Parallel()

	backdoor := tmInviteUser(t, env, admin.Token, "alt-"+randomSuffix()+"@example.com", "ADMIN")
	kept := tmInviteUser(t, env, owner.Token, "hire-"+randomSuffix()+"@example.com", "STAFF")
	var out struct{ RemoveUser string }
	env.Do(t, owner.Token, tmRemoveQ, apptest.Vars{"u": admin.UserID}).Decode(t, &out)

	if _, res := tmAccept(t, env, tmToken(backdoor.URL), "Back Again", "long enough password"); res.Code() != "BAD_USER_INPUT" {
		t.Errorf("an invite made by a removed member still works: %s", res.Body)
	}
	var pending struct{ PendingInvites []tmInvite }
	env.Do(t, owner.Token, tmPendingQ, nil).Decode(t, &pending)
	if len(pending.PendingInvites) != 1 || pending.PendingInvites[0].ID != kept.ID {
		t.Errorf("pendingInvites = %+v, want only %s", pending.PendingInvites, kept.ID)
	}
	if _, res := tmAccept(t, env, tmToken(kept.URL), "New Hire", "long enough password"); len(res.Errors) > 0 {
		t.Errorf("another member's invite stopped working: %s", res.Body)
	}
}
