package message

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"

	"github.com/notifyd/notifyd"
)

// decodeICS parses an iCalendar stream with go-ical and returns its one
// component (VEVENT or VTODO).
func decodeICS(t *testing.T, ics string) (*ical.Calendar, *ical.Component) {
	t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(ics)).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, ics)
	}
	if len(cal.Children) != 1 {
		t.Fatalf("%d components, want 1:\n%s", len(cal.Children), ics)
	}
	return cal, cal.Children[0]
}

// prop returns the raw value of a property and its VALUE parameter.
func prop(c *ical.Component, name string) (value, valueType string) {
	p := c.Props.Get(name)
	if p == nil {
		return "", ""
	}
	return p.Value, p.Params.Get(ical.ParamValue)
}

func TestReminderCalendar(t *testing.T) {
	stamp := utc(1, 7, 45)
	event := &notifyd.Event{Href: "/c/b.ics", UID: "event-uid", Summary: "Budget review", Location: "Room 4", Start: utc(1, 8, 0), End: utc(1, 9, 0)}
	for _, tc := range []struct {
		name  string
		e     *notifyd.Event
		r     notifyd.Reminder
		comp  string
		props map[string][2]string // name → value, VALUE parameter; "" value: absent
	}{
		{"an instance of a recurring event", event,
			notifyd.Reminder{UID: "budget-1", RecurrenceID: "20261201T080000Z", Component: "event", Description: "Agenda:\n1. Figures"}, "VEVENT",
			map[string][2]string{"UID": {"budget-1"}, "DTSTAMP": {"20261201T074500Z"}, "RECURRENCE-ID": {"20261201T080000Z"},
				"DTSTART": {"20261201T080000Z"}, "DTEND": {"20261201T090000Z"}, "SUMMARY": {"Budget review"}, "LOCATION": {"Room 4"},
				"DESCRIPTION": {`Agenda:\n1. Figures`}, "DUE": {}}},
		{"a single event: its UID from the event, no RECURRENCE-ID", &notifyd.Event{UID: "event-uid", Start: utc(1, 8, 0)},
			notifyd.Reminder{Component: "event"}, "VEVENT",
			map[string][2]string{"UID": {"event-uid"}, "RECURRENCE-ID": {}, "DTSTART": {"20261201T080000Z"}, "DTEND": {}, "SUMMARY": {}, "LOCATION": {}}},
		{"an all-day instance", &notifyd.Event{Summary: "Fair", AllDay: true, Start: utc(24, 0, 0), End: utc(26, 0, 0)},
			notifyd.Reminder{UID: "fair", RecurrenceID: "20261224", Component: "event"}, "VEVENT",
			map[string][2]string{"RECURRENCE-ID": {"20261224", "DATE"}, "DTSTART": {"20261224", "DATE"}, "DTEND": {"20261226", "DATE"}}},
		{"a task with only DUE", &notifyd.Event{Summary: "Send report"},
			notifyd.Reminder{UID: "task-1", Component: "task", Due: utc(1, 16, 0)}, "VTODO",
			map[string][2]string{"UID": {"task-1"}, "DUE": {"20261201T160000Z"}, "DTSTART": {}, "DTEND": {}}},
		{"a task with a start", &notifyd.Event{Summary: "Send report", Start: utc(1, 8, 0), End: utc(1, 16, 0)},
			notifyd.Reminder{UID: "task-1", Component: "task", Due: utc(1, 16, 0)}, "VTODO",
			map[string][2]string{"DTSTART": {"20261201T080000Z"}, "DUE": {"20261201T160000Z"}, "DTEND": {}}},
		{"a task starting after it is due: no DTSTART", &notifyd.Event{Start: utc(1, 17, 0)},
			notifyd.Reminder{UID: "task-1", Component: "task", Due: utc(1, 16, 0)}, "VTODO",
			map[string][2]string{"DTSTART": {}, "DUE": {"20261201T160000Z"}}},
		{"an all-day task", &notifyd.Event{AllDay: true},
			notifyd.Reminder{UID: "task-1", Component: "task", Due: utc(3, 0, 0), RecurrenceID: "20261203"}, "VTODO",
			map[string][2]string{"DUE": {"20261203", "DATE"}, "RECURRENCE-ID": {"20261203", "DATE"}}},
		{"a local recurrence id in the event's zone", event,
			notifyd.Reminder{UID: "u", RecurrenceID: "20261201T090000", TimeZone: "Europe/Paris"}, "VEVENT",
			map[string][2]string{"RECURRENCE-ID": {"20261201T080000Z"}}},
		{"a recurrence id that is not one is left out", event,
			notifyd.Reminder{UID: "u", RecurrenceID: "20261201T080000Z\r\nBEGIN:VALARM"}, "VEVENT",
			map[string][2]string{"RECURRENCE-ID": {}}},
		{"hostile text stays in its property", &notifyd.Event{Summary: "A;B,C\\\r\nEND:VEVENT", Location: "\u202eRoom\x00 4", Start: utc(1, 8, 0)},
			notifyd.Reminder{UID: "x\nDTSTART:19700101T000000Z", Description: "line\r\nEND:VCALENDAR"}, "VEVENT",
			map[string][2]string{"UID": {`x\nDTSTART:19700101T000000Z`}, "DTSTART": {"20261201T080000Z"}, "SUMMARY": {`A\;B\,C\\ END:VEVENT`},
				"LOCATION": {"Room 4"}, "DESCRIPTION": {`line\nEND:VCALENDAR`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: tc.e, Reminder: &tc.r}
			lines := ReminderCalendar(n, stamp)
			if lines == nil {
				t.Fatal("no calendar")
			}
			ics := FoldICal(lines)
			cal, comp := decodeICS(t, ics)
			if method, _ := prop(cal.Component, "METHOD"); method != "PUBLISH" || comp.Name != tc.comp {
				t.Errorf("METHOD %q, component %s; want PUBLISH, %s", method, comp.Name, tc.comp)
			}
			if len(comp.Children) != 0 {
				t.Errorf("subcomponents (an alarm would ring twice): %v", comp.Children)
			}
			for name, want := range tc.props {
				if v, typ := prop(comp, name); v != want[0] || typ != want[1] {
					t.Errorf("%s: %q (VALUE %q), want %q (VALUE %q)", name, v, typ, want[0], want[1])
				}
			}
		})
	}
}

// Nothing to describe, nothing written.
func TestReminderCalendarNone(t *testing.T) {
	r := &notifyd.Reminder{UID: "u", Component: "event"}
	start := &notifyd.Event{Start: utc(1, 8, 0)}
	for name, n := range map[string]*notifyd.Notification{
		"nil":                      nil,
		"not a reminder":           {Type: notifyd.TypeResourceChange, Event: start, Reminder: r},
		"a reminder without alarm": {Type: notifyd.TypeReminder, Event: start},
		"no UID":                   {Type: notifyd.TypeReminder, Event: start, Reminder: &notifyd.Reminder{Component: "event"}},
		"an event without start":   {Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "x"}, Reminder: r},
		"no event":                 {Type: notifyd.TypeReminder, Reminder: r},
		"a task without times":     {Type: notifyd.TypeReminder, Event: &notifyd.Event{}, Reminder: &notifyd.Reminder{UID: "u", Component: "task"}},
	} {
		if lines := ReminderCalendar(n, utc(1, 0, 0)); lines != nil {
			t.Errorf("%s: %q", name, lines)
		}
	}
}

func TestFoldICal(t *testing.T) {
	long := "SUMMARY:" + strings.Repeat("é", 100) + strings.Repeat("x", 100)
	out := FoldICal([]string{"BEGIN:VCALENDAR", long, "END:VCALENDAR"})
	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Errorf("%q", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > MaxICalLine || !utf8.ValidString(l) {
			t.Errorf("line of %d octets (or cut inside a character): %q", len(l), l)
		}
	}
	if unfolded := strings.ReplaceAll(out, "\r\n ", ""); !strings.Contains(unfolded, long+"\r\n") {
		t.Errorf("unfolded:\n%q", unfolded)
	}
	if got := ICalText("a,b;c\\d\r\ne\x00\x7f"); got != `a\,b\;c\\d\ne` {
		t.Errorf("ICalText %q", got)
	}
	if got := ICalDate(time.Date(2026, 12, 24, 23, 0, 0, 0, mustZone(t, "Pacific/Auckland"))); got != "20261224" {
		t.Errorf("ICalDate %q", got)
	}
}
