package db_test

import (
	"context"
	"crypto/rand"
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
