package dbtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Counter counts what a pool from OpenCounting sends to PostgreSQL:
// Statements are the statements executed (queries, commands, BEGIN,
// COMMIT and ROLLBACK, each execution of a prepared statement), Prepares
// the statements prepared (a Parse round trip that executes nothing).
type Counter struct {
	statements, prepares atomic.Int64
}

func (c *Counter) Statements() int64 { return c.statements.Load() }
func (c *Counter) Prepares() int64   { return c.prepares.Load() }

// OpenCounting opens a pool on the package's test database (see Main)
// through lib/pq, wrapped so that c counts every statement it runs. It is
// closed when t ends.
func OpenCounting(t testing.TB) (*sqlx.DB, *Counter) {
	t.Helper()
	cfg, err := pq.NewConfig(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// As the server's pool (db.Open): one round trip per statement with
	// arguments, so counts and profiles measure what production sends.
	cfg.BinaryParameters = true
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := new(Counter)
	conn := sqlx.NewDb(sql.OpenDB(countingConnector{pc, c}), "postgres")
	// The server's default pool (DB_MAX_OPEN_CONNS, DB_MAX_IDLE_CONNS).
	conn.SetMaxOpenConns(20)
	conn.SetMaxIdleConns(10)
	t.Cleanup(func() { conn.Close() })
	return conn, c
}

type countingConnector struct {
	driver.Connector
	c *Counter
}

func (k countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{cn: cn, c: k.c}, nil
}

// countingConn forwards to lib/pq's connection every interface that
// database/sql looks for, counting as it goes.
type countingConn struct {
	cn driver.Conn
	c  *Counter
}

var (
	_ driver.ConnBeginTx        = (*countingConn)(nil)
	_ driver.ConnPrepareContext = (*countingConn)(nil)
	_ driver.ExecerContext      = (*countingConn)(nil)
	_ driver.QueryerContext     = (*countingConn)(nil)
	_ driver.Pinger             = (*countingConn)(nil)
	_ driver.SessionResetter    = (*countingConn)(nil)
	_ driver.Validator          = (*countingConn)(nil)
	_ driver.NamedValueChecker  = (*countingConn)(nil)
)

func (k *countingConn) Prepare(query string) (driver.Stmt, error) {
	return k.PrepareContext(context.Background(), query)
}

func (k *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := k.cn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	k.c.prepares.Add(1)
	return &countingStmt{st: st, c: k.c}, nil
}

func (k *countingConn) Close() error { return k.cn.Close() }

func (k *countingConn) Begin() (driver.Tx, error) {
	return k.BeginTx(context.Background(), driver.TxOptions{})
}

func (k *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	k.c.statements.Add(1)
	tx, err := k.cn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, k.c}, nil
}

func (k *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := k.cn.(driver.ExecerContext).ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		k.c.statements.Add(1)
	}
	return r, err
}

func (k *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := k.cn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		k.c.statements.Add(1)
	}
	return r, err
}

func (k *countingConn) Ping(ctx context.Context) error { return k.cn.(driver.Pinger).Ping(ctx) }

func (k *countingConn) ResetSession(ctx context.Context) error {
	return k.cn.(driver.SessionResetter).ResetSession(ctx)
}

func (k *countingConn) IsValid() bool { return k.cn.(driver.Validator).IsValid() }

func (k *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return k.cn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type countingTx struct {
	tx driver.Tx
	c  *Counter
}

func (t countingTx) Commit() error   { t.c.statements.Add(1); return t.tx.Commit() }
func (t countingTx) Rollback() error { t.c.statements.Add(1); return t.tx.Rollback() }

type countingStmt struct {
	st driver.Stmt
	c  *Counter
}

var (
	_ driver.StmtExecContext  = (*countingStmt)(nil)
	_ driver.StmtQueryContext = (*countingStmt)(nil)
)

func (s *countingStmt) Close() error  { return s.st.Close() }
func (s *countingStmt) NumInput() int { return s.st.NumInput() }

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.statements.Add(1)
	return s.st.Exec(args) //nolint:staticcheck // the pre-context interface, for completeness
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.statements.Add(1)
	return s.st.Query(args) //nolint:staticcheck // as Exec
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.statements.Add(1)
	return s.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.statements.Add(1)
	return s.st.(driver.StmtQueryContext).QueryContext(ctx, args)
}
