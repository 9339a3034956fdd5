package change

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/notifyd/notifyd/calendar"
)

// FuzzDiff feeds Diff any two objects that parse: it never panics, a
// version compared with itself (parsed again) changes nothing, a change
// is seen both ways, and what it returns is bounded and well formed.
func FuzzDiff(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.ics")
	var seeds [][]byte
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			seeds = append(seeds, b)
		}
	}
	seeds = append(seeds,
		ics(meeting()...), ics(join(weeklyMaster(), moved19)...), ics(moved19...),
		ics(task("DUE;VALUE=DATE:20260515", "STATUS:COMPLETED")...),
		ics(weeklyMaster("EXDATE;VALUE=DATE:20260519", "RDATE;VALUE=PERIOD:20260601T090000Z/PT2H")...),
		ics(event("DTSTART:20260512T100000", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101")...))
	for i, a := range seeds {
		f.Add(a, seeds[(i+1)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, before, after []byte) {
		opts := Options{Location: berlin, MaxInstances: 5}
		parse := func(data []byte) *calendar.Object {
			obj, err := calendar.Parse(data, calendar.ParseOptions{DefaultLocation: berlin})
			if err != nil {
				return nil
			}
			return obj
		}
		b, a := parse(before), parse(after)
		if b != nil {
			if got := Diff(b, parse(before), opts); got != nil {
				t.Fatalf("a version against itself: %q", describe(got))
			}
		}
		forward, backward := Diff(b, a, opts), Diff(a, b, opts)
		if (len(forward) == 0) != (len(backward) == 0) {
			t.Fatalf("seen one way only: %q, back %q", describe(forward), describe(backward))
		}
		if len(forward) > max(opts.MaxInstances, 2) {
			t.Fatalf("%d updates", len(forward))
		}
		for _, u := range forward {
			if u.Component != "event" && u.Component != "todo" ||
				u.Action != Created && u.Action != Modified && u.Action != Deleted {
				t.Fatalf("bad update %+v", u)
			}
			if u.Action == Modified && u.RecurrenceID != "" && len(u.Fields) == 0 {
				t.Fatalf("an instance modified without fields: %+v", u)
			}
			for _, fc := range u.Fields {
				for _, s := range []string{fc.From, fc.To} {
					if utf8.RuneCountInString(s) > MaxText+1 || !utf8.ValidString(s) {
						t.Fatalf("text not capped or invalid: %q", s)
					}
				}
				if (fc.From == fc.To && fc.FromTime.Equal(fc.ToTime)) || strings.TrimSpace(fc.Field) == "" {
					t.Fatalf("a change of nothing: %+v", fc)
				}
			}
			_ = Event(a, u, opts)
		}
	})
}

// A self-diff of a big hostile object: thousands of overrides and
// exclusions, very long texts. Diff's work stays linear.
func TestDiffHostile(t *testing.T) {
	lines := weeklyMaster("DESCRIPTION:" + strings.Repeat("long ", 200000))
	var ex []string
	for i := range 1500 {
		ex = append(ex, parseDay("2026-05-12").AddDate(0, 0, 7*i).Format("20060102")+"T080000Z")
	}
	lines = replace(lines, "RRULE", "RRULE:FREQ=WEEKLY")
	lines = append(lines[:len(lines)-1], "EXDATE:"+strings.Join(ex[1:], ","), "END:VEVENT")
	for i := range 1500 {
		day := parseDay("2026-05-12").AddDate(0, 0, 7*i+3).Format("20060102")
		lines = join(lines, event("RECURRENCE-ID:"+day+"T080000Z", "SUMMARY:"+strings.Repeat("x", 300), "DTSTART:"+day+"T090000Z"))
	}
	b, a := parse(t, lines, berlin), parse(t, lines, berlin)
	if got := Diff(b, a, Options{Location: berlin}); got != nil {
		t.Fatalf("self-diff: %d updates", len(got))
	}
	long := replace(lines, "DESCRIPTION", "DESCRIPTION:"+strings.Repeat("other ", 200000))
	got := Diff(b, parse(t, long, berlin), Options{Location: berlin})
	if len(got) != 1 || len(got[0].Fields) != 1 || utf8.RuneCountInString(got[0].Fields[0].To) != MaxText+1 {
		t.Fatalf("description change: %+v", describe(got))
	}
}
