// Package e2e drives the real server through HTTP against a real
// PostgreSQL database, as the staff frontend and the customer page do.
package e2e

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"importops/db/dbtest"
)

var testDB *sqlx.DB

func TestMain(m *testing.M) { dbtest.Main(m, "e2e", &testDB) }
