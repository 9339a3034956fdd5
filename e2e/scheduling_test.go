package e2e

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// schedWorld is Cyrus with fred and wilma, whose scheduling inboxes the
// service account may read (docs/scheduling.md), an SMTP sink and
// notifyd; wilma subscribes to invitations and cancellations by email,
// fred to replies.
type schedWorld struct {
	cy   *peertest.Cyrus
	sink *peertest.SMTP
	nd   *instance
}

func newSchedWorld(t *testing.T) *schedWorld {
	t.Helper()
	w := &schedWorld{sink: peertest.StartSMTP(t), cy: peertest.StartCyrus(t, "fred", "wilma")}
	for _, u := range []string{"fred", "wilma"} {
		w.cy.GrantCalendar(t, u, "Inbox", peertest.CyrusGrant{NoSharedSeen: true})
	}
	w.nd = newInstanceWith(t, emailConfig(t, w.cy, "cyrus", w.sink, "", "", "reminders:\n  poll_interval: 1h\n"))
	return w
}

func (w *schedWorld) subscribe(t *testing.T, user string, types ...string) {
	t.Helper()
	status, sub := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": "cyrus", "principal": w.cy.PrincipalHref(user), "types": types, "time_zone": "Europe/Paris",
		"methods": []map[string]any{{"channel": "email", "address": user + "@example.org"}},
	})
	if status != http.StatusCreated {
		t.Fatalf("subscribe %s: %d %v", user, status, sub)
	}
}

// ping tells notifyd that users' data changed, as Cyrus's notifier would.
func (w *schedWorld) ping(t *testing.T, users ...string) {
	t.Helper()
	var hrefs []string
	for _, u := range users {
		hrefs = append(hrefs, fmt.Sprintf("%q", w.cy.PrincipalHref(u)))
	}
	body := fmt.Sprintf(`{"system":"cyrus","token":%q,"hrefs":[%s]}`, pingToken, strings.Join(hrefs, ","))
	resp, err := http.Post(w.nd.baseURL+"/v1/notifications", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping: %d", resp.StatusCode)
	}
}

// meeting is fred's event uid with wilma invited: Cyrus's implicit
// scheduling sends wilma a REQUEST (internal delivery: both are local
// users, mailto:USER@internal).
func meeting(uid, summary string, start time.Time) string {
	f := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	return strings.Join([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd e2e//EN", "BEGIN:VEVENT",
		"UID:" + uid, "DTSTAMP:" + f(time.Now()), "DTSTART:" + f(start), "DTEND:" + f(start.Add(time.Hour)),
		"SUMMARY:" + summary, "LOCATION:Room 4",
		"ORGANIZER;CN=Fred Flintstone:mailto:fred@internal",
		"ATTENDEE;CN=Fred Flintstone;PARTSTAT=ACCEPTED:mailto:fred@internal",
		"ATTENDEE;CN=Wilma Flintstone;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:wilma@internal",
		"END:VEVENT", "END:VCALENDAR", ""}, "\r\n")
}

// calendarParts returns the text/calendar parts of an email, decoded,
// with their Content-Type parameters.
func calendarParts(t *testing.T, m peertest.ReceivedMessage) (parts []string, params []map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, ps, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("Content-Type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, ps["boundary"])
			for {
				p, err := r.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		if mt != "text/calendar" {
			return
		}
		if strings.EqualFold(cte, "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, _ := io.ReadAll(body)
		parts, params = append(parts, string(b)), append(params, ps)
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return parts, params
}

// to returns the messages the sink received for addr.
func (w *schedWorld) to(t *testing.T, addr string) []peertest.ReceivedMessage {
	var out []peertest.ReceivedMessage
	for _, m := range w.sink.Messages(t) {
		for _, r := range m.RcptTo {
			if r == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

// The scheduling flow through Cyrus's implicit scheduling: an invitation
// already in wilma's inbox when notifyd first syncs it is not sent; fred
// invites wilma: wilma gets one invitation email carrying the REQUEST as
// a text/calendar part; wilma accepts in her calendar: fred gets one
// reply saying so; fred deletes the event: wilma gets one cancellation.
// Pings again send nothing more, and every inbox item is still there.
func TestSchedulingThroughCyrus(t *testing.T) {
	w := newSchedWorld(t)
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	fredCal := w.cy.CalendarHome("fred") + "Default/"
	peertest.PutCalendarObject(t, w.cy, "fred", fredCal+"old.ics", meeting("old-e2e", "Old meeting", start))

	w.nd.start()
	w.subscribe(t, "wilma", "invitation", "invitation-cancelled")
	w.subscribe(t, "fred", "invitation-reply")
	mark := w.nd.logMark()
	w.ping(t, "fred", "wilma")
	w.nd.waitLog(t, time.Minute, mark, 2, "scheduling inbox synced for the first time")
	waitIdle(t, w.nd, time.Minute)
	if got := w.sink.Messages(t); len(got) != 0 {
		t.Fatalf("%d emails after the first syncs, want none (the old invitation is old news)", len(got))
	}

	// fred invites wilma.
	peertest.PutCalendarObject(t, w.cy, "fred", fredCal+"budget.ics", meeting("budget-e2e", "Budget meeting", start))
	w.ping(t, "wilma")
	w.sink.WaitMessages(t, 1, time.Minute)
	inv := w.to(t, "wilma@example.org")
	if len(inv) != 1 {
		t.Fatalf("%d emails to wilma, want the invitation", len(inv))
	}
	when := start.In(mustZone(t, "Europe/Paris")).Format("15:04")
	if s := mailSubject(inv[0]); !strings.HasPrefix(s, "Invitation: “Budget meeting”") || !strings.Contains(s, when) {
		t.Errorf("invitation subject %q, want the title and %s (Paris)", s, when)
	}
	if !strings.Contains(inv[0].Text, "Fred Flintstone invited you to “Budget meeting”") || !strings.Contains(inv[0].Text, "Room 4") {
		t.Errorf("invitation text:\n%s", inv[0].Text)
	}
	parts, params := calendarParts(t, inv[0])
	if len(parts) != 1 || params[0]["method"] != "REQUEST" || !strings.Contains(parts[0], "METHOD:REQUEST") ||
		!strings.Contains(parts[0], "UID:budget-e2e") {
		t.Fatalf("invitation's calendar parts %v %q, want one text/calendar; method=REQUEST", params, parts)
	}

	// wilma accepts: she saves her copy (which Cyrus put in her default
	// calendar) with PARTSTAT=ACCEPTED; Cyrus sends fred the REPLY.
	wilmaCopy := w.cy.CalendarHome("wilma") + "Default/budget-e2e.ics"
	status, h, body := w.cy.Request(t, "wilma", http.MethodGet, wilmaCopy, "", "")
	if status != http.StatusOK {
		t.Fatalf("GET wilma's copy: %d %s", status, body)
	}
	accepted := strings.Replace(strings.ReplaceAll(string(body), "\r\n ", ""), "PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED", 1)
	status, _, resp := w.cy.Request(t, "wilma", http.MethodPut, wilmaCopy, "text/calendar; charset=utf-8", accepted, "If-Match", h.Get("ETag"))
	if status != http.StatusNoContent && status != http.StatusCreated {
		t.Fatalf("wilma PUT her answer: %d %s", status, resp)
	}
	w.ping(t, "fred")
	w.sink.WaitMessages(t, 2, time.Minute)
	rep := w.to(t, "fred@example.org")
	if len(rep) != 1 {
		t.Fatalf("%d emails to fred, want the reply", len(rep))
	}
	if s := mailSubject(rep[0]); !strings.HasPrefix(s, "Wilma Flintstone accepted: “Budget meeting”") {
		t.Errorf("reply subject %q", s)
	}
	if parts, params := calendarParts(t, rep[0]); len(parts) != 1 || params[0]["method"] != "REPLY" {
		t.Errorf("reply's calendar parts %v", params)
	}

	// fred deletes the event: Cyrus sends wilma the CANCEL.
	peertest.DeleteCalendarObject(t, w.cy, "fred", fredCal+"budget.ics")
	w.ping(t, "wilma")
	w.sink.WaitMessages(t, 3, time.Minute)
	cancelled := w.to(t, "wilma@example.org")
	if len(cancelled) != 2 {
		t.Fatalf("%d emails to wilma, want the invitation and the cancellation", len(cancelled))
	}
	if s := mailSubject(cancelled[1]); !strings.HasPrefix(s, "Cancelled: “Budget meeting”") {
		t.Errorf("cancellation subject %q", s)
	}
	if parts, params := calendarParts(t, cancelled[1]); len(parts) != 1 || params[0]["method"] != "CANCEL" {
		t.Errorf("cancellation's calendar parts %v", params)
	}

	// Pinged again: nothing new is sent; the inbox items are all there.
	w.ping(t, "fred", "wilma")
	waitIdle(t, w.nd, time.Minute)
	if got := w.sink.Messages(t); len(got) != 3 {
		t.Errorf("%d emails after pings with nothing new, want 3", len(got))
	}
	for user, least := range map[string]int{"wilma": 3, "fred": 1} {
		const list = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
		_, _, body := w.cy.Request(t, user, "PROPFIND", w.cy.CalendarHome(user)+"Inbox/", "application/xml; charset=utf-8", list, "Depth", "1")
		if n := strings.Count(string(body), ".ics</D:href>"); n < least {
			t.Errorf("%s's inbox holds %d items, want at least %d: notifyd must leave them", user, n, least)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
