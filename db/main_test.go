package db_test

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"importops/db/dbtest"
)

// testDB is this package's own database (see dbtest.Main).
var testDB *sqlx.DB

func TestMain(m *testing.M) { dbtest.Main(m, "db", &testDB) }
