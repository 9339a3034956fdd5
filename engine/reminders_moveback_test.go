package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// soonTrigger is a trigger far enough ahead for a test's few syncs to
// happen before it, near enough for the test to wait for it. It syncs
// once first, so that the engine's start (seconds) is not taken from it.
func (r *rig) soonTrigger(t *testing.T) time.Time {
	t.Helper()
	r.syncCalendars(t)
	return time.Now().Add(12 * time.Second).Truncate(time.Second)
}

// beforeTrigger fails the test if its syncs took until trigger: what it
// checks could not be checked.
func beforeTrigger(t *testing.T, trigger time.Time) {
	t.Helper()
	if !time.Now().Before(trigger) {
		t.Fatalf("the syncs took until the trigger (%s): too slow a machine for this test", trigger.Format(time.TimeOnly))
	}
}

// reminderAt returns the stored reminder triggering at trigger; it fails
// the test unless there is exactly one.
func (r *rig) reminderAt(t *testing.T, trigger time.Time) store.ReminderRecord {
	t.Helper()
	rs, err := r.db.Reminders(context.Background(), store.ReminderFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var found []store.ReminderRecord
	for _, rec := range rs {
		if rec.TriggerAt.Equal(trigger) {
			found = append(found, rec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d reminders at %s, want one: %+v", len(found), trigger.Format(time.TimeOnly), rs)
	}
	return found[0]
}

// settleUntil is settle but for the jobs of reminders triggering after
// until (those of the times an event was moved to, cancelled since):
// it waits until every other job ended, so that every job of the
// reminders due by until had its chance to ring them.
func (r *rig) settleUntil(t *testing.T, until time.Time) {
	t.Helper()
	r.waitUntil(t, "settled", func() bool {
		for _, j := range r.jobs(t, "", rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled) {
			if j.Kind == sweepKind || bytes.Contains(j.Metadata, []byte(`"cancel_attempted_at"`)) {
				continue
			}
			var args engine.FireReminderArgs
			if j.Kind == args.Kind() && json.Unmarshal(j.EncodedArgs, &args) == nil && args.Trigger.After(until) {
				continue
			}
			return false
		}
		return true
	})
}

// checkRangOnce checks that the reminder triggering at trigger fired,
// not before its trigger, and that one email was sent, for it.
func (r *rig) checkRangOnce(t *testing.T, trigger time.Time) {
	t.Helper()
	rec := r.reminderAt(t, trigger)
	if rec.State != store.ReminderFired || rec.FiredAt.Before(trigger) {
		t.Errorf("the reminder at %s is %s (%q) at %s, want fired at its trigger", trigger.Format(time.TimeOnly),
			rec.State, rec.Reason, rec.FiredAt.Format(time.TimeOnly))
	}
	t.Logf("rang %s after its trigger", rec.FiredAt.Sub(trigger))
	r.email.mu.Lock()
	defer r.email.mu.Unlock()
	if len(r.email.sent) != 1 {
		t.Fatalf("%d reminders sent, want one", len(r.email.sent))
	}
	if rem := r.email.sent[0].Notification.Reminder; rem == nil || !rem.Trigger.Equal(trigger) {
		t.Errorf("sent %+v, want the reminder at %s", rem, trigger.Format(time.TimeOnly))
	}
}

// An event moved to another time and back before its reminder's trigger
// rings once, at the original time: the original instance is scheduled
// again, and the job left from its first scheduling does not ring it a
// second time. The time it was moved to does not ring.
func TestReminderMovedAwayAndBackRingsOnce(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	trigger := r.soonTrigger(t)
	start := trigger.Add(15 * time.Minute)
	cal.put("a.ics", "Budget review", start)
	r.syncCalendars(t)
	cal.put("a.ics", "Budget review", start.Add(time.Hour))
	r.syncCalendars(t)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderCancelled {
		t.Fatalf("moved away: the original reminder is %s, want cancelled", got.State)
	}
	cal.put("a.ics", "Budget review", start)
	r.syncCalendars(t)
	beforeTrigger(t, trigger)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderScheduled || got.Reason != "" {
		t.Fatalf("moved back: the original reminder is %s (%q), want scheduled again", got.State, got.Reason)
	}
	if got := r.reminderAt(t, trigger.Add(time.Hour)); got.State != store.ReminderCancelled {
		t.Errorf("moved back: the reminder of the time it was moved to is %s, want cancelled", got.State)
	}
	t.Logf("%d fire_reminder jobs", len(r.jobs(t, "fire_reminder")))
	r.settleUntil(t, trigger)
	r.checkRangOnce(t, trigger)
}

// An event whose reminder rang, moved away and back, does not ring
// again; nor does the time it was moved to, cancelled by the move back.
func TestReminderMovedAwayAndBackAfterRingingRingsNoMore(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	trigger := time.Now().Add(2 * time.Second).Truncate(time.Second)
	start := trigger.Add(15 * time.Minute)
	cal.put("a.ics", "Budget review", start)
	r.syncCalendars(t)
	r.waitUntil(t, "rung", func() bool { return r.reminderAt(t, trigger).State == store.ReminderFired })
	cal.put("a.ics", "Budget review", start.Add(time.Hour))
	r.syncCalendars(t)
	cal.put("a.ics", "Budget review (room 4)", start)
	r.syncCalendars(t)
	if got := r.reminderStates(t); fmt.Sprint(got) != fmt.Sprint(map[string]int{store.ReminderFired: 1, store.ReminderCancelled: 1}) {
		t.Errorf("reminders %v, want the original fired and the moved one cancelled", got)
	}
	r.settleUntil(t, trigger)
	r.checkRangOnce(t, trigger)
}

// putMeeting stores, at href, a meeting with UID uid starting at start,
// organised by boss, which wilma answered with partstat, with a DISPLAY
// alarm 15 minutes before.
func (a *addressDAV) putMeeting(href, uid, partstat string, start time.Time) {
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261206T000000Z\r\nDTSTART:" + stamp(start) + "\r\nDURATION:PT1H\r\n" +
		"SUMMARY:Meeting\r\nORGANIZER:mailto:boss@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.org\r\n" +
		"ATTENDEE;PARTSTAT=" + partstat + ":mailto:wilma@example.org\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	a.etags++
	if a.objects == nil {
		a.objects = map[string]calendarObject{}
	}
	a.objects[href] = calendarObject{data: ics, etag: fmt.Sprintf(`"%d"`, a.etags)}
}

// A meeting wilma declined, then accepted again before its reminder's
// trigger, rings once, at its time: declined in place (PARTSTAT), and
// declined the way many clients do it, by deleting the event, then
// accepted from the invitation again, which stores it under a new name.
func TestReminderDeclinedThenAcceptedRingsOnce(t *testing.T) {
	t.Parallel()
	r, dav := newAddressRig(t, "mailto:wilma@example.org")
	trigger := r.soonTrigger(t)
	start := trigger.Add(15 * time.Minute)
	dav.putMeeting("a.ics", "meeting", "ACCEPTED", start)
	r.syncCalendars(t)
	dav.putMeeting("a.ics", "meeting", "DECLINED", start)
	r.syncCalendars(t)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderSkipped || got.Reason != "declined" {
		t.Fatalf("declined: the reminder is %s (%q), want skipped, declined", got.State, got.Reason)
	}
	dav.putMeeting("a.ics", "meeting", "ACCEPTED", start)
	r.syncCalendars(t)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderScheduled {
		t.Fatalf("accepted again: the reminder is %s (%q), want scheduled", got.State, got.Reason)
	}
	dav.remove("a.ics")
	r.syncCalendars(t)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderCancelled {
		t.Fatalf("declined by deleting the event: the reminder is %s, want cancelled", got.State)
	}
	dav.putMeeting("b.ics", "meeting", "ACCEPTED", start)
	r.syncCalendars(t)
	beforeTrigger(t, trigger)
	if got := r.reminderAt(t, trigger); got.State != store.ReminderScheduled || got.ObjectHref != "b.ics" {
		t.Fatalf("accepted again as b.ics: the reminder is %s, of %s, want scheduled, of b.ics", got.State, got.ObjectHref)
	}
	// Synced again: the sync still lists a.ics as deleted, which cancels
	// nothing now.
	r.syncCalendars(t)
	r.settle(t)
	r.checkRangOnce(t, trigger)
}
