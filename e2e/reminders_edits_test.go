package e2e

import (
	"strings"
	"testing"
	"time"
)

// What fred does to his Cyrus calendar before the alarms ring decides
// what rings, once each, on one timeline:
//
//   - an event moved later before its alarm: the old time does not ring,
//     the new time rings once;
//   - an event deleted before its alarm: nothing rings, and the listing
//     shows the instance cancelled;
//   - a task with a DUE and no DTSTART, its alarm TRIGGER;RELATED=END
//     before it: rings;
//   - alarms acknowledged (RFC 9074 ACKNOWLEDGED) at or after their
//     trigger, whether the acknowledgement comes with the event or later:
//     do not ring; one acknowledged before its trigger (an earlier ring's
//     acknowledgement) rings;
//   - a daily event with two alarms that each ring in the window, for two
//     different instances: both ring, once each, and the later
//     instances' alarms wait within the horizon.
func TestReminderEdits(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{})
	t0 := time.Now().Truncate(time.Second)
	old := t0.Add(12 * time.Second) // the alarms changed before they ring
	moved := t0.Add(18 * time.Second)
	alarm := func(uid string, lines ...string) string {
		return icsAlarm("alarm-"+uid, "TRIGGER:-PT15M", lines...)
	}
	const (
		movedS = "Planning"
		goneS  = "Lunch with Ann"
		ackS   = "Call the bank"
		ackedS = "Dentist"
		earlyS = "Team sync"
		taskS  = "Pay the rent"
		dailyS = "Stand-up"
	)
	// The daily stand-up: its first instance's 15-minute alarm rings at
	// t0+15s, its second instance's alarm a day and 14:59 ahead at
	// t0+16s.
	daily := t0.Add(15*time.Second + 15*time.Minute)
	w.put(t, "planning", icsEvent("planning", movedS, old.Add(15*time.Minute), alarm("planning")))
	w.put(t, "lunch", icsEvent("lunch", goneS, old.Add(15*time.Minute), alarm("lunch")))
	w.put(t, "bank", icsEvent("bank", ackS, old.Add(15*time.Minute), alarm("bank")))
	w.put(t, "dentist", icsEvent("dentist", ackedS, old.Add(15*time.Minute), alarm("dentist", "ACKNOWLEDGED:"+icsTime(old.Add(time.Minute)))))
	w.put(t, "sync", icsEvent("sync", earlyS, t0.Add(13*time.Second+15*time.Minute), alarm("sync", "ACKNOWLEDGED:"+icsTime(t0.Add(-time.Hour)))))
	w.put(t, "rent", icsTask("rent", taskS, t0.Add(14*time.Second+15*time.Minute), icsAlarm("alarm-rent", "TRIGGER;RELATED=END:-PT15M")))
	w.put(t, "standup", icsEvent("standup", dailyS, daily, "RRULE:FREQ=DAILY;COUNT=5",
		icsAlarm("alarm-standup-a", "TRIGGER:-PT15M"), icsAlarm("alarm-standup-b", "TRIGGER:-P1DT14M59S")))
	w.ping(t)
	w.waitReminders(t, time.Minute, "instances of the first versions", func(rs []map[string]any) bool {
		st := reminderStates(rs)
		return len(st[movedS]) == 1 && len(st[goneS]) == 1 && len(st[ackS]) == 1 && len(st[ackedS]) == 1 && len(st[taskS]) == 1
	})

	// Before the old alarms ring: the planning moves 6 seconds later,
	// the lunch is deleted, the bank call's alarm is acknowledged at its
	// trigger (as a client that rang it itself does).
	w.put(t, "planning", icsEvent("planning", movedS, moved.Add(15*time.Minute), alarm("planning")))
	w.remove(t, "lunch")
	w.put(t, "bank", icsEvent("bank", ackS, old.Add(15*time.Minute), alarm("bank", "ACKNOWLEDGED:"+icsTime(old))))
	w.ping(t)
	rs := w.waitReminders(t, time.Minute, "the edits applied", func(rs []map[string]any) bool {
		st := reminderStates(rs)
		return len(st[movedS]) == 2 && strings.Join(st[goneS], ",") == "cancelled" && strings.Join(st[ackS], ",") == "skipped"
	})
	if now := time.Now(); !now.Before(old) {
		t.Fatalf("the edits were read %v after the alarms they change were due: the machine is too slow for this test's timeline",
			now.Sub(old))
	}
	if r := reminderFor(t, rs, movedS, old); r["state"] != "cancelled" {
		t.Errorf("the planning's old time: %v (%v), want cancelled", r["state"], r["reason"])
	}
	if r := reminderFor(t, rs, movedS, moved); r["state"] != "scheduled" {
		t.Errorf("the planning's new time: %v, want scheduled", r["state"])
	}
	if r := reminderFor(t, rs, goneS, old); !strings.Contains(r["reason"].(string), "deleted") {
		t.Errorf("the deleted lunch's reminder: reason %q, want that it was deleted", r["reason"])
	}
	for _, s := range []string{ackS, ackedS} {
		if r := reminderFor(t, rs, s, old); r["state"] != "skipped" || r["reason"] != "acknowledged" {
			t.Errorf("%s: %v (%v), want skipped as acknowledged", s, r["state"], r["reason"])
		}
	}

	// The planning (new time), the team sync, the rent and the stand-up
	// twice: five emails, once every instance due by the planning's new
	// time is final.
	msgs := w.sink.WaitMessages(t, 5, time.Minute)
	rs = w.waitSettled(t, moved.Add(time.Second))
	msgs = w.sink.Messages(t)
	if len(msgs) != 5 {
		t.Errorf("%d emails, want 5", len(msgs))
	}
	for s, want := range map[string]int{movedS: 1, goneS: 0, ackS: 0, ackedS: 0, earlyS: 1, taskS: 1, dailyS: 2} {
		if got := len(mailsAbout(msgs, s)); got != want {
			t.Errorf("%d emails about %q, want %d", got, s, want)
		}
	}
	for _, m := range mailsAbout(msgs, movedS) {
		checkLate(t, "the moved planning's reminder (from its new time)", moved, mailArrival(t, m))
	}
	for _, c := range []struct {
		summary string
		trigger time.Time
	}{{earlyS, t0.Add(13 * time.Second)}, {taskS, t0.Add(14 * time.Second)}, {dailyS, t0.Add(15 * time.Second)}, {dailyS, t0.Add(16 * time.Second)}} {
		r := reminderFor(t, rs, c.summary, c.trigger)
		if r["state"] != "fired" {
			t.Errorf("%s at %s: %v (%v), want fired", c.summary, c.trigger.Format(time.TimeOnly), r["state"], r["reason"])
			continue
		}
		t.Logf("%s (%v, %v) handed to email %v after its trigger", c.summary, r["component"], r["recurrence_id"],
			handedOff(t, r).Round(time.Millisecond))
	}
	if r := reminderFor(t, rs, taskS, t0.Add(14*time.Second)); r["component"] != "task" {
		t.Errorf("the rent's reminder is for a %v, want a task", r["component"])
	}
	// The stand-up's two rings are two instances; the next two wait.
	first := reminderFor(t, rs, dailyS, t0.Add(15*time.Second))
	second := reminderFor(t, rs, dailyS, t0.Add(16*time.Second))
	if first["recurrence_id"] != icsTime(daily) || second["recurrence_id"] != icsTime(daily.AddDate(0, 0, 1)) ||
		first["alarm_id"] == second["alarm_id"] {
		t.Errorf("the stand-up rang for %v (alarm %v) and %v (alarm %v), want its first two instances by its two alarms",
			first["recurrence_id"], first["alarm_id"], second["recurrence_id"], second["alarm_id"])
	}
	for _, at := range []time.Time{daily.AddDate(0, 0, 1).Add(-15 * time.Minute), t0.Add(24*time.Hour + 16*time.Second)} {
		if r := reminderFor(t, rs, dailyS, at); r["state"] != "scheduled" {
			t.Errorf("the stand-up's reminder at %s: %v, want scheduled", at.Format(time.RFC3339), r["state"])
		}
	}
	if t.Failed() {
		t.Logf("reminders:\n%s", showReminders(w.reminders(t)))
	}
}
