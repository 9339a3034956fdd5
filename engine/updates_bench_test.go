package engine

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// benchEvent is a weekly meeting of about 1.6 KB as clients write it: a
// VTIMEZONE, attendees, an alarm; start and summary vary.
func benchEvent(start, summary string) string {
	return strings.Join([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
		"BEGIN:VTIMEZONE", "TZID:Europe/Paris", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
		"DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "BEGIN:STANDARD",
		"TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
		"END:STANDARD", "END:VTIMEZONE", "BEGIN:VEVENT", "UID:6f1c4a52-2f3e-4f7e-9a55-0d1e2f3a4b5c", "DTSTAMP:20261201T080000Z",
		"CREATED:20261201T080000Z", "LAST-MODIFIED:20261201T080000Z", "SEQUENCE:3", "SUMMARY:" + summary,
		"LOCATION:Room 4, second floor", "DESCRIPTION:Agenda: figures for Q1\\, hiring\\, the offsite. Bring the spreadsheets.",
		"DTSTART;TZID=Europe/Paris:" + start, "DTEND;TZID=Europe/Paris:" + strings.Replace(start, "T09", "T10", 1),
		"RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T215959Z", "ORGANIZER;CN=Fred:mailto:fred@example.org",
		"ATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:wilma@example.org",
		"ATTENDEE;CN=Barney;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:barney@example.org",
		"X-MOZ-GENERATION:4", "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM",
		"END:VEVENT", "END:VCALENDAR", ""}, "\r\n")
}

// BenchmarkUpdateDiff is what telling one changed event costs in the
// engine once its burst window closed, but the database: both versions
// parsed, diffed, the event written as the notification carries it,
// and the notification as JSON.
//
//	go test -run '^$' -bench UpdateDiff -benchmem ./engine/
func BenchmarkUpdateDiff(b *testing.B) {
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	paris, _ := time.LoadLocation("Europe/Paris")
	p := &store.PendingUpdate{System: "cal", Principal: "/p/wilma", Key: "uid:6f1c", FirstAt: time.Now()}
	state := func(ics string) *store.UpdateState {
		return &store.UpdateState{CalendarHref: "/dav/calendars/user/notifier/fred.work/", CalendarName: "Work",
			Href: "/dav/calendars/user/notifier/fred.work/budget.ics", Data: ics,
			SharedURL: "/dav/calendars/user/fred/work/", Sharee: true}
	}
	before := state(benchEvent("20261208T090000", "Budget review"))
	for _, c := range []struct {
		name  string
		after *store.UpdateState
		want  int
	}{
		{"moved-and-retitled", state(benchEvent("20261208T140000", "Budget review (Q1)")), 1},
		{"re-saved", state(strings.Replace(before.Data, "SEQUENCE:3", "SEQUENCE:4", 1)), 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(before.Data) + len(c.after.Data)))
			for b.Loop() {
				if got := e.diffObject(p, "6f1c", before, c.after, paris); len(got) != c.want {
					b.Fatalf("%d updates, want %d", len(got), c.want)
				}
			}
		})
	}
}
