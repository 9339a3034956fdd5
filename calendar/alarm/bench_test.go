package alarm

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// BenchmarkCompute: an object's rings in a 48-hour horizon and in a year
// (expansion included), and parsing plus computing, what an object costs
// when it changes.
func BenchmarkCompute(b *testing.B) {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	alarm := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"}
	objects := []struct {
		name string
		data []byte
	}{
		{"exchange-weekly", testdata(b, "exchange-weekly.ics")},
		{"thunderbird-weekly", testdata(b, "thunderbird-weekly.ics")},
		{"daily-since-2010", event(append([]string{"DTSTART;TZID=Europe/Berlin:20100104T090000", "RRULE:FREQ=DAILY"}, alarm...)...)},
		{"daily-count-since-2010", event(append([]string{"DTSTART;TZID=Europe/Berlin:20100104T090000", "RRULE:FREQ=DAILY;COUNT=10000"}, alarm...)...)},
		{"birthday-since-1950", event(append([]string{"DTSTART;VALUE=DATE:19500315", "RRULE:FREQ=YEARLY"}, alarm...)...)},
	}
	berlin := loc(b, "Europe/Berlin")
	for _, o := range objects {
		obj := parse(b, o.data, berlin)
		for _, w := range []struct {
			name string
			to   time.Time
		}{{"48h", from.Add(48 * time.Hour)}, {"1y", from.AddDate(1, 0, 0)}} {
			b.Run(o.name+"/"+w.name, func(b *testing.B) {
				var r Result
				for b.Loop() {
					r = Compute(obj, from, w.to, Options{Principal: fred})
				}
				b.ReportMetric(float64(len(r.Instances)), "rings")
			})
		}
		b.Run(o.name+"/parse+48h", func(b *testing.B) {
			for b.Loop() {
				obj, err := calendar.Parse(o.data, calendar.ParseOptions{DefaultLocation: berlin})
				if err != nil {
					b.Fatal(err)
				}
				Compute(obj, from, from.Add(48*time.Hour), Options{Principal: fred})
			}
		})
	}
}
