package e2e

import (
	"testing"
	"time"
)

// TestReminderMovedAndMovedBackOnCyrus: see reminderMovedAndMovedBack.
func TestReminderMovedAndMovedBackOnCyrus(t *testing.T) { reminderMovedAndMovedBack(t, "cyrus") }

// TestReminderMovedAndMovedBackOnRadicale: see reminderMovedAndMovedBack.
func TestReminderMovedAndMovedBackOnRadicale(t *testing.T) { reminderMovedAndMovedBack(t, "radicale") }

// reminderMovedAndMovedBack: fred moves a meeting an hour later, then
// back to its time, before its alarm. The alarm rings once, at the
// original time (it was cancelled by the move and is scheduled again by
// the move back), and the hour it was moved to does not ring. Moved away
// and back again after it rang, it does not ring again.
func reminderMovedAndMovedBack(t *testing.T, server string) {
	w := newReminderWorld(t, reminderSetup{server: server})
	const summary = "Quarterly review"
	trigger := time.Now().Add(20 * time.Second).Truncate(time.Second)
	start := trigger.Add(15 * time.Minute)
	moved := trigger.Add(time.Hour)
	state := func(rs []map[string]any, at time.Time) any {
		for _, r := range rs {
			if r["summary"] == summary && reminderTrigger(t, r).Equal(at) {
				return r["state"]
			}
		}
		return nil
	}
	step := func(what string, at time.Time, want map[time.Time]string) []map[string]any {
		t.Helper()
		w.putEvent(t, "review", summary, at)
		w.ping(t)
		return w.waitReminders(t, time.Minute, what, func(rs []map[string]any) bool {
			for at, s := range want {
				if state(rs, at) != s {
					return false
				}
			}
			return true
		})
	}

	step("the meeting scheduled", start, map[time.Time]string{trigger: "scheduled"})
	step("the meeting moved an hour later", start.Add(time.Hour), map[time.Time]string{trigger: "cancelled", moved: "scheduled"})
	rs := step("the meeting moved back", start, map[time.Time]string{trigger: "scheduled", moved: "cancelled"})
	if now := time.Now(); !now.Before(trigger) {
		t.Fatalf("the move back was read %v after the alarm was due: the machine is too slow for this test's timeline", now.Sub(trigger))
	}
	if r := reminderFor(t, rs, summary, trigger); r["reason"] != "" {
		t.Errorf("the reminder scheduled again has the reason %q, want none", r["reason"])
	}

	w.sink.WaitMessages(t, 1, time.Minute)
	rs = w.waitSettled(t, trigger.Add(time.Second))
	if r := reminderFor(t, rs, summary, trigger); r["state"] != "fired" {
		t.Errorf("the reminder at the meeting's time: %v (%v), want fired", r["state"], r["reason"])
	}
	msgs := mailsAbout(w.sink.Messages(t), summary)
	if len(msgs) != 1 {
		t.Fatalf("%d emails about the meeting, want 1", len(msgs))
	}
	checkLate(t, "the reminder of the meeting moved back", trigger, mailArrival(t, msgs[0]))

	// Rung: moved away (the later hour is scheduled again) and back
	// (cancelled again); the fired reminder stays fired.
	step("the meeting moved an hour later again", start.Add(time.Hour), map[time.Time]string{trigger: "fired", moved: "scheduled"})
	step("the meeting moved back again", start, map[time.Time]string{trigger: "fired", moved: "cancelled"})
	for _, nd := range w.nds {
		waitIdle(t, nd, time.Minute)
	}
	if msgs := mailsAbout(w.sink.Messages(t), summary); len(msgs) != 1 {
		t.Errorf("%d emails about the meeting after it was moved away and back once rung, want still 1", len(msgs))
	}
	if t.Failed() {
		t.Logf("reminders:\n%s", showReminders(w.reminders(t)))
	}
}
