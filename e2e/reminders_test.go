package e2e

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// reminderWorld is Cyrus with fred's calendar "work" readable by the
// service account with its alarms, an SMTP sink, and a notifyd that sends
// fred's reminders by email.
type reminderWorld struct {
	cy       *peertest.Cyrus
	sink     *peertest.SMTP
	nd       *instance
	calendar string // fred's calendar, as fred writes to it
}

func newReminderWorld(t *testing.T) *reminderWorld {
	t.Helper()
	cy := peertest.StartCyrus(t, "fred")
	sink := peertest.StartSMTP(t)
	cal := cy.CalendarHome("fred") + "work/"
	body := `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<D:displayname>Work</D:displayname>` +
		`<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>` +
		`</D:prop></D:set></C:mkcalendar>`
	if status, _, resp := cy.Request(t, "fred", "MKCALENDAR", cal, `application/xml; charset="utf-8"`, body); status != http.StatusCreated {
		t.Fatalf("MKCALENDAR %s: %d %s", cal, status, resp)
	}
	cy.GrantCalendar(t, "fred", "work")
	nd := newInstanceWith(t, cyrusEmailConfig(t, cy, sink, "  poll_interval: 50ms\n  retry_base: 200ms\n  retry_max: 1s\n")+
		"reminders:\n  poll_interval: 10s\n")
	nd.start()
	w := &reminderWorld{cy: cy, sink: sink, nd: nd, calendar: cal}
	if status, resp := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": "cyrus", "principal": cy.PrincipalHref("fred"), "types": []string{"reminder"},
		"methods": []map[string]any{{"channel": "email", "address": "fred@example.org"}},
	}); status != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", status, resp)
	}
	return w
}

// putEvent writes fred's event uid starting at start with a DISPLAY alarm
// 15 minutes before it.
func (w *reminderWorld) putEvent(t *testing.T, uid, summary string, start time.Time) {
	t.Helper()
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd e2e//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\n" +
		"DTSTAMP:" + utc(time.Now()) + "\r\nDTSTART:" + utc(start) + "\r\nDTEND:" + utc(start.Add(time.Hour)) + "\r\n" +
		"SUMMARY:" + summary + "\r\nLOCATION:Room 4\r\n" +
		"BEGIN:VALARM\r\nUID:alarm-" + uid + "\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	href := w.calendar + uid + ".ics"
	if status, _, resp := w.cy.Request(t, "fred", http.MethodPut, href, "text/calendar; charset=utf-8", ics); status != http.StatusCreated && status != http.StatusNoContent {
		t.Fatalf("PUT %s: %d %s", href, status, resp)
	}
}

// ping tells notifyd that fred's data changed.
func (w *reminderWorld) ping(t *testing.T) {
	t.Helper()
	body := fmt.Sprintf(`{"system":"cyrus","token":%q,"hrefs":[%q]}`, pingToken, w.cy.PrincipalHref("fred"))
	resp, err := http.Post(w.nd.baseURL+"/v1/notifications", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping: %d", resp.StatusCode)
	}
}

// An event's alarm set a few seconds ahead rings once by email, on time;
// editing the event's title afterwards sends nothing more.
func TestReminderEmailFromCyrus(t *testing.T) {
	w := newReminderWorld(t)
	trigger := time.Now().Add(8 * time.Second).Truncate(time.Second)
	w.putEvent(t, "budget", "Budget review", trigger.Add(15*time.Minute))
	w.ping(t)

	msgs := w.sink.WaitMessages(t, 1, time.Minute)
	arrived := time.Now()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the one reminder", len(msgs))
	}
	m := msgs[0]
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.Contains(subject, "Budget review") || !strings.Contains(m.Text, "Room 4") {
		t.Errorf("reminder email: subject %q, text:\n%s", subject, m.Text)
	}
	t.Logf("reminder arrived %v after its trigger", arrived.Sub(trigger).Round(time.Millisecond))

	status, list := w.nd.api(t, http.MethodGet, "/v1/reminders?system=cyrus", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /v1/reminders: %d %v", status, list)
	}
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["state"] != "fired" {
		t.Fatalf("reminders %v, want one fired", list)
	}

	// A new title, same time: nothing rings again.
	synced := w.calendarSyncs(t)
	t.Logf("calendar syncs so far: %v", synced)
	w.putEvent(t, "budget", "Budget review (moved to room 5)", trigger.Add(15*time.Minute))
	w.ping(t)
	w.waitCalendarSyncs(t, synced+1)
	if got := w.sink.Messages(t); len(got) != 1 {
		t.Errorf("%d messages after an edit of the title, want still 1", len(got))
	}
}

// calendarSyncs is how many calendar syncs notifyd finished.
func (w *reminderWorld) calendarSyncs(t *testing.T) float64 {
	t.Helper()
	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return m[`notifyd_calendars_synced_total{outcome="ok",system="cyrus"}`]
}

// waitCalendarSyncs waits until notifyd has finished n calendar syncs and
// has nothing left to deliver. notifyd is another process: its metrics are
// polled, with a deadline far beyond what a sync takes.
func (w *reminderWorld) waitCalendarSyncs(t *testing.T, n float64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		m, err := scrape(w.nd.baseURL)
		if err != nil {
			t.Fatal(err)
		}
		if m[`notifyd_calendars_synced_total{outcome="ok",system="cyrus"}`] >= n && m[`notifyd_backlog{work="deliveries"}`] == 0 {
			return
		}
		if time.Now().After(deadline) {
			var seen []string
			for k, v := range m {
				if strings.Contains(k, "calendars_synced") || strings.Contains(k, "backlog") {
					seen = append(seen, fmt.Sprint(k, " ", v))
				}
			}
			t.Fatalf("notifyd did not finish %v calendar syncs in a minute: %v", n, seen)
		}
	}
}
