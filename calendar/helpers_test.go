package calendar

import (
	"os"
	"strings"
	"testing"
	"time"
)

// ics joins iCalendar lines with CRLF and wraps them in a VCALENDAR.
func ics(lines ...string) []byte {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd//test//EN"}, lines...)
	all = append(all, "END:VCALENDAR", "")
	return []byte(strings.Join(all, "\r\n"))
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParse(t testing.TB, data []byte, def *time.Location) *Object {
	t.Helper()
	obj, err := Parse(data, ParseOptions{DefaultLocation: def})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return obj
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// utc is a UTC time from "2006-01-02T15:04".
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// starts lists the occurrences' At times in UTC, as "2006-01-02T15:04".
func starts(x Expansion) []string {
	var out []string
	for _, o := range x.Occurrences {
		out = append(out, o.At().UTC().Format("2006-01-02T15:04"))
	}
	return out
}

func hasWarning(ws []Warning, code WarningCode) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}
