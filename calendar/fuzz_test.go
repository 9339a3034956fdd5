package calendar

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// FuzzParse feeds Parse anything: it returns an object or an error, never
// panics, and the object expands within bounds.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ics")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, seed := range [][]byte{
		ics("BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Europe/Berlin:20240101T100000", "RRULE:FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "END:VEVENT"),
		ics("BEGIN:VEVENT", "UID:a", "DTSTART:20240101T100000Z", "RRULE:FREQ=SECONDLY;BYSETPOS=1,-1", "EXDATE:20240101T100000Z,x", "END:VEVENT"),
		ics("BEGIN:VTODO", "UID:t", "DUE;VALUE=DATE:20240101", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20250101", "END:VTODO"),
		ics("BEGIN:VEVENT", "UID:a", "X-A;P=b", "END:VEVENT"),
		ics("BEGIN:VEVENT", "UID:a", "RECURRENCE-ID;VALUE=DATE:20240102", "DTSTART;VALUE=DATE:20240103", "END:VEVENT"),
	} {
		f.Add(seed)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := Parse(data, ParseOptions{DefaultLocation: berlin})
		if err != nil {
			return
		}
		if obj.UID == "" || (obj.Kind != KindEvent && obj.Kind != KindTask) {
			t.Fatalf("object without UID or kind: %+v", obj)
		}
		x := obj.Expand(from, to, ExpandOptions{MaxIterations: 2000, MinInterval: 5 * time.Minute})
		if x.Iterations > 2000 {
			t.Fatalf("%d iterations over the cap", x.Iterations)
		}
		if !sort.SliceIsSorted(x.Occurrences, func(i, j int) bool {
			return x.Occurrences[i].At().Before(x.Occurrences[j].At())
		}) {
			t.Fatal("occurrences out of order")
		}
		for _, o := range x.Occurrences {
			if at := o.At(); at.Before(from) || !at.Before(to) || o.Component == nil {
				t.Fatalf("occurrence out of the window: %+v", o)
			}
		}
	})
}
