// Package testdb opens the database a test suite runs on: a SQLite file in
// a temporary directory, or, when peertest.EnvTestDatabase is "postgres",
// a new database on the PostgreSQL server of peertest.WithPostgres.
// make test runs the store, engine and API suites on both.
package testdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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

// QueryRow is a query of one row that tests run on db's tables. Its Scan
// runs it in one of db's write transactions (store.DB.Write), the only
// way into the database besides the store's own methods.
func QueryRow(db *store.DB, query string, args ...any) Row { return Row{db, query, args} }

// Row is a query of one row; see QueryRow.
type Row struct {
	db    *store.DB
	query string
	args  []any
}

// Scan runs the query and scans its row into dest.
func (r Row) Scan(dest ...any) error {
	return r.db.Write(context.Background(), store.Lazy, func(tx *sql.Tx) error {
		return tx.QueryRow(r.query, r.args...).Scan(dest...)
	})
}

// Exec runs a statement on db's tables in one of its write transactions.
func Exec(db *store.DB, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Write(context.Background(), store.Lazy, func(tx *sql.Tx) error {
		var err error
		res, err = tx.Exec(query, args...)
		return err
	})
	return res, err
}

// Query runs a query on db's tables in one of its write transactions and
// calls fn with each row.
func Query(db *store.DB, query string, args []any, fn func(*sql.Rows) error) error {
	return db.Write(context.Background(), store.Lazy, func(tx *sql.Tx) error {
		rows, err := tx.Query(query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// SyncJobs counts the sync_principal jobs in the queue (in any state) for
// one principal.
func SyncJobs(tb testing.TB, db *store.DB, system, principal string) int {
	tb.Helper()
	return jobsOf(tb, db, "sync_principal", system, principal)
}

// jobsOf counts the jobs of kind (in any state) whose args name system and
// principal.
func jobsOf(tb testing.TB, db *store.DB, kind, system, principal string) int {
	tb.Helper()
	args := "json(args)" // SQLite keeps binary JSON
	if db.Postgres() {
		args = "CAST(args AS TEXT)"
	}
	n := 0
	err := Query(db, `SELECT `+args+` FROM river_job WHERE kind = '`+kind+`'`, nil, func(rows *sql.Rows) error {
		var raw string
		var args struct{ System, Principal string }
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return fmt.Errorf("%s job args %q: %v", kind, raw, err)
		}
		if args.System == system && args.Principal == principal {
			n++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
