package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
)

// The reminder benchmarks (reminders_schedule_bench_test.go and
// reminders_lateness_bench_test.go) work on many principals' calendars,
// served from memory by benchCalendars, with events as calendar clients
// write them (benchEvent).

// paris is the Europe/Paris VTIMEZONE block as Thunderbird writes it.
const paris = "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nX-LIC-LOCATION:Europe/Paris\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n" +
	"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

var parisZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// benchEvent is an event of an hour at start as a calendar client writes
// it (about 1.6 KB): its time zone, an organizer and two attendees, a
// summary, a place and a description, and one DISPLAY alarm 15 minutes
// before. A non-empty rrule makes it recur.
func benchEvent(uid string, start time.Time, rrule string) []byte {
	local := func(t time.Time) string { return t.In(parisZone).Format("20060102T150405") }
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n")
	b.WriteString(paris)
	b.WriteString("BEGIN:VEVENT\r\nCREATED:20260105T091500Z\r\nLAST-MODIFIED:20260105T091500Z\r\nDTSTAMP:20260105T091500Z\r\n")
	b.WriteString("UID:" + uid + "\r\nSUMMARY:Quarterly planning with the platform team\r\n")
	b.WriteString("ORGANIZER;CN=Fred Flintstone:mailto:fred@example.org\r\n")
	b.WriteString("ATTENDEE;CN=Fred Flintstone;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:fred@example.org\r\n")
	b.WriteString("ATTENDEE;CN=Wilma Flintstone;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:wilma@example.org\r\n")
	if rrule != "" {
		b.WriteString("RRULE:" + rrule + "\r\n")
	}
	b.WriteString("DTSTART;TZID=Europe/Paris:" + local(start) + "\r\nDTEND;TZID=Europe/Paris:" + local(start.Add(time.Hour)) + "\r\n")
	b.WriteString("LOCATION:Building 4\\, room 201 (Bedrock)\r\n")
	b.WriteString("DESCRIPTION:Agenda: last quarter's figures\\, the roadmap\\, staffing. Dial-in: +33 1 23 45 67 89\\, code 4242.\r\n")
	b.WriteString("SEQUENCE:0\r\nTRANSP:OPAQUE\r\n")
	b.WriteString("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DURATION:-PT15M\r\nDESCRIPTION:Default Mozilla Description\r\nEND:VALARM\r\n")
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// benchPrincipal and benchCalendar name principal i and its calendar.
func benchPrincipal(i int) string { return fmt.Sprintf("/dav/principals/user/u%d/", i) }
func benchCalendar(i int) string  { return fmt.Sprintf("/dav/calendars/user/u%d/Default/", i) }

// benchCalendars serves one calendar per principal, whose objects events
// says, from memory; its listing shows a sync token that never changes,
// so that a calendar synced once is skipped by the polls that follow.
type benchCalendars struct {
	*fakeDAV
	// events returns the objects of principal i's calendar by href.
	events func(i int) map[string][]byte
	mu     sync.Mutex
	// listings counts the listings of calendar homes.
	listings int
}

// principalOf is the index of the principal or calendar at href.
func principalOf(href string) int {
	var i int
	if _, err := fmt.Sscanf(href[strings.LastIndex(href, "/u")+2:], "%d", &i); err != nil {
		panic(href)
	}
	return i
}

func (c *benchCalendars) CalendarsListedSince(_ context.Context, p string, _ time.Time) ([]caldavclient.Calendar, error) {
	c.mu.Lock()
	c.listings++
	c.mu.Unlock()
	return []caldavclient.Calendar{{Href: benchCalendar(principalOf(p)), DisplayName: "Work", SyncToken: "1",
		Components: []string{"VEVENT", "VTODO"}}}, nil
}

func (c *benchCalendars) Sync(ctx context.Context, coll, token string) (*caldavclient.SyncResult, error) {
	if !strings.HasPrefix(coll, "/dav/calendars/") {
		return c.fakeDAV.Sync(ctx, coll, token)
	}
	res := &caldavclient.SyncResult{Token: "1"}
	if token == "" {
		for href := range c.events(principalOf(coll)) {
			res.Changed = append(res.Changed, caldavclient.Resource{Href: href, ETag: `"1"`})
		}
	}
	return res, nil
}

func (c *benchCalendars) MultiGet(_ context.Context, coll string, hrefs []string) ([]caldavclient.Object, error) {
	objs := c.events(principalOf(coll))
	var out []caldavclient.Object
	for _, h := range hrefs {
		data, ok := objs[h]
		out = append(out, caldavclient.Object{Href: h, ETag: `"1"`, Data: data, Missing: !ok})
	}
	return out, nil
}
