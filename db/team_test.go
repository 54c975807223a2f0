package db_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"importops/auth"
	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
)

var testDB *sqlx.DB

func TestMain(m *testing.M) { dbtest.Main(m, "db", &testDB) }

// seedTwoOwners makes an organization with two OWNERs, the second
// through an accepted invite.
func seedTwoOwners(t *testing.T, store *db.Store) (orgID, first, second string) {
	t.Helper()
	ctx := context.Background()
	suffix := strings.ToLower(rand.Text()[:10])
	org, owner, err := store.CreateOrganization(ctx, db.NewOrganization{Name: "Owners", Country: "NZ",
		OwnerEmail: "first-" + suffix + "@example.com", OwnerPasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, inviteHash := auth.NewToken()
	if _, err := store.CreateInvite(ctx, db.NewInvite{OrganizationID: org.ID, Email: "second-" + suffix + "@example.com",
		Role: domain.RoleOwner, TokenHash: inviteHash, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, sessionHash := auth.NewToken()
	u, err := store.AcceptInvite(ctx, db.Acceptance{TokenHash: inviteHash, Name: "Second", PasswordHash: "x", SessionTokenHash: sessionHash})
	if err != nil {
		t.Fatal(err)
	}
	return org.ID, owner.ID, u.ID
}

func anyRole(domain.Role) error { return nil }

// TestLastOwnerUnderConcurrency: while one transaction demotes an owner
// and has not committed, a second demotion of the other owner waits for
// it, then counts the owners it left and is refused (CONFLICT). Without
// the lock on the organization row both would see another owner and the
// organization would be left with none.
func TestLastOwnerUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	store := db.NewStore(testDB)
	orgID, first, second := seedTwoOwners(t, store)

	tx, err := testDB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = 'ADMIN' WHERE id = $1`, first); err != nil {
		t.Fatalf("demote the first owner: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.SetUserRole(ctx, orgID, second, domain.RoleStaff, anyRole)
		done <- err
	}()
	waitForLockWait(t)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !domain.IsCode(err, domain.Conflict) {
			t.Fatalf("the second demotion answered %v, want CONFLICT", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second demotion did not finish")
	}
	var owners int
	if err := testDB.Get(&owners, `SELECT count(*) FROM users WHERE organization_id = $1 AND role = 'OWNER'`, orgID); err != nil || owners != 1 {
		t.Errorf("%d owners left (%v), want 1", owners, err)
	}
}

// waitForLockWait returns once some session of the test database waits
// for a lock (the second demotion, blocked), or fails after 10 seconds.
// Without the lock nothing ever waits, and the test fails on the outcome:
// the deadline only stops it from hanging.
func waitForLockWait(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var waiting bool
		if err := testDB.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Log("no session waited for a lock within 10s")
}

// TestAcceptInviteStates: a token is accepted once, and an unknown, used,
// cancelled, replaced or expired one is the same ErrInviteUnusable,
// writing nothing.
func TestAcceptInviteStates(t *testing.T) {
	ctx := context.Background()
	store := db.NewStore(testDB)
	orgID, owner, _ := seedTwoOwners(t, store)
	allow := func(domain.Role) error { return nil }
	invite := func(email string) (*domain.Invite, []byte) {
		t.Helper()
		_, hash := auth.NewToken()
		inv, err := store.CreateInvite(ctx, db.NewInvite{OrganizationID: orgID, Email: email, Role: domain.RoleStaff,
			InvitedBy: &owner, TokenHash: hash, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return inv, hash
	}
	accept := func(hash []byte) error {
		_, session := auth.NewToken()
		_, err := store.AcceptInvite(ctx, db.Acceptance{TokenHash: hash, Name: "New", PasswordHash: "x", SessionTokenHash: session})
		return err
	}
	suffix := strings.ToLower(rand.Text()[:10])

	_, used := invite("used-" + suffix + "@example.com")
	if err := accept(used); err != nil {
		t.Fatalf("first accept: %v", err)
	}
	cancelled, cancelledHash := invite("cancelled-" + suffix + "@example.com")
	if err := store.CancelInvite(ctx, orgID, cancelled.ID, allow); err != nil {
		t.Fatal(err)
	}
	_, replaced := invite("replaced-" + suffix + "@example.com")
	invite("replaced-" + suffix + "@example.com")
	expired, expiredHash := invite("expired-" + suffix + "@example.com")
	if _, err := testDB.Exec(`UPDATE invites SET expires_at = now() WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	_, unknown := auth.NewToken()
	var before int
	if err := testDB.Get(&before, `SELECT count(*) FROM users`); err != nil {
		t.Fatal(err)
	}
	for name, hash := range map[string][]byte{"used": used, "cancelled": cancelledHash, "replaced": replaced,
		"expired": expiredHash, "unknown": unknown} {
		if err := accept(hash); !errors.Is(err, db.ErrInviteUnusable) {
			t.Errorf("accept a %s invite: %v, want ErrInviteUnusable", name, err)
		}
	}
	var after int
	if err := testDB.Get(&after, `SELECT count(*) FROM users`); err != nil || after != before {
		t.Errorf("unusable invites made accounts: %d→%d (%v)", before, after, err)
	}
}
