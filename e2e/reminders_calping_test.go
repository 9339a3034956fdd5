package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pingAnswer is notifyd's answer to an accepted ping.
type pingAnswer struct {
	Queued    int `json:"queued"`
	NewJobs   int `json:"new_jobs"`
	Coalesced int `json:"coalesced"`
}

// pingHrefs pings notifyd with hrefs, as the calendar server's hook
// would, and returns its answer; anything but 202 fails the test.
func (w *reminderWorld) pingHrefs(t *testing.T, hrefs ...string) pingAnswer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"system": w.system, "token": pingToken, "hrefs": hrefs})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(w.nd.baseURL+"/v1/notifications", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a pingAnswer
	if resp.StatusCode != http.StatusAccepted || json.NewDecoder(resp.Body).Decode(&a) != nil {
		t.Fatalf("ping %q: %d", hrefs, resp.StatusCode)
	}
	return a
}

// queuedOne reports whether a ping queued one sync: a new job, or one
// still waiting or running that it joined (which then runs again).
func queuedOne(a pingAnswer) bool {
	return a.Queued == 1 && a.NewJobs+a.Coalesced == 1
}

// With polling at an hour, a ping naming the calendar that changed, or
// the event in it, as a calendar server's hook would, makes notifyd read
// the change at once: events Radicale stores 20 and 25 s ahead ring by
// email on time, once each. The pings name no principal: each syncs the
// calendar's owner's calendars.
func TestReminderCalendarPathPing(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{server: "radicale", env: []string{"NOTIFYD_REMINDERS_POLL_INTERVAL=1h"}})

	// A first ping of fred: notifyd reads his calendars, and from then on
	// knows the calendar's path; no poll reads them again within the
	// hour.
	w.ping(t)
	w.waitCalendarSyncs(t, 1)
	synced := w.calendarSyncs(t)

	budget := time.Now().Add(20 * time.Second).Truncate(time.Second)
	w.put(t, "budget", icsEvent("budget", "Budget review", budget.Add(10*time.Minute), icsAlarm("alarm-budget", "TRIGGER:-PT10M")))
	// The sync the first ping made may still be releasing its job: the
	// ping then joins it (Coalesced), and it runs once more for the
	// ping. Either way one calendar sync is queued for it.
	if a := w.pingHrefs(t, w.calendar); !queuedOne(a) {
		t.Fatalf("ping of the calendar %s: %+v, want fred's calendar sync queued", w.calendar, a)
	}
	w.waitCalendarSyncs(t, synced+1)

	lunch := budget.Add(5 * time.Second)
	w.put(t, "lunch", icsEvent("lunch", "Lunch with Ann", lunch.Add(10*time.Minute), icsAlarm("alarm-lunch", "TRIGGER:-PT10M")))
	if a := w.pingHrefs(t, w.calendar+"lunch.ics"); !queuedOne(a) {
		t.Fatalf("ping of the event %slunch.ics: %+v, want fred's calendar sync queued", w.calendar, a)
	}

	msgs := w.sink.WaitMessages(t, 2, time.Minute)
	for _, m := range msgs {
		switch s := mailSubject(m); {
		case strings.Contains(s, "Budget review"):
			checkLate(t, "the budget review's reminder", budget, mailArrival(t, m))
		case strings.Contains(s, "Lunch with Ann"):
			checkLate(t, "the lunch's reminder", lunch, mailArrival(t, m))
		default:
			t.Errorf("unexpected email %q", s)
		}
	}
	w.waitSettled(t, lunch.Add(time.Second))
	msgs = w.sink.Messages(t)
	if len(msgs) != 2 || len(mailsAbout(msgs, "Budget review")) != 1 || len(mailsAbout(msgs, "Lunch with Ann")) != 1 {
		t.Errorf("emails %v, want each reminder once", subjects(msgs))
	}
	if n := metric(t, w.nd, `notifyd_principals_queued_total`); n != 3 {
		t.Errorf("notifyd_principals_queued_total %v, want 3 (fred, then his calendar twice)", n)
	}
}
