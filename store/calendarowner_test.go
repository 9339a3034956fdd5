package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"
)

// CalendarOwners lists every calendar of one system with the principal it
// is synced for, and no other system's.
func TestCalendarOwners(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	record := func(system, principal, href string) {
		t.Helper()
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			_, err := RecordCalendar(ctx, tx, CalendarChange{System: system, Principal: principal, CalendarHref: href,
				Calendar: &CalendarRecord{System: system, Principal: principal, Href: href}, Now: time.Now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	record("radicale", "/fred/", "/fred/work/")
	record("radicale", "/fred/", "/fred/home/")
	record("radicale", "/jim/", "/jim/work/")
	record("cyrus", "/dav/principals/user/fred/", "/dav/calendars/user/notifier/fred.work/")
	got, err := db.CalendarOwners(ctx, "radicale")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b CalendarOwner) int { return strings.Compare(a.Href, b.Href) })
	want := []CalendarOwner{{"/fred/", "/fred/home/"}, {"/fred/", "/fred/work/"}, {"/jim/", "/jim/work/"}}
	if !slices.Equal(got, want) {
		t.Fatalf("radicale: %v, want %v", got, want)
	}
	if got, err := db.CalendarOwners(ctx, "xandikos"); err != nil || len(got) != 0 {
		t.Fatalf("a system without calendars: %v, %v", got, err)
	}
}
