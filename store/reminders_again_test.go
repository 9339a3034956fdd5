package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"
)

// instance is an alarm instance of the data: key at trigger, skipped for
// reason unless it is "".
func instance(key string, trigger time.Time, reason string) ReminderRecord {
	r := ReminderRecord{FireKey: key, TriggerAt: trigger, Details: []byte(`{"type":"reminder","summary":"` + key + `"}`)}
	if reason != "" {
		r.State, r.Reason = ReminderSkipped, reason
	}
	return r
}

// object is an object at href, version etag, with instances.
func object(href, etag string, instances ...ReminderRecord) ObjectAlarms {
	return ObjectAlarms{Object: CalendarObject{Href: href, ETag: etag, UID: "uid", Data: []byte("BEGIN:VCALENDAR"), FirstSeenAt: at},
		Reminders: instances}
}

// claim claims key as fired in one write, and reports whether it did.
func claim(t *testing.T, db *DB, key string, now time.Time) bool {
	t.Helper()
	var claimed bool
	err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
		r, err := ClaimReminder(context.Background(), tx, key, ReminderFired, "", now)
		claimed = r != nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return claimed
}

// reminder returns the stored reminder with key key.
func reminder(t *testing.T, db *DB, key string) ReminderRecord {
	t.Helper()
	r, err := db.Reminder(context.Background(), key)
	if err != nil {
		t.Fatal(key, err)
	}
	return *r
}

// An event moved away and back before its trigger has its original
// instance scheduled again (returned for its job, reason cleared, new
// details), fired once however many jobs claim it; one moved away and
// back after it fired, or after its trigger passed, is not; one skipped
// as late stays skipped.
func TestRecordCalendarMovedAwayAndBack(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1"}
	change := func(now time.Time, oas ...ObjectAlarms) CalendarChange {
		return CalendarChange{Calendar: &cal, Changed: oas, Now: now, Revivable: []string{"declined"}}
	}
	early := at.Add(-2 * time.Hour)
	// a: rings at "at"; b: rang already; c: skipped as late (made up:
	// late is decided when due, here ahead to show it is kept).
	first := []ObjectAlarms{object("a.ics", "e1", instance("a", at, "")), object("b.ics", "e1", instance("b", early, "")),
		object("c.ics", "e1", instance("c", at, "late: 3h late"))}
	if got := recordCalendar(t, db, change(early.Add(-time.Minute), first...)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("first sync scheduled %v", got)
	}
	if !claim(t, db, "b", early) {
		t.Fatal("b not fired")
	}
	now := early.Add(time.Minute)
	away := []ObjectAlarms{object("a.ics", "e2", instance("a-moved", at.Add(time.Hour), "")),
		object("b.ics", "e2", instance("b-moved", early.Add(time.Hour), "")), object("c.ics", "e2", instance("c-moved", at.Add(time.Hour), ""))}
	if got := recordCalendar(t, db, change(now, away...)); !slices.Equal(got, []string{"a-moved", "b-moved", "c-moved"}) {
		t.Fatalf("moving away scheduled %v", got)
	}
	back := []ObjectAlarms{object("a.ics", "e3", instance("a", at, "")), object("b.ics", "e3", instance("b", early, "")),
		object("c.ics", "e3", instance("c", at, ""))}
	if got := recordCalendar(t, db, change(now, back...)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("moving back scheduled %v, want [a] only", got)
	}
	want := map[string]string{"a": ReminderScheduled, "a-moved": ReminderCancelled, "b": ReminderFired, "b-moved": ReminderCancelled,
		"c": ReminderSkipped, "c-moved": ReminderCancelled}
	if got := reminderStates(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if r := reminder(t, db, "a"); r.Reason != "" || string(r.Details) != `{"type":"reminder","summary":"a"}` || !r.UpdatedAt.Equal(now) {
		t.Errorf("a scheduled again: %+v, want no reason, updated now", r)
	}
	if r := reminder(t, db, "c"); r.Reason != "late: 3h late" {
		t.Errorf("c: reason %q, want still late", r.Reason)
	}
	// The job of its first scheduling and that of the second: one fires.
	if claims := []bool{claim(t, db, "a", at), claim(t, db, "a", at)}; !slices.Equal(claims, []bool{true, false}) {
		t.Errorf("two jobs claimed a: %v, want the first only", claims)
	}
	// Moved away and back again once it fired: nothing again.
	recordCalendar(t, db, change(now, object("a.ics", "e4", instance("a-moved", at.Add(time.Hour), ""))))
	if got := recordCalendar(t, db, change(now, back[0])); len(got) != 0 {
		t.Errorf("moving back after it fired scheduled %v", got)
	}
	if r := reminder(t, db, "a"); r.State != ReminderFired {
		t.Errorf("a fired, moved away and back: %s", r.State)
	}
}

// An instance cancelled and yielded again after its trigger passed stays
// cancelled (nothing rang at its time; it will not ring late); an event
// deleted and made again under another name, before its trigger, has its
// instances scheduled again, as the new object's.
func TestRecordCalendarBackAgainAfterTriggerOrElsewhere(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1"}
	other := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Other/", SyncToken: "t1"}
	now := at.Add(-time.Hour)
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Now: now,
		Changed: []ObjectAlarms{object("a.ics", "e1", instance("a", at, ""), instance("a-soon", now.Add(time.Minute), ""))}})
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Now: now, Removed: []string{"a.ics"}})
	// Made again in another calendar, after a-soon's trigger.
	later := now.Add(2 * time.Minute)
	got := recordCalendar(t, db, CalendarChange{Calendar: &other, Now: later,
		Changed: []ObjectAlarms{object("b.ics", "e1", instance("a", at, ""), instance("a-soon", now.Add(time.Minute), ""))}})
	if !slices.Equal(got, []string{"a"}) {
		t.Errorf("made again scheduled %v, want [a]", got)
	}
	if r := reminder(t, db, "a"); r.State != ReminderScheduled || r.ObjectHref != "b.ics" || r.CalendarHref != other.Href {
		t.Errorf("a made again: %s of %s %s, want scheduled, of the new object", r.State, r.CalendarHref, r.ObjectHref)
	}
	if r := reminder(t, db, "a-soon"); r.State != ReminderCancelled {
		t.Errorf("a-soon, back after its trigger: %s, want still cancelled", r.State)
	}
	// The old name, reported deleted again, cancels nothing now; the new
	// one deleted does.
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Now: later, Removed: []string{"a.ics"}})
	if r := reminder(t, db, "a"); r.State != ReminderScheduled {
		t.Errorf("a after its old name was deleted again: %s, want scheduled", r.State)
	}
	recordCalendar(t, db, CalendarChange{Calendar: &other, Now: later, Removed: []string{"b.ics"}})
	if r := reminder(t, db, "a"); r.State != ReminderCancelled {
		t.Errorf("a after its new name was deleted: %s, want cancelled", r.State)
	}
}

// A skipped instance skipped again for another reason the data decides
// has that reason stored (the one it is skipped for now), while its
// trigger is ahead; one skipped as late keeps its reason; a cancelled one
// back but skipped is skipped with its reason, and counted as skipped.
func TestRecordCalendarKeepsSkipReasonCurrent(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1"}
	revivable := []string{"declined", "acknowledged"}
	record := func(now time.Time, oas ...ObjectAlarms) CalendarOutcome {
		t.Helper()
		var out CalendarOutcome
		err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
			var err error
			out, err = RecordCalendar(context.Background(), tx, CalendarChange{Calendar: &cal, Changed: oas, Now: now, Revivable: revivable})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	reasons := func() map[string]string {
		out := map[string]string{}
		for _, k := range []string{"a", "late", "moved"} {
			r := reminder(t, db, k)
			out[k] = r.State + " " + r.Reason
		}
		return out
	}
	now := at.Add(-time.Hour)
	record(now, object("a.ics", "e1", instance("a", at, "declined")), object("l.ics", "e1", instance("late", at, "late: 2h late")),
		object("m.ics", "e1", instance("moved", at, "")))
	record(now, object("m.ics", "e2", instance("moved-away", at.Add(time.Hour), "")))
	out := record(now, object("a.ics", "e2", instance("a", at, "acknowledged")), object("l.ics", "e2", instance("late", at, "declined")),
		object("m.ics", "e3", instance("moved", at, "declined")))
	want := map[string]string{"a": "skipped acknowledged", "late": "skipped late: 2h late", "moved": "skipped declined"}
	if got := reasons(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the second reasons: %v, want %v", got, want)
	}
	if len(out.Scheduled) != 0 || len(out.Skipped) != 1 || out.Skipped[0].FireKey != "moved" || out.Skipped[0].Reason != "declined" {
		t.Errorf("outcome %+v, want the moved one back and skipped, only", out)
	}
	// Its trigger passed, the reason stays what it was then.
	record(at.Add(time.Minute), object("a.ics", "e3", instance("a", at, "declined")))
	if r := reminder(t, db, "a"); r.Reason != "acknowledged" {
		t.Errorf("a, skipped for another reason after its trigger: %q, want acknowledged still", r.Reason)
	}
}

// An event moved to another calendar whose sync comes first keeps its
// reminders: the old calendar's sync, which finds it gone, cancels
// nothing (issue 14's leftover: they were cancelled).
func TestRecordCalendarMoveNewCalendarFirst(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	work := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/work/", SyncToken: "t1"}
	home := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/home/", SyncToken: "t1"}
	now := at.Add(-time.Hour)
	recordCalendar(t, db, CalendarChange{Calendar: &work, Changed: []ObjectAlarms{objectAlarms("/cal/fred/work/a.ics", "e1", now, "k1")}, Now: now})
	// The event is in home now: home syncs first, then work.
	recordCalendar(t, db, CalendarChange{Calendar: &home, Changed: []ObjectAlarms{objectAlarms("/cal/fred/home/a.ics", "e2", now, "k1")}, Now: now})
	recordCalendar(t, db, CalendarChange{Calendar: &work, Removed: []string{"/cal/fred/work/a.ics"}, Now: now})
	if got := reminderStates(t, db); got["k1"] != ReminderScheduled {
		t.Fatalf("reminders %v, want k1 scheduled", got)
	}
	r, err := db.Reminder(context.Background(), "k1")
	if err != nil || r.ObjectHref != "/cal/fred/home/a.ics" || r.CalendarHref != home.Href {
		t.Fatalf("k1 %+v, %v: want it in home", r, err)
	}
}
