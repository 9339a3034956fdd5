package store

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// A parameter that is a LIMIT's value, and nothing else, gets a unary
// plus: not a word in a string, a name or a comment.
func TestLimitAsExpression(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`SELECT id FROM t ORDER BY id LIMIT $3`, `SELECT id FROM t ORDER BY id LIMIT +$3`},
		{`SELECT id FROM t LIMIT ? OFFSET ?`, `SELECT id FROM t LIMIT +? OFFSET ?`},
		{"SELECT 1 FROM t\n    limit\t?12\n)", "SELECT 1 FROM t\n    limit\t+?12\n)"},
		{`SELECT 1 LIMIT :max`, `SELECT 1 LIMIT +:max`},
		{`SELECT 1 LIMIT @max_to_lock`, `SELECT 1 LIMIT +@max_to_lock`},
		{`SELECT 1 LIMIT /* n */ $1`, `SELECT 1 LIMIT /* n */ +$1`},
		{"SELECT 1 LIMIT -- n\n $1", "SELECT 1 LIMIT -- n\n +$1"},
		{`SELECT 1 LIMIT $1, $2`, `SELECT 1 LIMIT +$1, +$2`},
		{`SELECT 1 LIMIT (($1))`, `SELECT 1 LIMIT ((+$1))`},
		{`SELECT id FROM t LIMIT $1 + 0`, `SELECT id FROM t LIMIT +$1 + 0`},
		{`SELECT 1 LIMIT (SELECT n FROM u LIMIT $1)`, `SELECT 1 LIMIT (SELECT n FROM u LIMIT +$1)`},
		{`SELECT (SELECT x FROM u LIMIT $1) FROM t LIMIT $2`, `SELECT (SELECT x FROM u LIMIT +$1) FROM t LIMIT +$2`},
		// Unchanged: no parameter, or not a LIMIT's whole value, or not SQL.
		{`SELECT id FROM t LIMIT 10`, `SELECT id FROM t LIMIT 10`},
		{`SELECT id FROM t LIMIT 5 OFFSET $1`, `SELECT id FROM t LIMIT 5 OFFSET $1`},
		{`SELECT id FROM t LIMIT -$1`, `SELECT id FROM t LIMIT -$1`},
		{`SELECT f(x, $1) FROM t LIMIT 1`, `SELECT f(x, $1) FROM t LIMIT 1`},
		{`SELECT 'LIMIT $1', "LIMIT $2" FROM t`, `SELECT 'LIMIT $1', "LIMIT $2" FROM t`},
		{`SELECT 'it''s LIMIT $1' FROM t`, `SELECT 'it''s LIMIT $1' FROM t`},
		{"SELECT [limit] $1, `limit` $2", "SELECT [limit] $1, `limit` $2"},
		{"-- LIMIT $1\nSELECT 1", "-- LIMIT $1\nSELECT 1"},
		{`/* LIMIT $1 */ SELECT 1`, `/* LIMIT $1 */ SELECT 1`},
		{`SELECT nolimit $1, limits $2`, `SELECT nolimit $1, limits $2`},
		{`INSERT INTO t VALUES ('unterminated LIMIT $1`, `INSERT INTO t VALUES ('unterminated LIMIT $1`},
	} {
		if got := limitAsExpression(c.in); got != c.want {
			t.Errorf("limitAsExpression(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A statement whose LIMIT is a parameter still returns what it did: the
// unary plus changes nothing in the value, or in its errors.
func TestLimitParameterResults(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	var n int
	for _, c := range []struct {
		limit any
		want  int
	}{{2, 2}, {int64(0), 0}, {-1, 3}, {"2", 2}} {
		if err := db.QueryRow(`SELECT count(*) FROM (SELECT id FROM t ORDER BY id LIMIT $1)`, c.limit).Scan(&n); err != nil || n != c.want {
			t.Errorf("LIMIT %#v: %d rows, %v; want %d", c.limit, n, err, c.want)
		}
	}
	for _, bad := range []any{nil, 2.5, "two"} {
		if err := db.QueryRow(`SELECT count(*) FROM (SELECT id FROM t ORDER BY id LIMIT $1)`, bad).Scan(&n); err == nil {
			t.Errorf("LIMIT %#v: %d rows, want SQLite's datatype mismatch", bad, n)
		}
	}
}

// River's job fetch, which runs many times a second, is planned once:
// SQLite's program for it does not depend on how many jobs it asks for
// (see limitAsExpression).
func TestRiverFetchPlannedOnce(t *testing.T) {
	onlySQLite(t, "River's SQLite driver")
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	drv := riversqlite.New(db.writer)
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{7, 8} {
		params := &riverdriver.JobGetAvailableParams{ClientID: "c", MaxAttemptedBy: 100, MaxToLock: max, Queue: "default"}
		if _, err := drv.GetExecutor().JobGetAvailable(ctx, params); err != nil {
			t.Fatal(err)
		}
	}
	fetch := cachedStatements(t, db, func(q string) bool { return strings.Contains(q, "JobGetAvailable") })
	if len(fetch) != 1 || !strings.Contains(fetch[0], "LIMIT ?") {
		t.Fatalf("River's job fetch with a LIMIT parameter not found among the statements run: %q", fetch)
	}
	q := fetch[0]
	if a, b := explain(t, db, "EXPLAIN", q, filled(params(q), 7)...), explain(t, db, "EXPLAIN", q, filled(params(q), 8)...); a != b {
		t.Errorf("the program of River's job fetch depends on the values bound to it")
	}
}
