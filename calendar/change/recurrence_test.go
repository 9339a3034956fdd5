package change

import (
	"testing"
)

// Recurrence changes: the rule in words when simple, else the rule;
// dates excluded or added, when the rule stays.
func TestDiffRecurrence(t *testing.T) {
	series := func(props ...string) []string {
		return event(append([]string{"SUMMARY:Jour fixe", "DTSTART;TZID=Europe/Berlin:20260512T100000", "DURATION:PT1H"}, props...)...)
	}
	rule := func(r string) []string { return series("RRULE:" + r) }
	runCases(t, []diffCase{
		{"made weekly", series(), rule("FREQ=WEEKLY"), []string{`event modified: recurrence ""→"weekly on Tuesday"`}},
		{"no longer recurring", rule("FREQ=WEEKLY"), series(), []string{`event modified: recurrence "weekly on Tuesday"→""`}},
		{"every other week, two days", rule("FREQ=WEEKLY;BYDAY=TU"), rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,MO"),
			[]string{`event modified: recurrence "weekly on Tuesday"→"every 2 weeks on Monday and Thursday"`}},
		{"daily on weekdays, ten times", rule("FREQ=DAILY"), rule("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"),
			[]string{`event modified: recurrence "daily"→"daily on weekdays, 10 times"`}},
		{"ends", rule("FREQ=WEEKLY"), rule("FREQ=WEEKLY;UNTIL=20260730T235959Z"),
			[]string{`event modified: recurrence "weekly on Tuesday"→"weekly on Tuesday, until Fri 31 Jul 2026"`}},
		{"monthly, by day", rule("FREQ=MONTHLY"), rule("FREQ=MONTHLY;BYDAY=-1FR"),
			[]string{`event modified: recurrence "monthly on day 12"→"monthly on the last Friday"`}},
		{"monthly, two days", rule("FREQ=MONTHLY;BYMONTHDAY=1"), rule("FREQ=MONTHLY;BYMONTHDAY=15,1;INTERVAL=3"),
			[]string{`event modified: recurrence "monthly on day 1"→"every 3 months on days 1 and 15"`}},
		{"yearly", series(), rule("FREQ=YEARLY"), []string{`event modified: recurrence ""→"yearly on 12 May"`}},
		{"yearly on the second Sunday of May", series(), rule("FREQ=YEARLY;BYMONTH=5;BYDAY=2SU"),
			[]string{`event modified: recurrence ""→"yearly on the second Sunday of May"`}},
		{"not simple: the rule", rule("FREQ=WEEKLY"), rule("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2,-1"),
			[]string{`event modified: recurrence "weekly on Tuesday"→"FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1,2"`}},
		{"written otherwise, the same rule", rule("FREQ=WEEKLY;BYDAY=MO,TU;INTERVAL=1;WKST=MO"),
			rule("byday=TU,MO;freq=weekly"), nil},
		{"an instance excluded", rule("FREQ=WEEKLY"), series("RRULE:FREQ=WEEKLY", "EXDATE;TZID=Europe/Berlin:20260519T100000"),
			[]string{`event modified: recurrence ""→"not on Tue 19 May 2026"`}},
		{"exclusions removed and added", series("RRULE:FREQ=WEEKLY", "EXDATE:20260519T080000Z,20260526T080000Z"),
			series("RRULE:FREQ=WEEKLY", "EXDATE:20260602T080000Z,20260609T080000Z,20260616T080000Z,20260623T080000Z,20260526T080000Z"),
			[]string{`event modified: recurrence ""→"not on Tue 2 Jun 2026, Tue 9 Jun 2026, Tue 16 Jun 2026 and 1 more"; ` +
				`recurrence "not on Tue 19 May 2026"→""`}},
		{"a date added", rule("FREQ=WEEKLY"), series("RRULE:FREQ=WEEKLY", "RDATE;TZID=Europe/Berlin:20260521T150000"),
			[]string{`event modified: recurrence ""→"also on Thu 21 May 2026 15:00"`}},
		{"the rule changed: its exclusions are not listed", series("RRULE:FREQ=WEEKLY", "EXDATE:20260519T080000Z"),
			rule("FREQ=DAILY"), []string{`event modified: recurrence "weekly on Tuesday"→"daily"`}},
	}, Options{Location: berlin})
}
