package change

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

var berlin = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// ics joins iCalendar lines with CRLF and wraps them in a VCALENDAR.
func ics(lines ...string) []byte {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//test//EN"}, lines...)
	all = append(all, "END:VCALENDAR", "")
	return []byte(strings.Join(all, "\r\n"))
}

// event is a VEVENT with UID "e" and the given properties.
func event(props ...string) []string {
	return append(append([]string{"BEGIN:VEVENT", "UID:e"}, props...), "END:VEVENT")
}

// task is a VTODO with UID "t" and the given properties.
func task(props ...string) []string {
	return append(append([]string{"BEGIN:VTODO", "UID:t"}, props...), "END:VTODO")
}

// join concatenates component line lists.
func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// parse reads lines (components without the VCALENDAR) with def as the
// default location; nil lines are a nil object.
func parse(t testing.TB, lines []string, def *time.Location) *calendar.Object {
	t.Helper()
	if lines == nil {
		return nil
	}
	obj, err := calendar.Parse(ics(lines...), calendar.ParseOptions{DefaultLocation: def})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return obj
}

// describe writes updates compactly, one a line:
// "event modified [20260512T080000Z]: start 2026-05-12T08:00Z→…; summary "a"→"b"".
func describe(us []notifyd.Update) []string {
	var out []string
	for _, u := range us {
		s := u.Component + " " + u.Action
		if u.RecurrenceID != "" {
			s += " [" + u.RecurrenceID + "]"
		}
		var fs []string
		for _, f := range u.Fields {
			if !f.FromTime.IsZero() || !f.ToTime.IsZero() {
				fs = append(fs, fmt.Sprintf("%s %s→%s", f.Field, when(f.FromTime, f.AllDay), when(f.ToTime, f.AllDay)))
			} else {
				fs = append(fs, fmt.Sprintf("%s %q→%q", f.Field, f.From, f.To))
			}
		}
		if len(fs) > 0 {
			s += ": " + strings.Join(fs, "; ")
		}
		out = append(out, s)
	}
	return out
}

func when(t time.Time, allDay bool) string {
	switch {
	case t.IsZero():
		return "-"
	case allDay:
		if t.Location() != time.UTC || t.Hour() != 0 || t.Minute() != 0 {
			return "BAD-DATE(" + t.String() + ")"
		}
		return t.Format("2006-01-02")
	case t.Location() != time.UTC:
		return "NOT-UTC(" + t.String() + ")"
	}
	return t.Format("2006-01-02T15:04Z")
}

func parseDay(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}
