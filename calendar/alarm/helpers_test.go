package alarm

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

var fred = []string{"mailto:Fred@Example.org", "/principals/users/fred/"}

// ics joins iCalendar lines with CRLF and wraps them in a VCALENDAR.
func ics(lines ...string) []byte {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//test//EN"}, lines...)
	all = append(all, "END:VCALENDAR", "")
	return []byte(strings.Join(all, "\r\n"))
}

// event wraps lines in a VEVENT with UID "e" and, unless lines hold one, a DTSTART.
func event(lines ...string) []byte {
	return ics(append(append([]string{"BEGIN:VEVENT", "UID:e"}, lines...), "END:VEVENT")...)
}

func loc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// utc is a UTC time from "2006-01-02T15:04".
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func parse(t testing.TB, data []byte, def *time.Location) *calendar.Object {
	t.Helper()
	obj, err := calendar.Parse(data, calendar.ParseOptions{DefaultLocation: def})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return obj
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compute parses data and computes its rings in [from, to) for fred.
func compute(t testing.TB, data []byte, def *time.Location, from, to string, opts ...func(*Options)) Result {
	t.Helper()
	o := Options{Principal: fred}
	for _, f := range opts {
		f(&o)
	}
	return Compute(parse(t, data, def), utc(from), utc(to), o)
}

// ring describes an instance: "2024-03-04T08:45 DISPLAY", then " #k" for
// a repetition, " snooze", " skip=reason".
func ring(in Instance) string {
	s := in.Trigger.UTC().Format("2006-01-02T15:04") + " " + string(in.Action)
	if in.Repetition > 0 {
		s += fmt.Sprintf(" #%d", in.Repetition)
	}
	if in.Snooze {
		s += " snooze"
	}
	if in.Skip != "" {
		s += " skip=" + string(in.Skip)
	}
	return s
}

func rings(r Result) []string {
	var out []string
	for _, in := range r.Instances {
		out = append(out, ring(in))
	}
	return out
}

func wantRings(t *testing.T, r Result, want ...string) {
	t.Helper()
	if got := rings(r); !slices.Equal(got, want) {
		t.Errorf("rings\n got %q\nwant %q", got, want)
	}
}

func keys(r Result) []string {
	var out []string
	for _, in := range r.Instances {
		out = append(out, in.Key)
	}
	return out
}

func hasWarning(r Result, code calendar.WarningCode) bool {
	for _, w := range r.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}
