package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// recordCalendar writes c in one durable write and returns the fire keys
// it scheduled.
func recordCalendar(t *testing.T, db *DB, c CalendarChange) []string {
	t.Helper()
	var out CalendarOutcome
	err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
		var err error
		out, err = RecordCalendar(context.Background(), tx, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range out.Scheduled {
		keys = append(keys, r.FireKey)
	}
	return keys
}

func objectAlarms(href, etag string, seen time.Time, keys ...string) ObjectAlarms {
	oa := ObjectAlarms{Object: CalendarObject{Href: href, ETag: etag, UID: "uid-" + href, Data: []byte("BEGIN:VCALENDAR"), FirstSeenAt: seen}}
	for i, k := range keys {
		oa.Reminders = append(oa.Reminders, ReminderRecord{FireKey: k, TriggerAt: at.Add(time.Duration(i) * time.Hour),
			Details: []byte(`{"type":"reminder"}`)})
	}
	return oa
}

func reminderStates(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rs, err := db.Reminders(context.Background(), ReminderFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.FireKey] = r.State
	}
	return out
}

// An edit that keeps an object's fire keys schedules nothing again; one
// that moves a trigger cancels the old instance and schedules the new one
// once; a deleted object's instances are cancelled; a fired instance stays
// fired whatever happens to its object.
func TestRecordCalendarComparesInstancesByFireKey(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/", SyncToken: "t1"}
	change := func(removed []string, oas ...ObjectAlarms) CalendarChange {
		return CalendarChange{Calendar: &cal, Changed: oas, Removed: removed, Now: at}
	}
	if got := recordCalendar(t, db, change(nil, objectAlarms("a.ics", "e1", at, "a1", "a2"), objectAlarms("b.ics", "e1", at, "b1"))); !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Fatalf("first sync scheduled %v", got)
	}
	// Only the summary changed: same keys.
	if got := recordCalendar(t, db, change(nil, objectAlarms("a.ics", "e2", at, "a1", "a2"))); len(got) != 0 {
		t.Errorf("an edit that keeps every trigger scheduled %v", got)
	}
	// a2 fires; then a is moved (a1 → a3), and b is deleted.
	err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
		r, err := ClaimReminder(context.Background(), tx, "a2", ReminderFired, "", at)
		if err == nil && r == nil {
			err = fmt.Errorf("a2 not claimed")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := recordCalendar(t, db, change([]string{"b.ics"}, objectAlarms("a.ics", "e3", at, "a3"))); !slices.Equal(got, []string{"a3"}) {
		t.Errorf("the move scheduled %v, want a3", got)
	}
	// a3 is acknowledged; a4 is new but acknowledged already.
	acked := objectAlarms("a.ics", "e4", at, "a3", "a4")
	for i := range acked.Reminders {
		acked.Reminders[i].State, acked.Reminders[i].Reason = ReminderSkipped, "acknowledged"
	}
	if got := recordCalendar(t, db, change(nil, acked)); len(got) != 0 {
		t.Errorf("acknowledged instances scheduled %v", got)
	}
	want := map[string]string{"a1": ReminderCancelled, "a2": ReminderFired, "a3": ReminderSkipped, "a4": ReminderSkipped, "b1": ReminderCancelled}
	if got := reminderStates(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if etags, err := db.CalendarObjectETags(context.Background(), "cal", "/p/fred", cal.Href); err != nil || fmt.Sprint(etags) != "map[a.ics:e4]" {
		t.Errorf("objects %v (%v), want a.ics at e4 only", etags, err)
	}
}

// An object's first-seen time is that of its version: kept while the
// ETag is the same, renewed when it changes.
func TestCalendarObjectFirstSeenIsPerVersion(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/"}
	later := at.Add(time.Hour)
	seen := func() time.Time {
		objs, err := db.CalendarObjectsOf(context.Background(), "cal", "/p/fred", []string{"a.ics"})
		if err != nil || len(objs) != 1 {
			t.Fatalf("objects %v, %v", objs, err)
		}
		return objs[0].FirstSeenAt
	}
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Changed: []ObjectAlarms{objectAlarms("a.ics", "e1", at)}, Now: at})
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Changed: []ObjectAlarms{objectAlarms("a.ics", "e1", later)}, Now: later})
	if got := seen(); !got.Equal(at) {
		t.Errorf("same version re-read: first seen %v, want %v", got, at)
	}
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Changed: []ObjectAlarms{objectAlarms("a.ics", "e2", later)}, Now: later})
	if got := seen(); !got.Equal(later) {
		t.Errorf("new version: first seen %v, want %v", got, later)
	}
}

// A reminder is claimed once, whichever of two runs tries.
func TestClaimReminderOnce(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/"}
	recordCalendar(t, db, CalendarChange{Calendar: &cal, Changed: []ObjectAlarms{objectAlarms("a.ics", "e1", at, "k")}, Now: at})
	claims := 0
	for range 2 {
		err := db.Write(context.Background(), Durable, func(tx *sql.Tx) error {
			r, err := ClaimReminder(context.Background(), tx, "k", ReminderFired, "", at)
			if r != nil {
				claims++
				if r.ObjectHref != "a.ics" || !r.TriggerAt.Equal(at) || string(r.Details) != `{"type":"reminder"}` {
					t.Errorf("claimed %+v", r)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if claims != 1 {
		t.Errorf("claimed %d times, want once", claims)
	}
}

// A calendar sync asked for while one is queued makes it run once more,
// not a second job.
func TestQueueCalendarSyncsCoalesces(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	fred := PrincipalKey{System: "cal", Principal: "/p/fred"}
	queue := func() (need bool) {
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			n, err := QueueCalendarSyncs(ctx, tx, []PrincipalKey{fred})
			if err == nil {
				need = n[0]
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return need
	}
	finish := func() (again bool) {
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			again, err = FinishCalendarSync(ctx, tx, fred, "", at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return again
	}
	if !queue() {
		t.Fatal("first request: no job")
	}
	if queue() {
		t.Fatal("second request while queued: a second job")
	}
	if !finish() {
		t.Fatal("the job did not run again for the request made while it was queued")
	}
	if finish() {
		t.Fatal("the job ran again with nothing asked for")
	}
	if !queue() {
		t.Fatal("a request after the job finished: no job")
	}
}

// The poll finds principals whose subscriptions may want the types a
// calendar sync serves and whose calendars are not queued and were
// synced before the cutoff.
func TestCalendarHomesToPoll(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	wants := sampleSub("wants") // share invites and reminders
	all := sampleSub("all")
	all.Principal, all.Types = "/principals/users/wilma", nil
	none := sampleSub("none")
	none.Principal, none.Types = "/principals/users/barney", wants.Types[:1]
	updates := sampleSub("updates")
	updates.Principal, updates.Types = "/principals/users/betty", []notifyd.NotificationType{notifyd.TypeTodoModified}
	for _, s := range []*notifyd.Subscription{wants, all, none, updates} {
		if err := db.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	poll := func(cutoff time.Time) string {
		keys, err := db.CalendarHomesToPoll(ctx, cutoff, 10, []string{"reminder"})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(keys)
	}
	if got, want := poll(at), "[{bedework /principals/users/fred} {bedework /principals/users/wilma}]"; got != want {
		t.Fatalf("never synced: %s, want %s", got, want)
	}
	keys, err := db.CalendarHomesToPoll(ctx, at, 10, []string{"reminder", "event-created", "todo-modified"})
	if got, want := fmt.Sprint(keys), "[{bedework /principals/users/betty} {bedework /principals/users/fred} {bedework /principals/users/wilma}]"; err != nil || got != want {
		t.Fatalf("with updates: %s, %v; want %s", got, err, want)
	}
	if keys, err := db.CalendarHomesToPoll(ctx, at, 10, nil); err != nil || len(keys) != 0 {
		t.Fatalf("no types: %v, %v; want none", keys, err)
	}
	fred := PrincipalKey{System: "bedework", Principal: "/principals/users/fred"}
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		if _, err := QueueCalendarSyncs(ctx, tx, []PrincipalKey{fred}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := poll(at), "[{bedework /principals/users/wilma}]"; got != want {
		t.Errorf("fred queued: %s, want %s", got, want)
	}
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := FinishCalendarSync(ctx, tx, fred, "", at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := poll(at), "[{bedework /principals/users/wilma}]"; got != want {
		t.Errorf("fred synced at the cutoff: %s, want %s", got, want)
	}
	if got, want := poll(at.Add(time.Second)), "[{bedework /principals/users/fred} {bedework /principals/users/wilma}]"; got != want {
		t.Errorf("fred synced before the cutoff: %s, want %s", got, want)
	}
}
