package testdb

import (
	"database/sql"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// CalendarSyncJobs counts the calendar sync jobs (sync_calendars) of one
// principal, in any state.
func CalendarSyncJobs(tb testing.TB, db *store.DB, system, principal string) int {
	tb.Helper()
	return jobsOf(tb, db, "sync_calendars", system, principal)
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
