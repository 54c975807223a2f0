package db_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"importops/db"
)

// The statements every staff request and the seeding mutations run are
// each one call of a PL/pgSQL function (migration 0010) that keeps one
// generic plan per connection: sent unnamed, as the server sends every
// statement, a plain statement would be parsed and planned on every call,
// which cost PostgreSQL about as much again as running it.
func TestStaffHotStatementsArePlannedOnce(t *testing.T) {
	t.Parallel()
	call := regexp.MustCompile(`^SELECT [A-Za-z_.,\s:]+ FROM ([a-z_]+)\((\$\d+(, )?)+\)( [a-z])?$`)
	for name, sql := range db.StaffHotStatements {
		m := call.FindStringSubmatch(strings.Join(strings.Fields(sql), " "))
		if m == nil {
			t.Errorf("%s runs %q, want only a select from one function call", name, sql)
			continue
		}
		var lang string
		var config pq.StringArray
		err := testDB.QueryRowxContext(context.Background(), `SELECT l.lanname, coalesce(p.proconfig, '{}')
			FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = $1`, m[1]).Scan(&lang, &config)
		if err != nil {
			t.Errorf("%s: function %s: %v", name, m[1], err)
			continue
		}
		if lang != "plpgsql" || !slices.Contains(config, "plan_cache_mode=force_generic_plan") {
			t.Errorf("%s calls %s (%s, settings %v), want PL/pgSQL with plan_cache_mode=force_generic_plan", name, m[1], lang, config)
		}
	}
}
