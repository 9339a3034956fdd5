package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// An event's alarm set a few seconds ahead in a Radicale calendar rings
// once by email, on time; the service account reads fred's calendars
// through Radicale's rights file.
func TestReminderEmailFromRadicale(t *testing.T) { reminderEmailRingsOnce(t, "radicale") }

// An event's alarm set a few seconds ahead in a Xandikos calendar rings
// once by email, on time; Xandikos serves one principal without
// authentication.
func TestReminderEmailFromXandikos(t *testing.T) { reminderEmailRingsOnce(t, "xandikos") }

// A calendar deleted and made again under the same name makes the sync
// token notifyd stored unknown to the server: Radicale refuses it (403
// DAV:valid-sync-token), Xandikos fails with 500. Either way notifyd
// syncs the calendar whole: the new calendar's alarm rings once, and the
// old calendar's event, gone, is cancelled.
func TestReminderCalendarRemadeOnRadicale(t *testing.T) { reminderCalendarRemade(t, "radicale") }

// See TestReminderCalendarRemadeOnRadicale.
func TestReminderCalendarRemadeOnXandikos(t *testing.T) { reminderCalendarRemade(t, "xandikos") }

func reminderCalendarRemade(t *testing.T, server string) {
	w := newReminderWorld(t, reminderSetup{server: server})
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	w.putEvent(t, "old", "Old calendar's meeting", later.Add(15*time.Minute))
	w.ping(t)
	w.waitReminders(t, time.Minute, "scheduled instance of the old calendar's event", func(rs []map[string]any) bool {
		return len(rs) == 1 && rs[0]["state"] == "scheduled"
	})

	peertest.DeleteCalendarObject(t, w.srv, reminderUser, w.calendar)
	if path := peertest.MakeCalendar(t, w.srv, reminderUser, "work"); path != w.calendar {
		t.Fatalf("the calendar was made again at %s, not %s", path, w.calendar)
	}
	trigger := time.Now().Add(8 * time.Second).Truncate(time.Second)
	w.putEvent(t, "new", "New calendar's meeting", trigger.Add(15*time.Minute))
	w.ping(t)

	m := w.sink.WaitMessages(t, 1, time.Minute)[0]
	checkLate(t, "the new calendar's reminder", trigger, mailArrival(t, m))
	rs := w.waitSettled(t, trigger.Add(time.Second))
	if got := w.sink.Messages(t); len(got) != 1 || len(mailsAbout(got, "New calendar's meeting")) != 1 {
		t.Fatalf("%d messages, want the new calendar's reminder once", len(got))
	}
	if r := reminderFor(t, rs, "Old calendar's meeting", later); r["state"] != "cancelled" {
		t.Errorf("the old calendar's event: %v (%v), want cancelled", r["state"], r["reason"])
	}
	if r := reminderFor(t, rs, "New calendar's meeting", trigger); r["state"] != "fired" {
		t.Errorf("the new calendar's event: %v (%v), want fired", r["state"], r["reason"])
	}
	if n := metric(t, w.nd, `notifyd_calendars_synced_total{outcome="resync",system="`+w.system+`"}`); n < 1 {
		t.Errorf("no resync counted")
	}
}
