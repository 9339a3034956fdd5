// Package testdb opens the database a test suite runs on: a SQLite file in
// a temporary directory, or, when peertest.EnvTestDatabase is "postgres",
// a new database on the PostgreSQL server of peertest.WithPostgres.
// make test runs the store, engine and API suites on both.
package testdb

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/store"
)

// Open opens a new, unmigrated database that the test's cleanup closes.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	var db *store.DB
	var err error
	if peertest.OnPostgres() {
		db, err = store.OpenPostgres(context.Background(), peertest.PostgresDatabase(tb))
	} else {
		db, err = store.OpenSQLite(filepath.Join(tb.TempDir(), "notifyd.db"))
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// SyncJobs counts the sync_principal jobs in the queue (in any state) for
// one principal.
func SyncJobs(tb testing.TB, db *store.DB, system, principal string) int {
	tb.Helper()
	args := "json(args)" // SQLite keeps binary JSON
	if db.Postgres() {
		args = "CAST(args AS TEXT)"
	}
	rows, err := db.SQL.Query(`SELECT ` + args + ` FROM river_job WHERE kind = 'sync_principal'`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var raw string
		var args struct{ System, Principal string }
		if err := rows.Scan(&raw); err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			tb.Fatalf("sync job args %q: %v", raw, err)
		}
		if args.System == system && args.Principal == principal {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}
