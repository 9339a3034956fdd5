package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// newCyrusPingWorld is newReminderWorld's Cyrus world with the recipe
// that makes Cyrus ping notifyd on every calendar change
// (contrib/cyrus/notifyd-ping, docs/reminders.md) and polling at 1 hour,
// so that only a ping can make notifyd read a change within the test.
func newCyrusPingWorld(t *testing.T) *reminderWorld {
	t.Helper()
	sink := peertest.StartSMTP(t)
	// Cyrus starts first (notifyd's config names it) and gets notifyd's
	// address once that is chosen.
	cy := peertest.StartCyrusWith(t, peertest.CyrusConfig{Users: []string{reminderUser},
		Ping: &peertest.CyrusPing{System: "cyrus", Token: pingToken}})
	calendar := peertest.MakeCalendar(t, cy, reminderUser, "work")
	cy.GrantCalendar(t, reminderUser, "work")
	nd := newInstanceWith(t, emailConfig(t, cy, "cyrus", sink, "    principal_prefix: /dav/principals/user/\n", "",
		"reminders:\n  poll_interval: 1h\n"))
	cy.SetPing(t, peertest.CyrusPing{URL: nd.baseURL + "/v1/notifications", System: "cyrus", Token: pingToken})
	nd.start()
	w := &reminderWorld{srv: cy, system: "cyrus", sink: sink, nd: nd, nds: []*instance{nd}, calendar: calendar}
	status, sub := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": w.system, "principal": w.principal(), "types": []string{"reminder"},
		"time_zone": "Europe/Paris", "methods": []map[string]any{{"channel": "email", "address": "fred@example.org"}},
	})
	if status != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", status, sub)
	}
	w.sub = sub
	return w
}

// With Cyrus configured to ping notifyd on every change and polling at 1
// hour, an event fred PUTs 20 s ahead with an alarm 10 s before it rings
// by email on time, and one he deletes before its alarm rings nothing:
// each change reaches notifyd by Cyrus's ping alone.
func TestReminderCyrusPingsOnChange(t *testing.T) {
	w := newCyrusPingWorld(t)
	cy := w.srv.(*peertest.Cyrus)

	// A first change, without alarms, read at once: notifyd has now read
	// fred's calendars, so no poll reads them again within the hour
	// (polls take the principals not read for a poll interval).
	w.put(t, "notes", icsEvent("notes", "Notes", time.Now().Add(48*time.Hour)))
	w.waitCalendarSyncs(t, 1)

	// The measured change: how long from the PUT to notifyd's answer to
	// Cyrus's ping, and to the reminder scheduled (looked at every 5 ms).
	start := time.Now().Add(20 * time.Second).Truncate(time.Second)
	trigger := start.Add(-10 * time.Second)
	sent := time.Now()
	w.put(t, "budget", icsEvent("budget", "Budget review", start, icsAlarm("alarm-budget", "TRIGGER:-PT10S")))
	waitUntilEvery(t, 5*time.Millisecond, time.Minute, func() bool {
		return len(reminderStates(w.reminders(t))["Budget review"]) == 1
	}, func() string {
		return "no reminder scheduled after the PUT; notifyd-ping.log:\n" + cy.PingLog(t) + "\nnotifyd log (end):\n" + tail(w.nd.log.String(), 40)
	})
	t.Logf("PUT sent → reminder scheduled: %v", time.Since(sent).Round(time.Millisecond))
	t.Logf("PUT sent → Cyrus's ping answered: %v", pingedAfter(t, cy, "user/fred/%23calendars/work", sent).Sub(sent).Round(time.Millisecond))

	// A second event, deleted before its alarm: the deletion too reaches
	// notifyd by the ping alone, and nothing rings.
	lunchTrigger := trigger.Add(2 * time.Second)
	w.put(t, "lunch", icsEvent("lunch", "Lunch with Ann", lunchTrigger.Add(10*time.Second), icsAlarm("alarm-lunch", "TRIGGER:-PT10S")))
	w.waitReminders(t, time.Minute, "scheduled instance of the lunch", func(rs []map[string]any) bool {
		return strings.Join(reminderStates(rs)["Lunch with Ann"], ",") == "scheduled"
	})
	w.remove(t, "lunch")
	deleted := time.Now()
	waitUntilEvery(t, 5*time.Millisecond, time.Minute, func() bool {
		return strings.Join(reminderStates(w.reminders(t))["Lunch with Ann"], ",") == "cancelled"
	}, func() string {
		return "the deleted lunch's reminder is not cancelled:\n" + showReminders(w.reminders(t))
	})
	t.Logf("DELETE answered → reminder cancelled: %v", time.Since(deleted).Round(time.Millisecond))
	if now := time.Now(); !now.Before(lunchTrigger) {
		t.Fatalf("the deletion was read %v after the alarm it cancels was due: the machine is too slow for this test's timeline", now.Sub(lunchTrigger))
	}

	msgs := w.sink.WaitMessages(t, 1, time.Minute)
	if got := mailsAbout(msgs, "Budget review"); len(got) != 1 {
		t.Fatalf("reminder emails: %d about the budget review, want 1 (subjects: %v)", len(got), subjects(msgs))
	}
	checkLate(t, "the reminder email", trigger, mailArrival(t, msgs[0]))

	w.waitSettled(t, lunchTrigger.Add(time.Second))
	msgs = w.sink.Messages(t)
	if len(msgs) != 1 || len(mailsAbout(msgs, "Lunch with Ann")) != 0 {
		t.Errorf("emails %v, want only the budget review's reminder", subjects(msgs))
	}
}

// pingedAfter is when notifyd answered 2xx to the first ping Cyrus's
// notifyd-ping sent for a change to mailbox after since, from its log
// ("TIME EVENT MAILBOX PRINCIPAL STATUS DURATION", written once the ping
// is answered: polled). It fails the test if there is none: then the
// change reached notifyd otherwise.
func pingedAfter(t *testing.T, cy *peertest.Cyrus, mailbox string, since time.Time) time.Time {
	t.Helper()
	var at time.Time
	waitUntil(t, time.Minute, func() bool {
		for _, line := range strings.Split(cy.PingLog(t), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || f[2] != mailbox || !strings.HasPrefix(f[4], "2") {
				continue
			}
			if when, err := time.Parse(time.RFC3339Nano, f[0]); err == nil && when.After(since) {
				at = when
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("no ping answered for %s after %s in notifyd-ping.log:\n%s", mailbox, since.Format(time.RFC3339Nano), cy.PingLog(t))
	})
	return at
}

// subjects lists the decoded subjects of msgs.
func subjects(msgs []peertest.ReceivedMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, mailSubject(m))
	}
	return out
}
