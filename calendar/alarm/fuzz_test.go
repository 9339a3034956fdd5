package alarm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// FuzzCompute: whatever parses, Compute returns bounded, ordered rings in
// the window, with unique keys, and never panics.
func FuzzCompute(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.ics")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add(ics("BEGIN:VTODO", "UID:t", "DUE:20240701T170000Z", "RRULE:FREQ=DAILY",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER;RELATED=END:-P1D", "REPEAT:3", "DURATION:PT1H", "ATTENDEE:mailto:fred@example.org", "END:VALARM", "END:VTODO"))
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 9, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := calendar.Parse(data, calendar.ParseOptions{DefaultLocation: berlin})
		if err != nil {
			return
		}
		r := Compute(obj, from, to, Options{Principal: fred, MaxIterations: 2000})
		if len(r.Instances) > maxRings {
			t.Fatalf("%d rings", len(r.Instances))
		}
		seen := map[string]bool{}
		for i, in := range r.Instances {
			if in.Trigger.Before(from) || !in.Trigger.Before(to) {
				t.Fatalf("ring out of the window: %+v", in)
			}
			if i > 0 && in.Trigger.Before(r.Instances[i-1].Trigger) {
				t.Fatal("rings out of order")
			}
			if seen[in.Key] || len(in.Key) != 32 {
				t.Fatalf("key %q repeated or malformed", in.Key)
			}
			seen[in.Key] = true
		}
	})
}
