package e2e

import (
	"strings"
	"testing"
	"time"
)

// downUntil keeps notifyd down until the wall clock reaches at. The
// scenario is "notifyd is not running at that instant": the wait is for
// that instant, the event itself, and nothing is asserted about how long
// anything took: a loaded machine only makes the wait end later, which the
// scenario allows, so the sleep cannot flake.
func downUntil(at time.Time) {
	time.Sleep(time.Until(at)) // waits for an instant, asserts no duration: cannot flake
}

// notifyd SIGKILLed before two alarms and started again after both: each
// rings once, late, and GET /v1/reminders says how late. One alarm's job
// was waiting for its trigger in a worker when notifyd was killed (it is
// taken up again at the start); the other's was still scheduled.
func TestReminderKilledAcrossTrigger(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{})
	t0 := time.Now().Truncate(time.Second)
	waiting, scheduled := t0.Add(6*time.Second), t0.Add(14*time.Second)
	w.putEvent(t, "board", "Board meeting", waiting.Add(15*time.Minute))
	w.putEvent(t, "review", "Design review", scheduled.Add(15*time.Minute))
	w.ping(t)
	w.waitReminders(t, time.Minute, "two scheduled instances", func(rs []map[string]any) bool {
		return len(rs) == 2 && rs[0]["state"] == "scheduled" && rs[1]["state"] == "scheduled"
	})
	if !time.Now().Before(waiting) {
		t.Fatalf("the alarms were scheduled %v after the first was due: the machine is too slow for this test's timeline", time.Since(waiting))
	}
	w.nd.kill()
	downUntil(scheduled.Add(2 * time.Second))
	since := w.nd.logMark()
	w.nd.start()

	msgs := w.sink.WaitMessages(t, 2, time.Minute)
	rs := w.waitSettled(t, scheduled.Add(time.Second))
	if got := w.sink.Messages(t); len(got) != 2 {
		t.Fatalf("%d emails, want 2: each reminder once", len(got))
	}
	for _, c := range []struct {
		summary string
		trigger time.Time
	}{{"Board meeting", waiting}, {"Design review", scheduled}} {
		if n := len(mailsAbout(msgs, c.summary)); n != 1 {
			t.Errorf("%d emails about %q, want 1", n, c.summary)
		}
		r := reminderFor(t, rs, c.summary, c.trigger)
		late, _ := r["late_seconds"].(float64)
		if r["state"] != "fired" || late <= 0 {
			t.Errorf("%s: %v, late_seconds %v, want fired late", c.summary, r["state"], r["late_seconds"])
		}
		t.Logf("%s: fired %v after its trigger (late_seconds %v; notifyd was down from before it until 2 s after the later one)",
			c.summary, handedOff(t, r).Round(time.Millisecond), r["late_seconds"])
	}
	w.nd.waitLog(t, time.Minute, since, 1, "jobs left running by a run that did not stop cleanly run again now")
}

// notifyd SIGKILLed before three alarms, with an email grace of one
// minute, and started again more than a minute after the first: the
// first is skipped as late (nothing sent), one whose event ended while
// notifyd was down is skipped as late too, and one within the grace is
// sent, late. Both skips show in GET /v1/reminders and in
// notifyd_reminders_skipped_total{reason="late"}.
//
// The alarms are read before their triggers (an alarm whose trigger had
// passed when notifyd first read its event does not ring at all, so an
// event written while notifyd is down would test that instead), so
// notifyd must be down for longer than the grace, one minute at least:
// the test takes about 80 seconds.
func TestReminderDownBeyondGrace(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{reminders: "  grace:\n    email: 1m\n"})
	t0 := time.Now().Truncate(time.Second)
	beyond := t0.Add(6 * time.Second)
	ended := t0.Add(30 * time.Second) // the event: from ended+5s to ended+6s
	within := t0.Add(45 * time.Second)
	restart := beyond.Add(time.Minute + 2*time.Second)
	w.putEvent(t, "quarterly", "Quarterly review", beyond.Add(15*time.Minute))
	w.put(t, "call", icsObject("VEVENT", "UID:call", "DTSTAMP:"+icsTime(time.Now()), "DTSTART:"+icsTime(ended.Add(5*time.Second)),
		"DTEND:"+icsTime(ended.Add(6*time.Second)), "SUMMARY:Quick call", icsAlarm("alarm-call", "TRIGGER:-PT5S")))
	w.putEvent(t, "coffee", "Coffee", within.Add(15*time.Minute))
	w.ping(t)
	w.waitReminders(t, time.Minute, "three scheduled instances", func(rs []map[string]any) bool {
		return len(rs) == 3 && rs[0]["state"] == "scheduled" && rs[1]["state"] == "scheduled" && rs[2]["state"] == "scheduled"
	})
	if !time.Now().Before(beyond) {
		t.Fatalf("the alarms were scheduled %v after the first was due: the machine is too slow for this test's timeline", time.Since(beyond))
	}
	w.nd.kill()
	downUntil(restart)
	w.nd.start()

	msgs := w.sink.WaitMessages(t, 1, time.Minute)
	rs := w.waitSettled(t, within.Add(time.Second))
	if got := w.sink.Messages(t); len(got) != 1 || len(mailsAbout(got, "Coffee")) != 1 {
		t.Fatalf("%d emails, want only the one within the grace", len(got))
	}
	r := reminderFor(t, rs, "Coffee", within)
	if late, _ := r["late_seconds"].(float64); r["state"] != "fired" || late <= 0 || late >= 60 {
		t.Errorf("Coffee: %v, late_seconds %v, want fired late, within the grace of a minute", r["state"], r["late_seconds"])
	}
	t.Logf("Coffee: sent %v after its trigger, within the grace; email arrived %v after it",
		handedOff(t, r).Round(time.Millisecond), mailArrival(t, msgs[0]).Sub(within).Round(time.Millisecond))
	for _, c := range []struct {
		summary, why string
		trigger      time.Time
	}{{"Quarterly review", "beyond the grace", beyond}, {"Quick call", "ended", ended}} {
		r := reminderFor(t, rs, c.summary, c.trigger)
		reason, _ := r["reason"].(string)
		if late, _ := r["late_seconds"].(float64); r["state"] != "skipped" || !strings.HasPrefix(reason, "late") ||
			!strings.Contains(reason, c.why) || late <= 0 {
			t.Errorf("%s: %v (%q), late_seconds %v, want skipped, late: %s", c.summary, r["state"], reason, r["late_seconds"], c.why)
		}
		t.Logf("%s: %s (%q, late_seconds %v)", c.summary, r["state"], reason, r["late_seconds"])
	}
	if n := metric(t, w.nd, `notifyd_reminders_skipped_total{reason="late"}`); n != 2 {
		t.Errorf(`notifyd_reminders_skipped_total{reason="late"} is %v, want 2`, n)
	}
}
