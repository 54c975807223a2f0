// Package dbtest gives each test package a fresh, migrated PostgreSQL
// database of its own, dropped when the package's tests end.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/db"
)

// DefaultURL is the local server the README's test command brings up.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const howToStart = `PostgreSQL is not reachable at %s: %v
Start it with ./scripts/test (it installs or starts PostgreSQL), or on Debian/Ubuntu:
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
or point TEST_DATABASE_URL at a server where this role may CREATE DATABASE.`

// Main is called from a package's TestMain: it creates a database named
// after the package, migrates it, runs the tests and drops it. When
// PostgreSQL is unreachable the package FAILS with how to start it.
//
//	var testDB *sqlx.DB
//	func TestMain(m *testing.M) { dbtest.Main(m, "vehicles", &testDB) }
func Main(m *testing.M, pkg string, out **sqlx.DB) {
	os.Exit(run(m, pkg, out))
}

func run(m *testing.M, pkg string, out **sqlx.DB) int {
	ctx := context.Background()
	adminURL := os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		adminURL = DefaultURL
	}
	admin, err := sqlx.Open("postgres", adminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, howToStart+"\n", db.Redact(adminURL), err)
		return 1
	}
	defer admin.Close()

	dropStale(ctx, admin)
	name := fmt.Sprintf("%s%s_%d_%s", namePrefix, sanitize(pkg), time.Now().Unix(), randomSuffix())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: create database %s: %v\n", name, err)
		return 1
	}
	defer func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: drop database %s: %v\n", name, err)
		}
	}()

	testURL := withDatabase(adminURL, name)
	conn, err := db.Open(ctx, testURL, db.PoolConfig{MaxOpen: 40})
	if err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: %v\n", err)
		return 1
	}
	if _, err := db.Migrate(ctx, conn); err != nil {
		conn.Close()
		fmt.Fprintf(os.Stderr, "dbtest: %v\n", err)
		return 1
	}
	*out = conn
	os.Setenv("DBTEST_DATABASE_URL", testURL) // for tests that start processes
	code := m.Run()
	conn.Close()
	return code
}

// namePrefix starts the name of every test database; then come the
// package, the creation time (Unix seconds) and a random suffix.
const namePrefix = "importops_test_"

// staleAfter is when a test database left behind is dropped: a test
// binary killed by its timeout cannot drop its own. No run lasts this long
// (CI's limit is 90 minutes).
const staleAfter = 3 * time.Hour

// dropStale drops the test databases created more than staleAfter ago
// that nobody is connected to. Errors are reported, not fatal.
func dropStale(ctx context.Context, admin *sqlx.DB) {
	var names []string
	err := admin.SelectContext(ctx, &names, `SELECT d.datname FROM pg_database d
		WHERE starts_with(d.datname, $1)
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`, namePrefix)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: list old test databases: %v\n", err)
		return
	}
	for _, name := range names {
		parts := strings.Split(name, "_")
		if len(parts) < 2 {
			continue
		}
		created, err := strconv.ParseInt(parts[len(parts)-2], 10, 64)
		if err != nil || time.Since(time.Unix(created, 0)) < staleAfter {
			continue // not ours to judge, or perhaps still in use
		}
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: drop old test database %s: %v\n", name, err)
		}
	}
}

// URL returns the database URL of the package's test database.
func URL(t testing.TB) string {
	u := os.Getenv("DBTEST_DATABASE_URL")
	if u == "" {
		t.Fatal("dbtest.URL called outside dbtest.Main")
	}
	return u
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

var unsafe = regexp.MustCompile(`[^a-z0-9_]+`)

func sanitize(s string) string { return unsafe.ReplaceAllString(strings.ToLower(s), "_") }

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Fresh gives t a migrated database of its own, never analyzed and with
// autovacuum off on every table (so none is until the test says so),
// dropped when t ends: for tests of what PostgreSQL plans before it has
// statistics. It is slower than the package's database (a migration per
// call).
func Fresh(t testing.TB) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	adminURL := os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		adminURL = DefaultURL
	}
	admin, err := sqlx.Open("postgres", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("%sfresh_%d_%s", namePrefix, time.Now().Unix(), randomSuffix())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Open("postgres", adminURL)
		if err == nil {
			_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
			admin.Close()
		}
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	conn, err := db.Open(ctx, withDatabase(adminURL, name), db.PoolConfig{MaxOpen: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := db.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var tables []string
	if err := conn.SelectContext(ctx, &tables, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'`); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+tb+" SET (autovacuum_enabled = false)"); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}
