package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// These tests run what the reminder engine does against a real Cyrus IMAP
// 3.6, with the service account given access to a user's calendar as the
// package documentation says.

// berlin is a calendar-timezone value.
const berlin = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n" +
	"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"

// icsLines joins lines into an iCalendar object with CRLF line ends.
func icsLines(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

func cyrusEvent(uid, summary string, alarm bool) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//test//EN", "BEGIN:VEVENT", "UID:" + uid,
		"DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20310328T100000", "DTEND;TZID=Europe/Berlin:20310328T110000", "SUMMARY:" + summary}
	if alarm {
		lines = append(lines, "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:"+summary, "TRIGGER:-PT15M", "END:VALARM")
	}
	return icsLines(append(lines, "END:VEVENT", "END:VCALENDAR")...)
}

func cyrusTask(uid string) string {
	return icsLines("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//test//EN", "BEGIN:VTODO", "UID:"+uid,
		"DTSTAMP:20260101T000000Z", "DUE:20310401T090000Z", "SUMMARY:task", "BEGIN:VALARM", "ACTION:DISPLAY",
		"DESCRIPTION:task", "TRIGGER;RELATED=END:-PT10M", "END:VALARM", "END:VTODO", "END:VCALENDAR")
}

// cyrusCalendar makes owner's calendar name (VEVENT and VTODO, Europe/Berlin)
// with two events (the first with an alarm) and a task, and returns the
// owner's path of each object.
func cyrusCalendar(t *testing.T, cy *peertest.Cyrus, owner, name string) (ev1, ev2, task string) {
	t.Helper()
	path := cy.CalendarHome(owner) + name + "/"
	body := `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<D:displayname>Work</D:displayname>` +
		`<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>` +
		`<C:calendar-timezone>` + escapeText(berlin) + `</C:calendar-timezone>` +
		`</D:prop></D:set></C:mkcalendar>`
	if status, _, resp := cy.Request(t, owner, "MKCALENDAR", path, xmlContentType, body); status != http.StatusCreated {
		t.Fatalf("MKCALENDAR %s: %d %s", path, status, resp)
	}
	for href, ics := range map[string]string{path + "ev1.ics": cyrusEvent("ev1", "with alarm", true), path + "ev2.ics": cyrusEvent("ev2", "plain", false), path + "task.ics": cyrusTask("task")} {
		cyrusPut(t, cy, owner, href, ics)
	}
	return path + "ev1.ics", path + "ev2.ics", path + "task.ics"
}

func cyrusPut(t *testing.T, cy *peertest.Cyrus, user, href, ics string) {
	t.Helper()
	if status, _, resp := cy.Request(t, user, http.MethodPut, href, "text/calendar; charset=utf-8", ics); status != http.StatusCreated && status != http.StatusNoContent {
		t.Fatalf("PUT %s: %d %s", href, status, resp)
	}
}

func changedHrefs(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Href)
	}
	sort.Strings(out)
	return out
}

func TestCyrusCalendars(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred")
	ev1, ev2, task := cyrusCalendar(t, cy, "fred", "work")
	cy.GrantCalendar(t, "fred", "work")
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	ctx := context.Background()

	cals, err := c.Calendars(ctx, cy.PrincipalHref("fred"))
	if err != nil {
		t.Fatal(err)
	}
	// Only fred's calendar: not the notifier's own Default in the same
	// home, not fred's Default (not granted), not the inbox or outbox.
	if len(cals) != 1 {
		t.Fatalf("Calendars(fred) = %+v", cals)
	}
	cal := cals[0]
	shared := cy.SharedCalendarPath(peertest.CyrusNotifier, "fred", "work")
	if cal.Href != shared || cal.DisplayName != "Work" || cal.Owner != cy.PrincipalHref("fred") ||
		fmt.Sprint(cal.Components) != "[VEVENT VTODO]" || cal.TZID() != "Europe/Berlin" ||
		!strings.Contains(cal.TimeZone, "BEGIN:VTIMEZONE") || cal.SyncToken == "" || cal.CTag == "" {
		t.Errorf("fred's calendar: %+v", cal)
	}
	t.Logf("Cyrus's calendar: time zone id %q, sync-token %q, ctag %q, components %v", cal.TimeZoneID, cal.SyncToken, cal.CTag, cal.Components)

	first, err := c.Sync(ctx, cal.Href, "")
	if err != nil {
		t.Fatal(err)
	}
	member := func(owners string) string {
		return shared + strings.TrimPrefix(owners, cy.CalendarHome("fred")+"work/")
	}
	all := []string{member(ev1), member(ev2), member(task)}
	sort.Strings(all)
	if fmt.Sprint(changedHrefs(first.Changed)) != fmt.Sprint(all) || len(first.Deleted) != 0 || first.Token == "" {
		t.Fatalf("first sync: %+v, want %v", first, all)
	}

	objs, err := c.MultiGet(ctx, cal.Href, all)
	if err != nil {
		t.Fatal(err)
	}
	etags := map[string]string{}
	for _, r := range first.Changed {
		etags[r.Href] = r.ETag
	}
	for _, o := range objs {
		if o.Err != nil || o.Missing || o.TooLarge || o.ETag != etags[o.Href] || !strings.Contains(string(o.Data), "BEGIN:VCALENDAR") {
			t.Errorf("object %s: %+v (sync etag %s)", o.Href, o, etags[o.Href])
		}
		// The service account sees the owner's alarms (sharedseen).
		if (o.Href == member(ev1) || o.Href == member(task)) && !strings.Contains(string(o.Data), "BEGIN:VALARM") {
			t.Errorf("%s without its alarm:\n%s", o.Href, o.Data)
		}
	}

	// Nothing changed: one REPORT, nothing else.
	before := c.Stats()
	same, err := c.Sync(ctx, cal.Href, first.Token)
	if err != nil || len(same.Changed)+len(same.Deleted) != 0 {
		t.Fatalf("sync with nothing new: %+v, %v", same, err)
	}
	if after := c.Stats(); after.Report-before.Report != 1 || after.Total()-before.Total() != 1 {
		t.Errorf("sync with nothing new: %d requests, %d REPORTs; want exactly 1 REPORT", after.Total()-before.Total(), after.Report-before.Report)
	}

	// A change and a deletion.
	cyrusPut(t, cy, "fred", ev2, cyrusEvent("ev2", "renamed", false))
	if status, _, resp := cy.Request(t, "fred", http.MethodDelete, task, "", ""); status != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %s", task, status, resp)
	}
	res, err := c.Sync(ctx, cal.Href, same.Token)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(changedHrefs(res.Changed)) != fmt.Sprint([]string{member(ev2)}) || fmt.Sprint(res.Deleted) != fmt.Sprint([]string{member(task)}) ||
		res.Changed[0].ETag == etags[member(ev2)] || res.Token == same.Token {
		t.Errorf("sync after a change and a deletion: %+v", res)
	}
	objs, err = c.MultiGet(ctx, cal.Href, []string{member(ev2), member(task)})
	if err != nil {
		t.Fatal(err)
	}
	if o := objs[0]; o.ETag != res.Changed[0].ETag || !strings.Contains(string(o.Data), "SUMMARY:renamed") {
		t.Errorf("changed event: %+v", o)
	}
	if o := objs[1]; !o.Missing || o.Data != nil || o.Err != nil {
		t.Errorf("deleted task: %+v", o)
	}

	for _, bogus := range []string{"data:,123-4", "garbage"} {
		if _, err := c.Sync(ctx, cal.Href, bogus); !errors.Is(err, ErrInvalidSyncToken) || IsTemporary(err) {
			t.Errorf("bogus token %q: %v", bogus, err)
		}
	}

	// Truncated: one member per REPORT (Cyrus answers 507 for the
	// collection) gives the same as a whole sync.
	limited := cyrusClient(t, cy, peertest.CyrusNotifier)
	limited.syncLimit = 1
	whole, err := c.Sync(ctx, cal.Href, "")
	if err != nil {
		t.Fatal(err)
	}
	parts, err := limited.Sync(ctx, cal.Href, "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(parts.Changed) != fmt.Sprint(whole.Changed) || len(parts.Changed) != 2 || limited.Stats().Report < 2 {
		t.Errorf("truncated sync: %+v after %d REPORTs; whole: %+v", parts, limited.Stats().Report, whole)
	}
}

// TestCyrusCalendarGrantSteps shows what each step of the recipe is for:
// without the subscription the calendar is not listed (but readable at
// its path); without sharedseen the service account reads the owner's
// events without their alarms.
func TestCyrusCalendarGrantSteps(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred")
	cyrusCalendar(t, cy, "fred", "work")
	c := cyrusClient(t, cy, peertest.CyrusNotifier)
	ctx := context.Background()
	shared := cy.SharedCalendarPath(peertest.CyrusNotifier, "fred", "work")
	ev1Shared := shared + "ev1.ics"

	cy.GrantCalendar(t, "fred", "work", peertest.CyrusGrant{NoSharedSeen: true, NoSubscribe: true})
	if cals, err := c.Calendars(ctx, cy.PrincipalHref("fred")); err != nil || len(cals) != 0 {
		t.Errorf("Calendars(fred) before the subscription: %+v, %v", cals, err)
	}
	objs, err := c.MultiGet(ctx, shared, []string{ev1Shared})
	if err != nil || len(objs) != 1 || objs[0].Data == nil {
		t.Fatalf("MultiGet: %+v, %v", objs, err)
	}
	if strings.Contains(string(objs[0].Data), "VALARM") {
		t.Errorf("Cyrus no longer hides the owner's alarms without sharedseen: update the package documentation\n%s", objs[0].Data)
	}
	// The owner's path is redirected to the service account's view, whose
	// members are outside the owner's path.
	if res, err := c.Sync(ctx, cy.CalendarHome("fred")+"work/", ""); !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), shared) {
		t.Errorf("Sync of the owner's path: %+v, %v", res, err)
	}
	if objs, err := c.MultiGet(ctx, cy.CalendarHome("fred")+"work/", []string{"ev1.ics"}); !errors.Is(err, ErrMoved) {
		t.Errorf("MultiGet of the owner's path: %+v, %v", objs, err)
	}

	cy.GrantCalendar(t, "fred", "work")
	cals, err := c.Calendars(ctx, cy.PrincipalHref("fred"))
	if err != nil || len(cals) != 1 || cals[0].Href != shared {
		t.Errorf("Calendars(fred) after the subscription: %+v, %v", cals, err)
	}
	objs, err = c.MultiGet(ctx, shared, []string{ev1Shared})
	if err != nil || len(objs) != 1 || !strings.Contains(string(objs[0].Data), "BEGIN:VALARM") {
		t.Errorf("MultiGet with sharedseen: %+v, %v", objs, err)
	}
}
