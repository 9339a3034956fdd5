package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// reminderUser is the principal whose calendar the reminder tests write
// to, and whose reminders notifyd rings.
const reminderUser = "fred"

// reminderSetup says what a reminderWorld runs.
type reminderSetup struct {
	// server is the CalDAV server, and the name of its system in
	// notifyd's config: "cyrus" (the default), "radicale" or "xandikos".
	server string
	// channels is YAML added under channels: besides smtp (indented).
	channels string
	// reminders is YAML added under reminders: besides poll_interval
	// (indented).
	reminders string
	// env is added to each notifyd's environment.
	env []string
	// replicas is how many notifyd processes share one PostgreSQL
	// database; 0 is one notifyd on its own SQLite file.
	replicas int
	// methods are fred's subscription methods (all types); nil is one
	// email to fred@example.org.
	methods []map[string]any
}

// reminderWorld is a CalDAV server with fred's calendar "work" readable
// by the service account with its alarms, an SMTP sink, and notifyd
// (one, or several replicas on PostgreSQL) subscribed for fred.
type reminderWorld struct {
	srv      peertest.CalDAVServer
	system   string // notifyd's name of srv's system
	sink     *peertest.SMTP
	nd       *instance   // the first notifyd
	nds      []*instance // every notifyd
	calendar string      // fred's calendar, as fred writes to it
	// sub is the answer to the creation of fred's subscription.
	sub map[string]any
}

// newReminderWorld starts a CalDAV server, makes fred's calendar, starts
// notifyd and subscribes fred.
func newReminderWorld(t *testing.T, s reminderSetup) *reminderWorld {
	t.Helper()
	w := &reminderWorld{system: s.server, sink: peertest.StartSMTP(t)}
	switch s.server {
	case "", "cyrus":
		w.system = "cyrus"
		cy := peertest.StartCyrus(t, reminderUser)
		w.srv = cy
		w.calendar = peertest.MakeCalendar(t, cy, reminderUser, "work")
		cy.GrantCalendar(t, reminderUser, "work")
	case "radicale":
		w.srv = peertest.StartRadicale(t, reminderUser)
		w.calendar = peertest.MakeCalendar(t, w.srv, reminderUser, "work")
	case "xandikos":
		w.srv = peertest.StartXandikos(t, reminderUser)
		w.calendar = peertest.MakeCalendar(t, w.srv, reminderUser, "work")
	default:
		t.Fatalf("unknown CalDAV server %q", s.server)
	}
	cfg := emailConfig(t, w.srv, w.system, w.sink, "", s.channels, "reminders:\n  poll_interval: 10s\n"+s.reminders)
	var dbURL string
	if s.replicas > 0 {
		dbURL = peertest.StartPostgres(t).Database(t)
	}
	for i := 0; i < max(s.replicas, 1); i++ {
		nd := newInstanceWith(t, cfg)
		nd.env = append(nd.env, s.env...)
		if dbURL != "" {
			nd.env = append(nd.env, "NOTIFYD_DATABASE_URL="+dbURL)
		}
		w.nds = append(w.nds, nd)
	}
	// Started together: replicas race to migrate, and the lock lets one
	// do it.
	done := make(chan struct{})
	for _, nd := range w.nds {
		go func() { defer func() { done <- struct{}{} }(); nd.start() }()
	}
	for range w.nds {
		<-done
	}
	if t.Failed() {
		t.FailNow()
	}
	w.nd = w.nds[0]
	methods := s.methods
	if methods == nil {
		methods = []map[string]any{{"channel": "email", "address": "fred@example.org"}}
	}
	status, sub := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": w.system, "principal": w.principal(), "types": []string{"reminder"},
		"time_zone": "Europe/Paris", "methods": methods,
	})
	if status != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", status, sub)
	}
	w.sub = sub
	return w
}

// principal is fred's principal href on the server.
func (w *reminderWorld) principal() string { return w.srv.PrincipalHref(reminderUser) }

// put stores the iCalendar object ics as fred, at name.ics in his
// calendar.
func (w *reminderWorld) put(t *testing.T, name, ics string) {
	t.Helper()
	peertest.PutCalendarObject(t, w.srv, reminderUser, w.calendar+name+".ics", ics)
}

// remove deletes name.ics from fred's calendar, as fred.
func (w *reminderWorld) remove(t *testing.T, name string) {
	t.Helper()
	peertest.DeleteCalendarObject(t, w.srv, reminderUser, w.calendar+name+".ics")
}

// putEvent writes fred's event uid starting at start with a DISPLAY alarm
// 15 minutes before it.
func (w *reminderWorld) putEvent(t *testing.T, uid, summary string, start time.Time) {
	t.Helper()
	w.put(t, uid, icsEvent(uid, summary, start, icsAlarm("alarm-"+uid, "TRIGGER:-PT15M")))
}

// ping tells notifyd (through nd, the first when nil) that fred's data
// changed, as the calendar server would.
func (w *reminderWorld) ping(t *testing.T, nd ...*instance) {
	t.Helper()
	to := w.nd
	if len(nd) > 0 {
		to = nd[0]
	}
	body := fmt.Sprintf(`{"system":%q,"token":%q,"hrefs":[%q]}`, w.system, pingToken, w.principal())
	resp, err := http.Post(to.baseURL+"/v1/notifications", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping: %d", resp.StatusCode)
	}
}

// reminderEmailRingsOnce is the first test against each CalDAV server: an
// event's alarm set a few seconds ahead rings once by email, on time;
// editing the event's title afterwards sends nothing more.
func reminderEmailRingsOnce(t *testing.T, server string) {
	w := newReminderWorld(t, reminderSetup{server: server})
	trigger := time.Now().Add(8 * time.Second).Truncate(time.Second)
	w.putEvent(t, "budget", "Budget review", trigger.Add(15*time.Minute))
	w.ping(t)

	msgs := w.sink.WaitMessages(t, 1, time.Minute)
	m := msgs[0]
	if subject := mailSubject(m); !strings.Contains(subject, "Budget review") || !strings.Contains(m.Text, "Room 4") {
		t.Errorf("reminder email: subject %q, text:\n%s", subject, m.Text)
	}
	checkLate(t, "the reminder email", trigger, mailArrival(t, m))

	rs := w.waitSettled(t, trigger.Add(time.Second))
	if got := w.sink.Messages(t); len(got) != 1 {
		t.Fatalf("%d messages, want the one reminder", len(got))
	}
	if len(rs) != 1 || rs[0]["state"] != "fired" {
		t.Fatalf("reminders, want one fired:\n%s", showReminders(rs))
	}
	t.Logf("handed to the email channel %v after its trigger", handedOff(t, rs[0]).Round(time.Millisecond))

	// A new title, same time: nothing rings again. The instance's summary
	// in the listing stays the fired one's (its key did not change).
	synced := w.calendarSyncs(t)
	w.putEvent(t, "budget", "Budget review (moved to room 5)", trigger.Add(15*time.Minute))
	w.ping(t)
	w.waitCalendarSyncs(t, synced+1)
	if got := w.sink.Messages(t); len(got) != 1 {
		t.Errorf("%d messages after an edit of the title, want still 1", len(got))
	}
	if rs := w.reminders(t); len(rs) != 1 || rs[0]["state"] != "fired" {
		t.Errorf("reminders after an edit of the title, want still one fired:\n%s", showReminders(rs))
	}
}

// An event's alarm set a few seconds ahead in a Cyrus calendar rings once
// by email, on time; editing the event's title afterwards sends nothing
// more.
func TestReminderEmailFromCyrus(t *testing.T) { reminderEmailRingsOnce(t, "cyrus") }

// calendarSyncs is how many calendar syncs notifyd finished.
func (w *reminderWorld) calendarSyncs(t *testing.T) float64 {
	t.Helper()
	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return m[`notifyd_calendars_synced_total{outcome="ok",system="`+w.system+`"}`]
}

// waitCalendarSyncs waits until notifyd has finished n calendar syncs and
// has nothing left to deliver. notifyd is another process: its metrics are
// polled, with a deadline far beyond what a sync takes.
func (w *reminderWorld) waitCalendarSyncs(t *testing.T, n float64) {
	t.Helper()
	series := `notifyd_calendars_synced_total{outcome="ok",system="` + w.system + `"}`
	waitUntil(t, time.Minute, func() bool {
		return metric(t, w.nd, series) >= n && queueIdle(t, w.nd.baseURL)
	}, func() string {
		m, _ := scrape(w.nd.baseURL)
		var seen []string
		for k, v := range m {
			if strings.Contains(k, "calendars_synced") || strings.Contains(k, "backlog") {
				seen = append(seen, fmt.Sprint(k, " ", v))
			}
		}
		return fmt.Sprintf("notifyd did not finish %v calendar syncs: %v", n, seen)
	})
}
