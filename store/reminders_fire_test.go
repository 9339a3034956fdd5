package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// Reminders due together are fired by the hundred in a few multi-row
// statements: each still scheduled is claimed once, with its notification
// and its deliveries (queued, as created); fired again, none is claimed
// and nothing is created twice; one skipped late gets no notification.
func TestFireRemindersClaimsEachOnce(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	const n = 101 // chunks of 64, 32, 4 and 1
	cal := CalendarRecord{System: "cal", Principal: "/p/fred", Href: "/cal/fred/Default/"}
	var fs []ReminderFiring
	for i := range n {
		key := fmt.Sprintf("k%03d", i)
		recordCalendar(t, db, CalendarChange{Calendar: &cal, Changed: []ObjectAlarms{objectAlarms(key+".ics", "e1", at, key)}, Now: at})
		f := ReminderFiring{FireKey: key, System: "cal", Principal: "/p/fred", State: ReminderFired,
			Notification: NotificationRecord{ID: "n-" + key, Href: key + ".ics", Type: "reminder", Parsed: []byte(`{}`)},
			Deliveries: []DeliveryRecord{{ID: "d-" + key, NotificationID: "n-" + key, SubscriptionID: "s", MethodID: "m",
				Channel: "email", Address: "fred@example.org"}}}
		if i == n-1 {
			f.State, f.Reason, f.Deliveries = ReminderSkipped, "late", nil
		}
		fs = append(fs, f)
	}
	fire := func() (claimed, created map[string]bool) {
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			claimed, created, err = FireReminders(ctx, tx, fs, at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return claimed, created
	}
	if claimed, created := fire(); len(claimed) != n || len(created) != n-1 {
		t.Fatalf("claimed %d, created %d deliveries, want %d and %d", len(claimed), len(created), n, n-1)
	}
	if claimed, created := fire(); len(claimed) != 0 || len(created) != 0 {
		t.Fatalf("fired again: claimed %d, created %d deliveries, want none", len(claimed), len(created))
	}
	if got := deliveryIDsOfType(t, db, "reminder"); len(got) != n-1 {
		t.Errorf("the delivery log finds %d deliveries of reminders, want %d", len(got), n-1)
	}
	var ds map[string]*DeliveryRecord
	var ns map[string]*NotificationRecord
	last, err := db.Reminder(ctx, "k100")
	if err != nil {
		t.Fatal(err)
	}
	states := reminderStates(t, db)
	ds, ns, err = db.DeliveriesToSend(ctx, []string{"d-k000", "d-k099", "d-k100"})
	if err != nil {
		t.Fatal(err)
	}
	if states["k000"] != ReminderFired || last.State != ReminderSkipped || len(ds) != 2 || len(ns) != 2 {
		t.Fatalf("states %s %s, deliveries %d, notifications %d", states["k000"], last.State, len(ds), len(ns))
	}
	for _, d := range ds {
		if d.Status != DeliveryQueued || !d.QueuedAt.Equal(at) || !d.CreatedAt.Equal(at) || d.System != "cal" || d.Address != "fred@example.org" {
			t.Errorf("delivery %+v, want queued at %v as created", d, at)
		}
	}
}
