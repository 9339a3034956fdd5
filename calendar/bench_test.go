package calendar

import (
	"testing"
	"time"
)

// benchObjects are the shapes measured: a typical weekly meeting with an
// override (Exchange), a daily rule running for 14 years (with and without
// COUNT, which forbids fast-forwarding), a yearly birthday since 1950,
// and a rule that never matches again (the worst case of bounded work).
var benchObjects = []struct{ name, file string }{
	{"exchange-weekly", "exchange-weekly.ics"},
	{"thunderbird-weekly", "thunderbird-weekly.ics"},
}

var benchRules = []struct{ name, dtstart, rule string }{
	{"daily-since-2010", "20100104T090000", "FREQ=DAILY"},
	{"daily-count-since-2010", "20100104T090000", "FREQ=DAILY;COUNT=10000"},
	{"weekdays-since-2010", "20100104T090000", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
	{"yearly-since-1950", "19500315T090000", "FREQ=YEARLY"},
	{"never-matching", "20100104T090000", "FREQ=DAILY;BYYEARDAY=366;BYMONTH=1"},
}

func benchRule(b *testing.B, dtstart, rule string) *Object {
	return mustParse(b, ics("BEGIN:VEVENT", "UID:b", "DTSTART;TZID=Europe/Berlin:"+dtstart, "DURATION:PT30M",
		"RRULE:"+rule, "END:VEVENT"), nil)
}

// BenchmarkExpand: one object's instances in a 48-hour horizon and in a
// year, from 2024-06-01.
func BenchmarkExpand(b *testing.B) {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	windows := []struct {
		name string
		to   time.Time
	}{{"48h", from.Add(48 * time.Hour)}, {"1y", from.AddDate(1, 0, 0)}}
	objects := map[string]*Object{}
	var names []string
	for _, o := range benchObjects {
		objects[o.name] = mustParse(b, readTestdata(b, o.file), nil)
		names = append(names, o.name)
	}
	for _, r := range benchRules {
		objects[r.name] = benchRule(b, r.dtstart, r.rule)
		names = append(names, r.name)
	}
	for _, name := range names {
		for _, w := range windows {
			b.Run(name+"/"+w.name, func(b *testing.B) {
				obj := objects[name]
				var x Expansion
				for b.Loop() {
					x = obj.Expand(from, w.to, ExpandOptions{MinInterval: 5 * time.Minute})
				}
				b.ReportMetric(float64(x.Iterations), "iterations")
				b.ReportMetric(float64(len(x.Occurrences)), "instances")
			})
		}
	}
}

// BenchmarkParse: reading a typical object (its VTIMEZONE resolved by
// name) and one whose zone only its VTIMEZONE defines (built once, then
// cached: the cost of a new one is in BenchmarkParse/vtimezone-uncached).
func BenchmarkParse(b *testing.B) {
	for _, f := range []string{"exchange-weekly.ics", "apple-snooze.ics", "outlook-custom-zone.ics"} {
		data := readTestdata(b, f)
		b.Run(f, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, ParseOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	data := readTestdata(b, "outlook-custom-zone.ics")
	b.Run("vtimezone-uncached", func(b *testing.B) {
		for b.Loop() {
			vtzCache.Lock()
			clear(vtzCache.m)
			vtzCache.Unlock()
			if _, err := Parse(data, ParseOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
