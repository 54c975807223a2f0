package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock serialises replicas that start at the same time.
const migrationLock = 7_264_811_301

// Migrate applies the pending migrations in file-name order, each in its
// own transaction. Running it again applies nothing.
func Migrate(ctx context.Context, db *sqlx.DB) (applied []string, err error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		ok, err := migrateOne(ctx, db, name)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		if ok {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

func migrateOne(ctx context.Context, db *sqlx.DB, name string) (bool, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck
	// A migration may rewrite a large table, and waits for another
	// replica's: the sessions' request-sized timeouts do not apply to it.
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0`); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, err
	}
	var done bool
	if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
