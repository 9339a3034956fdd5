package change

import (
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/calendar"
)

// BenchmarkDiff: the cost of one changed event (issue 15's "Diff cost per
// changed event"): a typical meeting retitled and moved; a weekly series
// with 100 overrides, one of them moved; the same series re-saved with
// nothing visible changed (every override compared); and a change to its
// master.
func BenchmarkDiff(b *testing.B) {
	series := func(edit func(i int) []string, master []string) []string {
		lines := master
		for i := range 100 {
			lines = join(lines, edit(i))
		}
		return lines
	}
	override := func(i int, hour string) []string {
		day := parseDay("2026-05-12").AddDate(0, 0, 7*i).Format("20060102")
		return event("RECURRENCE-ID;TZID=Europe/Berlin:"+day+"T100000", "DTSTAMP:20260501T120000Z", "SUMMARY:Jour fixe",
			"DTSTART;TZID=Europe/Berlin:"+day+"T"+hour+"0000", "DTEND;TZID=Europe/Berlin:"+day+"T"+hour+"3000",
			"ATTENDEE;PARTSTAT=ACCEPTED:mailto:wilma@example.org",
			"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM")
	}
	base := series(func(i int) []string { return override(i, "11") }, weeklyMaster())
	oneMoved := series(func(i int) []string {
		if i == 50 {
			return override(i, "14")
		}
		return override(i, "11")
	}, weeklyMaster())
	retitled := series(func(i int) []string { return override(i, "11") }, replace(weeklyMaster(), "SUMMARY", "SUMMARY:Budget"))
	typical := meeting("DESCRIPTION:Agenda: budget\\, hiring\\, the offsite", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:wilma@example.org",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM")
	moved := replace(replace(replace(typical, "SUMMARY", "SUMMARY:Jour fixe (Q2)"),
		"DTSTART", "DTSTART;TZID=Europe/Berlin:20260512T140000"), "DTEND", "DTEND;TZID=Europe/Berlin:20260512T150000")
	for _, c := range []struct {
		name          string
		before, after []string
		updates       int
	}{
		{"typical", typical, moved, 1},
		{"100-overrides/one-moved", base, oneMoved, 1},
		{"100-overrides/no-change", base, base, 0},
		{"100-overrides/master-retitled", base, retitled, 1},
	} {
		before, after := parse(b, c.before, berlin), parse(b, c.after, berlin)
		opts := Options{Location: berlin}
		if n := len(Diff(before, after, opts)); n != c.updates {
			b.Fatalf("%s: %d updates, want %d", c.name, n, c.updates)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Diff(before, after, opts)
			}
		})
	}
}

// BenchmarkParseAndDiff is what the engine pays per changed resource:
// parsing both versions, then Diff.
func BenchmarkParseAndDiff(b *testing.B) {
	before := ics(meeting()...)
	after := ics(replace(meeting(), "SUMMARY", "SUMMARY:Budget")...)
	b.ReportAllocs()
	for b.Loop() {
		x, _ := calendar.Parse(before, calendar.ParseOptions{DefaultLocation: berlin})
		y, _ := calendar.Parse(after, calendar.ParseOptions{DefaultLocation: berlin})
		if len(Diff(x, y, Options{Location: berlin})) != 1 {
			b.Fatal(fmt.Sprint("no change"))
		}
	}
}
