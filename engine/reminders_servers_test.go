package engine_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// A ping syncs the principal's calendars at once even when the server has
// no notification collection for it (Radicale, Xandikos): the
// notification sync gives up, the calendar sync runs all the same.
func TestPingSyncsCalendarsWithoutNotificationCollection(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	cal.mu.Lock()
	cal.noNotifications = true
	cal.mu.Unlock()
	// Let the poll at start go by first: the sync that follows the
	// ping can then only be the ping's (the next poll is hours away).
	r.syncCalendars(t)
	cal.put("a.ics", "Budget review", time.Now().Add(2*time.Hour))
	r.syncCalendars(t)
	if got := r.reminderStates(t); got[store.ReminderScheduled] != 1 {
		t.Fatalf("reminders %v, want the new event's scheduled", got)
	}
}

// A server that fails with 500 a sync from the stored token but not a
// whole sync (Xandikos, for a token it does not know) has its calendar
// synced whole: the new event is scheduled, the one gone is cancelled.
func TestCalendarSyncTokenFailingWith500SyncsWhole(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	cal.put("a.ics", "Budget review", time.Now().Add(2*time.Hour))
	r.syncCalendars(t)
	cal.mu.Lock()
	cal.failTokens = true
	delete(cal.objects, "a.ics") // a new calendar: no list of deletions
	cal.mu.Unlock()
	cal.put("b.ics", "Standup", time.Now().Add(3*time.Hour))
	r.syncCalendars(t)
	if got := r.reminderStates(t); got[store.ReminderScheduled] != 1 || got[store.ReminderCancelled] != 1 {
		t.Fatalf("reminders %v, want the new event's scheduled and the old one's cancelled", got)
	}
}

// A reminder due within seconds of its sync is in a worker's hands at
// once, not left for River's scheduler (which runs every 5 seconds) to
// make available, possibly after its trigger.
func TestReminderDueSoonIsTakenAtOnce(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	cal.put("a.ics", "Budget review", time.Now().Add(15*time.Minute+3*time.Second))
	r.ping(t, principal)
	// Read as soon as the calendar sync that queued it ends (not the
	// first to end: that may be the poll's, begun before the put).
	var jobs []*rivertype.JobRow
	r.waitUntil(t, "a reminder's job queued", func() bool {
		jobs = r.jobs(t, (engine.FireReminderArgs{}).Kind())
		return len(jobs) > 0
	})
	if len(jobs) != 1 || jobs[0].State == rivertype.JobStateScheduled {
		t.Errorf("fire_reminder jobs %+v, want one, available, running or completed", jobs)
	}
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Errorf("sent %v, want the one reminder", got)
	}
}
