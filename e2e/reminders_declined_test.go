package e2e

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

// calendarUserAddress is user's first calendar user address as the CalDAV
// server names it (CALDAV:calendar-user-address-set of the principal,
// asked by the user): on Cyrus, "mailto:USER@internal" unless the user
// set another.
func (w *reminderWorld) calendarUserAddress(t *testing.T, user string) string {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><C:calendar-user-address-set/></D:prop></D:propfind>`
	status, _, resp := w.srv.Request(t, user, "PROPFIND", w.srv.PrincipalHref(user), "application/xml; charset=utf-8", body, "Depth", "0")
	var ms struct {
		Hrefs []string `xml:"response>propstat>prop>calendar-user-address-set>href"`
	}
	if err := xml.Unmarshal(resp, &ms); status != http.StatusMultiStatus || err != nil || len(ms.Hrefs) == 0 {
		t.Fatalf("%s's calendar-user-address-set: %d %v\n%s", user, status, err, resp)
	}
	return strings.TrimSpace(ms.Hrefs[0])
}

// Fred declined the second day of a daily meeting (an overridden
// instance whose ATTENDEE for him, under his calendar user address in
// other case, has PARTSTAT=DECLINED). That day's alarms, one of them set
// to ring within seconds, do not ring and are listed as skipped,
// declined; the first day's alarm rings, once.
func TestReminderDeclinedInstanceOnCyrus(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{})
	fred := strings.ToUpper(w.calendarUserAddress(t, reminderUser))
	trigger := time.Now().Add(8 * time.Second).Truncate(time.Second)
	start := trigger.Add(15 * time.Minute)
	second := start.Add(24 * time.Hour)
	early := trigger.Add(2 * time.Second) // the declined day's own alarm
	people := func(partstat string) []string {
		return []string{"ORGANIZER:mailto:boss@example.org", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.org",
			"ATTENDEE;PARTSTAT=" + partstat + ";CN=Fred:" + fred}
	}
	master := append([]string{"UID:standup", "DTSTAMP:" + icsTime(time.Now()), "DTSTART:" + icsTime(start), "DURATION:PT30M",
		"RRULE:FREQ=DAILY;COUNT=2", "SUMMARY:Standup"}, people("ACCEPTED")...)
	master = append(master, icsAlarm("standup-alarm", "TRIGGER:-PT15M"))
	override := append([]string{"UID:standup", "DTSTAMP:" + icsTime(time.Now()), "RECURRENCE-ID:" + icsTime(second),
		"DTSTART:" + icsTime(second), "DURATION:PT30M", "SUMMARY:Standup"}, people("DECLINED")...)
	override = append(override, icsAlarm("standup-alarm", "TRIGGER:-PT15M"), icsAlarm("standup-early", "TRIGGER;VALUE=DATE-TIME:"+icsTime(early)))
	w.put(t, "standup", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd e2e//EN\r\n"+
		"BEGIN:VEVENT\r\n"+strings.Join(master, "\r\n")+"\r\nEND:VEVENT\r\n"+
		"BEGIN:VEVENT\r\n"+strings.Join(override, "\r\n")+"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	w.ping(t)

	w.waitReminders(t, time.Minute, "three instances of the meeting", func(rs []map[string]any) bool { return len(rs) >= 3 })
	rs := w.waitSettled(t, early.Add(time.Second))
	first := reminderFor(t, rs, "Standup", trigger)
	if first["state"] != "fired" {
		t.Errorf("the first day's reminder is %v, want fired:\n%s", first["state"], showReminders(rs))
	}
	for _, at := range []time.Time{early, second.Add(-15 * time.Minute)} {
		r := reminderFor(t, rs, "Standup", at)
		if r["state"] != "skipped" || r["reason"] != "declined" || r["recurrence_id"] != icsTime(second) {
			t.Errorf("the declined day's reminder at %s: %v %q (instance %v), want skipped, declined:\n%s",
				at.Format(time.TimeOnly), r["state"], r["reason"], r["recurrence_id"], showReminders(rs))
		}
	}
	msgs := w.sink.Messages(t)
	if len(msgs) != 1 || !strings.Contains(mailSubject(msgs[0]), "Standup") {
		t.Fatalf("%d messages, want the first day's reminder only", len(msgs))
	}
	checkLate(t, "the first day's reminder", trigger, mailArrival(t, msgs[0]))
}
