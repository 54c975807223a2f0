// Package db is the PostgreSQL store: every SQL statement of the server
// lives here, with the embedded migrations that create the schema.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"importops/domain"
)

// Store runs the product's reads and writes. Each exported method is one
// unit of work: one statement, or one transaction.
type Store struct {
	db      *sqlx.DB
	changes publicChanges
}

func NewStore(db *sqlx.DB) *Store { return &Store{db: db} }

// DB is the underlying pool, for health checks and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// PoolConfig sizes the connection pool and bounds its sessions. A zero
// timeout leaves the server's setting (or the URL's) as it is.
type PoolConfig struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration

	StatementTimeout       time.Duration // statement_timeout
	LockTimeout            time.Duration // lock_timeout
	IdleInTxSessionTimeout time.Duration // idle_in_transaction_session_timeout
	ConnectTimeout         time.Duration // connect_timeout: dialling and the startup handshake
}

// Open connects to databaseURL, creating the database first when it does
// not exist and the role may create it.
func Open(ctx context.Context, databaseURL string, pool PoolConfig) (*sqlx.DB, error) {
	db, err := connect(ctx, databaseURL, pool)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, databaseURL); cerr != nil {
			return nil, cerr
		}
		db, err = connect(ctx, databaseURL, pool)
	}
	if err != nil {
		return nil, err
	}
	if pool.MaxOpen > 0 {
		db.SetMaxOpenConns(pool.MaxOpen)
	}
	if pool.MaxIdle > 0 {
		db.SetMaxIdleConns(pool.MaxIdle)
	}
	if pool.MaxLifetime > 0 {
		db.SetConnMaxLifetime(pool.MaxLifetime)
	}
	return db, nil
}

// connect opens a pool whose every session carries pool's timeouts, and
// checks that the database answers.
func connect(ctx context.Context, databaseURL string, pool PoolConfig) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(databaseURL), err)
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	for name, d := range map[string]time.Duration{
		"statement_timeout":                   pool.StatementTimeout,
		"lock_timeout":                        pool.LockTimeout,
		"idle_in_transaction_session_timeout": pool.IdleInTxSessionTimeout,
	} {
		if _, set := cfg.Runtime[name]; !set && d > 0 {
			cfg.Runtime[name] = strconv.FormatInt(max(d.Milliseconds(), 1), 10) // milliseconds
		}
	}
	if cfg.ConnectTimeout == 0 && pool.ConnectTimeout > 0 {
		cfg.ConnectTimeout = pool.ConnectTimeout
	}
	// Without binary_parameters, lib/pq sends each statement with arguments
	// in two round trips (prepare, then execute); with it, in one. It only
	// changes how []byte arguments travel (as bytea, which ours are). A URL
	// that sets it wins.
	if !strings.Contains(databaseURL, "binary_parameters") {
		cfg.BinaryParameters = true
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(databaseURL), err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database %s: %w", Redact(databaseURL), err)
	}
	return db, nil
}

// createDatabase connects to the server's maintenance database and
// creates the one named in databaseURL.
func createDatabase(ctx context.Context, databaseURL string) error {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := connect(ctx, u.String(), PoolConfig{})
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// Redact hides the password of a database URL or key=value DSN for logs
// and messages, wherever lib/pq would read it from.
func Redact(databaseURL string) string {
	if !strings.Contains(databaseURL, "://") {
		return dsnPassword.ReplaceAllString(databaseURL, "password=xxxxx")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(unparsable DATABASE_URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

var dsnPassword = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// InTx runs fn in one transaction, committed when fn returns nil and
// rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	defer s.forget(tx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.committed(tx)
	return nil
}

// Ping tells whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// notFound maps sql.ErrNoRows to a client-facing NOT_FOUND for what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(domain.NotFound, "%s not found", what)
	}
	return err
}

// isUniqueViolation reports a unique index violation, optionally of the
// named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" &&
		(constraint == "" || pqErr.Constraint == constraint)
}
