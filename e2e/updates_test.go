package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// updateTypes are the calendar update types a subscription names.
var updateTypes = []string{"event-created", "event-modified", "event-deleted", "todo-created", "todo-modified",
	"todo-deleted", "calendar-created", "calendar-modified", "calendar-deleted"}

// updatesWorld is a CalDAV server, an SMTP sink and notifyd with a short
// burst window, polling every hour: only pings make it read changes.
type updatesWorld struct {
	srv    peertest.CalDAVServer
	system string
	sink   *peertest.SMTP
	nd     *instance
	told   float64 // updates told so far (every outcome)
}

// newUpdatesWorld starts notifyd for srv (named system) with a burst
// window of window.
func newUpdatesWorld(t *testing.T, srv peertest.CalDAVServer, system string, window time.Duration, prefix string) *updatesWorld {
	t.Helper()
	w := &updatesWorld{srv: srv, system: system, sink: peertest.StartSMTP(t)}
	w.nd = newInstanceWith(t, emailConfig(t, srv, system, w.sink, prefix, "",
		fmt.Sprintf("reminders:\n  poll_interval: 1h\nupdates:\n  burst_window: %s\n", window)))
	w.nd.start()
	return w
}

// subscribe subscribes user's principal to every update type by email
// to USER@example.org.
func (w *updatesWorld) subscribe(t *testing.T, user string) {
	t.Helper()
	status, sub := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": w.system, "principal": w.srv.PrincipalHref(user), "types": updateTypes, "time_zone": "Europe/Paris",
		"methods": []map[string]any{{"channel": "email", "address": user + "@example.org"}},
	})
	if status != http.StatusCreated {
		t.Fatalf("subscribe %s: %d %v", user, status, sub)
	}
}

// ping tells notifyd that user's data changed, as the server's hook does.
func (w *updatesWorld) ping(t *testing.T, user string) {
	t.Helper()
	body := fmt.Sprintf(`{"system":%q,"token":%q,"hrefs":[%q]}`, w.system, pingToken, w.srv.PrincipalHref(user))
	resp, err := http.Post(w.nd.baseURL+"/v1/notifications", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping: %d", resp.StatusCode)
	}
}

// caldavRequests is how many CalDAV requests notifyd sent.
func (w *updatesWorld) caldavRequests(t *testing.T) float64 {
	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, "notifyd_caldav_requests_total{") {
			n += v
		}
	}
	return n
}

// calendarSyncs is how many calendar syncs notifyd finished.
func (w *updatesWorld) calendarSyncs(t *testing.T) float64 {
	return metric(t, w.nd, `notifyd_calendars_synced_total{outcome="ok",system="`+w.system+`"}`)
}

// toldCount is how many pending updates notifyd told, whatever came of
// them (notifyd_updates_total, every outcome).
func (w *updatesWorld) toldCount(t *testing.T) float64 {
	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, o := range []string{"sent", "no-recipient", "unknown-author", "suppressed", "no-change"} {
		n += m[`notifyd_updates_total{outcome="`+o+`"}`]
	}
	return n
}

// waitTold waits until notifyd told more updates (n more, every outcome
// counted) and has nothing left to do, then returns the messages the
// sink has.
func (w *updatesWorld) waitTold(t *testing.T, n float64) []peertest.ReceivedMessage {
	t.Helper()
	w.told += n
	waitUntil(t, time.Minute, func() bool { return w.toldCount(t) >= w.told && queueIdle(t, w.nd.baseURL) }, func() string {
		return fmt.Sprintf("told %v updates, want %v; notifyd log (end):\n%s", w.toldCount(t), w.told, tail(w.nd.log.String(), 30))
	})
	return w.sink.Messages(t)
}

// waitSyncs waits until notifyd finished n calendar syncs in all.
func (w *updatesWorld) waitSyncs(t *testing.T, n float64) {
	t.Helper()
	waitUntil(t, time.Minute, func() bool { return w.calendarSyncs(t) >= n && queueIdle(t, w.nd.baseURL) }, func() string {
		return fmt.Sprintf("%v calendar syncs, want %v", w.calendarSyncs(t), n)
	})
}

// fredsCalendar is the path of fred's calendar as fred writes to it.
const fredsCalendar = "/dav/calendars/user/fred/Default/"

// fred shares his calendar with wilma, both subscribed to calendar
// updates by email; fred creates, moves, retitles, cancels and deletes
// events and tasks, as Cyrus would ping notifyd (naming fred). wilma gets
// one readable message per net change: none for the first sync nor for a
// re-save, one for a burst of edits. fred gets none: Cyrus does not say
// who made a change, and it may be his own.
func TestUpdatesFromCyrusSharedCalendar(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred", "wilma")
	cy.GrantCalendar(t, "fred", "Default")
	cy.Share(t, "fred", "wilma", true)
	for _, n := range cy.ListNotifications(t, "wilma") {
		cy.AcceptInvite(t, "wilma", n)
	}
	put := func(uid, ics string) { peertest.PutCalendarObject(t, cy, "fred", fredsCalendar+uid+".ics", ics) }
	day := time.Now().Truncate(24*time.Hour).AddDate(0, 0, 7)
	lunch := func(summary string) string {
		return icsEvent("lunch", summary, day.Add(12*time.Hour))
	}
	put("lunch", lunch("Lunch"))

	w := newUpdatesWorld(t, cy, "cyrus", 4*time.Second, "    principal_prefix: /dav/principals/user/\n")
	w.subscribe(t, "fred")
	w.subscribe(t, "wilma")
	// wilma's invitation is read (the calendar is shared with her), and
	// both first syncs record the calendar as it is: nothing is told.
	w.ping(t, "wilma")
	w.ping(t, "fred")
	w.waitSyncs(t, 2)
	if got := w.waitTold(t, 0); len(got) != 0 {
		t.Fatalf("the first syncs sent %v", subjects(got))
	}

	budget := func(start time.Time, summary string, more ...string) string {
		return icsEvent("budget", summary, start, more...)
	}
	steps := []struct {
		name string
		do   func()
		told float64 // updates told, wilma's and fred's
		want []string
	}{
		{"created", func() {
			put("budget", budget(day.Add(9*time.Hour), "Budget"))
			put("report", icsTask("report", "Send the report", day.Add(17*time.Hour)))
		}, 4, []string{"Budget", "Send the report"}},
		{"moved and retitled", func() { put("budget", budget(day.Add(14*time.Hour), "Budget review")) }, 2, []string{"Moved"}},
		{"cancelled; a re-save", func() {
			put("budget", budget(day.Add(14*time.Hour), "Budget review", "STATUS:CANCELLED"))
			put("lunch", lunch("Lunch"))
		}, 4, []string{"Cancelled"}},
		{"deleted", func() {
			peertest.DeleteCalendarObject(t, cy, "fred", fredsCalendar+"budget.ics")
			peertest.DeleteCalendarObject(t, cy, "fred", fredsCalendar+"report.ics")
		}, 4, []string{"Budget review", "Send the report"}},
	}
	seen := 0
	for _, s := range steps {
		requests := w.caldavRequests(t)
		s.do()
		w.ping(t, "fred")
		msgs := w.waitTold(t, s.told)
		// The figure of docs/updates.md: requests per change found.
		t.Logf("%s: %v CalDAV requests for %v changes told (wilma's and fred's syncs)", s.name,
			w.caldavRequests(t)-requests, s.told)
		got := msgs[seen:]
		seen = len(msgs)
		if len(got) != len(s.want) {
			t.Fatalf("%s: %d messages %v, want %d", s.name, len(got), subjects(got), len(s.want))
		}
		for _, what := range s.want { // in any order
			found := false
			for _, m := range got {
				if strings.Contains(mailSubject(m), what) {
					checkUpdateMail(t, s.name, m, what)
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: no message names %q: %v", s.name, what, subjects(got))
			}
		}
	}

	// A burst: three edits within the window, each read at once, are one
	// message with the net change.
	syncs := w.calendarSyncs(t)
	for i, summary := range []string{"Lunch with Barney", "Lunch with Betty", "Lunch with Betty and Barney"} {
		put("lunch", lunch(summary))
		w.ping(t, "fred")
		waitUntil(t, time.Minute, func() bool { return w.calendarSyncs(t) >= syncs+float64(2*(i+1)) }, func() string {
			return "the edit was not read"
		})
	}
	msgs := w.waitTold(t, 2)
	got := msgs[seen:]
	if len(got) != 1 {
		t.Fatalf("a burst of edits: %d messages %v, want one", len(got), subjects(got))
	}
	checkUpdateMail(t, "a burst of edits", got[0], "Lunch with Betty and Barney")
	if !strings.Contains(got[0].Text, "Lunch → Lunch with Betty and Barney") {
		t.Errorf("the burst's message does not give the net change of the title:\n%s", got[0].Text)
	}
}

// checkUpdateMail checks that m went to wilma only and names what.
func checkUpdateMail(t *testing.T, step string, m peertest.ReceivedMessage, what string) {
	t.Helper()
	if len(m.RcptTo) != 1 || m.RcptTo[0] != "wilma@example.org" {
		t.Errorf("%s: a message to %v, want wilma only (fred is not told of changes whose author is unknown)", step, m.RcptTo)
	}
	if s := mailSubject(m); !strings.Contains(s, what) {
		t.Errorf("%s: subject %q does not name %q; text:\n%s", step, s, what, m.Text)
	}
	t.Logf("%s: %s", step, mailSubject(m))
}

// On Radicale, which shares no calendar and does not say who made a
// change, fred's own calendar's changes reach notifyd (they are found and
// told) but are sent to nobody: they may be fred's own, and there is no
// sharee to tell.
func TestUpdatesFromRadicaleTellTheOwnerNothing(t *testing.T) {
	rad := peertest.StartRadicale(t, "fred")
	cal := peertest.MakeCalendar(t, rad, "fred", "work")
	day := time.Now().Truncate(24*time.Hour).AddDate(0, 0, 7)
	peertest.PutCalendarObject(t, rad, "fred", cal+"lunch.ics", icsEvent("lunch", "Lunch", day.Add(12*time.Hour)))
	w := newUpdatesWorld(t, rad, "radicale", 2*time.Second, "")
	w.subscribe(t, "fred")
	w.ping(t, "fred")
	w.waitSyncs(t, 1)

	peertest.PutCalendarObject(t, rad, "fred", cal+"budget.ics", icsEvent("budget", "Budget", day.Add(9*time.Hour)))
	peertest.PutCalendarObject(t, rad, "fred", cal+"lunch.ics", icsEvent("lunch", "Lunch with Betty", day.Add(12*time.Hour)))
	w.ping(t, "fred")
	if msgs := w.waitTold(t, 2); len(msgs) != 0 {
		t.Errorf("fred was sent %v: the author of a change on Radicale is unknown", subjects(msgs))
	}
	if n := metric(t, w.nd, `notifyd_updates_total{outcome="unknown-author"}`); n != 2 {
		t.Errorf("%v updates of unknown author, want 2 (the creation and the edit)", n)
	}
}
