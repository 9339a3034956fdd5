package testdb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// CalendarSyncJobs counts the calendar sync jobs (sync_calendars) of one
// principal, in any state.
func CalendarSyncJobs(tb testing.TB, db *store.DB, system, principal string) int {
	tb.Helper()
	args := "json(args)" // SQLite keeps binary JSON
	if db.Postgres() {
		args = "CAST(args AS TEXT)"
	}
	n := 0
	err := Query(db, `SELECT `+args+` FROM river_job WHERE kind = 'sync_calendars'`, nil, func(rows *sql.Rows) error {
		var raw string
		var args struct{ System, Principal string }
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return fmt.Errorf("calendar sync job args %q: %v", raw, err)
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

// RecordCalendar stores a calendar that notifyd syncs for principal's
// reminders, as a calendar sync would.
func RecordCalendar(tb testing.TB, db *store.DB, system, principal, href string) {
	tb.Helper()
	err := db.Write(tb.Context(), store.Durable, func(tx *sql.Tx) error {
		_, err := store.RecordCalendar(tb.Context(), tx, store.CalendarChange{System: system, Principal: principal, CalendarHref: href,
			Calendar: &store.CalendarRecord{System: system, Principal: principal, Href: href, SyncToken: "token-1"}, Now: time.Now()})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}
