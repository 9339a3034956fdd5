package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"
)

// A principal's calendar user addresses are readable by (system,
// principal) once recorded: unknown before, an empty list when the server
// named none.
func TestCalendarUserAddresses(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	fred := PrincipalKey{System: "cyrus", Principal: "/dav/principals/user/fred/"}
	set := func(addrs []string) {
		t.Helper()
		if err := db.Write(ctx, Durable, func(tx *sql.Tx) error { return SetCalendarUserAddresses(ctx, tx, fred, addrs) }); err != nil {
			t.Fatal(err)
		}
	}
	if addrs, known, err := db.CalendarUserAddresses(ctx, fred.System, fred.Principal); err != nil || known || addrs != nil {
		t.Errorf("before: %q, %v, %v; want unknown", addrs, known, err)
	}
	// The calendar sync job's row exists already; its state is kept.
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := QueueCalendarSyncs(ctx, tx, []PrincipalKey{fred})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	set([]string{"mailto:fred@example.org", "urn:uuid:1"})
	if addrs, known, err := db.CalendarUserAddresses(ctx, fred.System, fred.Principal); err != nil || !known ||
		!slices.Equal(addrs, []string{"mailto:fred@example.org", "urn:uuid:1"}) {
		t.Errorf("after: %q, %v, %v", addrs, known, err)
	}
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		again, err := FinishCalendarSync(ctx, tx, fred, "", at)
		if err == nil && again {
			t.Error("the sync job must run again: its state was lost")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	set(nil)
	if addrs, known, err := db.CalendarUserAddresses(ctx, fred.System, fred.Principal); err != nil || !known || len(addrs) != 0 {
		t.Errorf("none: %q, %v, %v; want known, empty", addrs, known, err)
	}
	if addrs, known, _ := db.CalendarUserAddresses(ctx, "other", fred.Principal); known || addrs != nil {
		t.Errorf("another system's: %q", addrs)
	}
}

// A calendar's listed tag is stored with its sync token; a principal's
// objects are listed a page at a time.
func TestCalendarListedTagAndPrincipalObjects(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1", ListedTag: "sync-token:data:,1-9"}
	recordCalendar(t, db, CalendarChange{System: "cal", Principal: "/p/fred", CalendarHref: cal.Href, Calendar: &cal, Now: at,
		Changed: []ObjectAlarms{objectAlarms("a.ics", "e1", at), objectAlarms("b.ics", "e1", at), objectAlarms("c.ics", "e1", at)}})
	other := CalendarRecord{System: "cal", Principal: "/p/wilma", Href: "/cal/wilma/Default/"}
	recordCalendar(t, db, CalendarChange{System: "cal", Principal: "/p/wilma", CalendarHref: other.Href, Calendar: &other, Now: at,
		Changed: []ObjectAlarms{objectAlarms("w.ics", "e1", at)}})
	cals, err := db.Calendars(ctx, "cal", "/p/fred")
	if err != nil || len(cals) != 1 || cals[0].ListedTag != cal.ListedTag || cals[0].SyncToken != "t1" {
		t.Errorf("Calendars = %+v, %v", cals, err)
	}
	var got []string
	for after := ""; ; {
		page, err := db.PrincipalCalendarObjects(ctx, "cal", "/p/fred", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			got = append(got, o.Href)
			after = o.Href
		}
		if len(page) < 2 {
			break
		}
	}
	if !slices.Equal(got, []string{"a.ics", "b.ics", "c.ics"}) {
		t.Errorf("fred's objects: %v", got)
	}
}

// An instance skipped for what the data said (declined) is scheduled
// again when the data no longer says it and its trigger is ahead; one
// skipped as late, or whose trigger passed, is not.
func TestRecordCalendarRevivesSkipped(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1"}
	skipped := func(oa ObjectAlarms, reason string) ObjectAlarms {
		for i := range oa.Reminders {
			oa.Reminders[i].State, oa.Reminders[i].Reason = ReminderSkipped, reason
		}
		return oa
	}
	change := func(now time.Time, oas ...ObjectAlarms) CalendarChange {
		return CalendarChange{Calendar: &cal, Changed: oas, Now: now, Revivable: []string{"declined"}}
	}
	// a1 triggers at "at", a2 an hour later.
	recordCalendar(t, db, change(at.Add(-time.Hour), skipped(objectAlarms("a.ics", "e1", at, "a1", "a2"), "declined"),
		skipped(objectAlarms("b.ics", "e1", at, "b1"), "late: 3h late")))
	if got := reminderStates(t, db); got["a1"] != ReminderSkipped || got["a2"] != ReminderSkipped || got["b1"] != ReminderSkipped {
		t.Fatalf("first: %v", got)
	}
	// Accepted at a1's trigger: a2 rings again (a1's trigger is not
	// after now); b1 was late, and stays skipped.
	got := recordCalendar(t, db, change(at, objectAlarms("a.ics", "e2", at, "a1", "a2"), objectAlarms("b.ics", "e2", at, "b1")))
	if !slices.Equal(got, []string{"a2"}) {
		t.Errorf("scheduled again %v, want [a2]", got)
	}
	if got := reminderStates(t, db); got["a1"] != ReminderSkipped || got["a2"] != ReminderScheduled || got["b1"] != ReminderSkipped {
		t.Errorf("after: %v", got)
	}
	if r, err := db.Reminder(context.Background(), "a2"); err != nil || r.Reason != "" {
		t.Errorf("a2: %+v, %v; want no reason left", r, err)
	}
}
