package calendar

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func expandAll(obj *Object, from, to string) Expansion {
	return obj.Expand(utc(from), utc(to), ExpandOptions{})
}

func wantStarts(t *testing.T, x Expansion, want ...string) {
	t.Helper()
	if got := starts(x); !slices.Equal(got, want) {
		t.Errorf("starts\n got %v\nwant %v", got, want)
	}
}

// A daily 10:00 keeps its wall clock across both changes of daylight time,
// in Europe and in America.
func TestExpandDST(t *testing.T) {
	berlin := mustParse(t, ics("BEGIN:VEVENT", "UID:b", "DTSTART;TZID=Europe/Berlin:20240329T100000",
		"RRULE:FREQ=DAILY", "END:VEVENT"), nil)
	wantStarts(t, expandAll(berlin, "2024-03-30T00:00", "2024-04-02T00:00"),
		"2024-03-30T09:00", "2024-03-31T08:00", "2024-04-01T08:00")
	wantStarts(t, expandAll(berlin, "2024-10-26T00:00", "2024-10-29T00:00"),
		"2024-10-26T08:00", "2024-10-27T09:00", "2024-10-28T09:00")
	ny := mustParse(t, ics("BEGIN:VEVENT", "UID:n", "DTSTART;TZID=America/New_York:20240301T100000",
		"RRULE:FREQ=DAILY", "END:VEVENT"), nil)
	wantStarts(t, expandAll(ny, "2024-03-09T00:00", "2024-03-12T00:00"),
		"2024-03-09T15:00", "2024-03-10T14:00", "2024-03-11T14:00")
	wantStarts(t, expandAll(ny, "2024-11-02T00:00", "2024-11-05T00:00"),
		"2024-11-02T14:00", "2024-11-03T15:00", "2024-11-04T15:00")
}

// Instances at a wall time the change of daylight time skips or repeats
// read as RFC 5545 says (rrule-go alone, through time.Date, would not).
func TestExpandGapAndOverlap(t *testing.T) {
	for _, tc := range []struct{ tzid, dtstart, from, to, want string }{
		{"Europe/Berlin", "20240330T023000", "2024-03-31T00:00", "2024-04-01T00:00", "2024-03-31T01:30"},
		{"Europe/Berlin", "20241026T023000", "2024-10-27T00:00", "2024-10-28T00:00", "2024-10-27T00:30"},
		{"America/New_York", "20240309T023000", "2024-03-10T00:00", "2024-03-11T00:00", "2024-03-10T07:30"},
		{"America/New_York", "20241102T013000", "2024-11-03T00:00", "2024-11-04T00:00", "2024-11-03T05:30"},
	} {
		obj := mustParse(t, ics("BEGIN:VEVENT", "UID:g", "DTSTART;TZID="+tc.tzid+":"+tc.dtstart,
			"RRULE:FREQ=DAILY", "END:VEVENT"), nil)
		wantStarts(t, expandAll(obj, tc.from, tc.to), tc.want)
	}
}

// EXDATE and RDATE as comma-separated lists, several properties, DATE,
// DATE-TIME in UTC or with their own TZID, and RDATE periods.
func TestExpandExdateRdateLists(t *testing.T) {
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:l",
		"DTSTART;TZID=Europe/Berlin:20240401T100000", "DTEND;TZID=Europe/Berlin:20240401T110000",
		"RRULE:FREQ=DAILY;COUNT=10",
		"EXDATE;TZID=Europe/Berlin:20240402T100000,20240403T100000",
		"EXDATE:20240404T080000Z",
		"EXDATE;TZID=America/New_York:20240405T040000",
		"EXDATE;VALUE=DATE:20240406,20240407",
		"RDATE;TZID=Europe/Berlin:20240402T150000,20240420T100000",
		"RDATE:20240421T120000Z",
		"RDATE;VALUE=PERIOD:20240422T120000Z/20240422T150000Z,20240423T120000Z/PT30M",
		"END:VEVENT"), nil)
	x := expandAll(obj, "2024-03-01T00:00", "2024-05-01T00:00")
	wantStarts(t, x, "2024-04-01T08:00", "2024-04-02T13:00", "2024-04-08T08:00", "2024-04-09T08:00",
		"2024-04-10T08:00", "2024-04-20T08:00", "2024-04-21T12:00", "2024-04-22T12:00", "2024-04-23T12:00")
	ends := map[string]string{}
	for _, o := range x.Occurrences {
		ends[o.Start.UTC().Format("01-02T15:04")] = o.End.UTC().Format("15:04")
	}
	if ends["04-01T08:00"] != "09:00" || ends["04-22T12:00"] != "15:00" || ends["04-23T12:00"] != "12:30" {
		t.Errorf("ends %v", ends)
	}
}

// An all-day series: DATE instances at midnight in the default location,
// DATE EXDATEs, UNTIL as a date.
func TestExpandAllDay(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	data := ics("BEGIN:VEVENT", "UID:a", "DTSTART;VALUE=DATE:20240310", "RRULE:FREQ=DAILY;UNTIL=20240314",
		"EXDATE;VALUE=DATE:20240312", "END:VEVENT")
	x := expandAll(mustParse(t, data, ny), "2024-03-01T00:00", "2024-04-01T00:00")
	wantStarts(t, x, "2024-03-10T05:00", "2024-03-11T04:00", "2024-03-13T04:00", "2024-03-14T04:00")
	if o := x.Occurrences[0]; !o.Start.Date || !o.End.Date || o.End.Sub(o.Start.Time) != 23*time.Hour || o.RecurrenceID.ID() != "20240310" {
		t.Errorf("first: %v to %v, id %s", o.Start.Time, o.End.Time, o.RecurrenceID.ID())
	}
	obj := mustParse(t, data, nil)
	if !hasWarning(obj.Warnings, WarnNoDefaultZone) {
		t.Errorf("no default location: warnings %v", obj.Warnings)
	}
	wantStarts(t, expandAll(obj, "2024-03-01T00:00", "2024-04-01T00:00"),
		"2024-03-10T00:00", "2024-03-11T00:00", "2024-03-13T00:00", "2024-03-14T00:00")
}

// A floating series recurs on the wall clock of the default location.
func TestExpandFloating(t *testing.T) {
	data := ics("BEGIN:VEVENT", "UID:f", "DTSTART:20240309T090000", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT")
	wantStarts(t, expandAll(mustParse(t, data, mustLoad(t, "America/New_York")), "2024-03-01T00:00", "2024-04-01T00:00"),
		"2024-03-09T14:00", "2024-03-10T13:00", "2024-03-11T13:00")
	obj := mustParse(t, data, nil)
	if !hasWarning(obj.Warnings, WarnNoDefaultZone) {
		t.Errorf("warnings %v", obj.Warnings)
	}
	wantStarts(t, expandAll(obj, "2024-03-01T00:00", "2024-04-01T00:00"),
		"2024-03-09T09:00", "2024-03-10T09:00", "2024-03-11T09:00")
}

// UNTIL: a UTC instant (inclusive), a date on a timed series (the whole
// day), a local time.
func TestExpandUntil(t *testing.T) {
	for until, want := range map[string]int{
		"20240403T080000Z": 3, "20240403T075959Z": 2, "20240403": 3, "20240403T100000": 3, "20240403T095959": 2,
	} {
		obj := mustParse(t, ics("BEGIN:VEVENT", "UID:u", "DTSTART;TZID=Europe/Berlin:20240401T100000",
			"RRULE:FREQ=DAILY;UNTIL="+until, "END:VEVENT"), nil)
		if got := len(expandAll(obj, "2024-01-01T00:00", "2025-01-01T00:00").Occurrences); got != want {
			t.Errorf("UNTIL=%s: %d instances, want %d", until, got, want)
		}
	}
}

// Overrides replace their instance wherever they move it; one moved into
// the window from outside is in, one moved out is out; an EXDATE removes
// an override; overrides without a master stand alone.
func TestExpandOverrides(t *testing.T) {
	obj := mustParse(t, ics(
		"BEGIN:VEVENT", "UID:o", "DTSTART:20240101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=10",
		"EXDATE:20240108T100000Z", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240102T100000Z", "DTSTART:20240105T150000Z", "DTEND:20240105T153000Z", "SUMMARY:moved in", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240104T100000Z", "DTSTART:20240120T100000Z", "SUMMARY:moved out", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240106T100000Z", "SUMMARY:no DTSTART", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240108T100000Z", "DTSTART:20240108T110000Z", "SUMMARY:excluded", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID;RANGE=THISANDFUTURE:20240109T100000Z", "DTSTART:20240109T120000Z", "SUMMARY:future", "END:VEVENT",
	), nil)
	if !hasWarning(obj.Warnings, WarnThisAndFuture) {
		t.Errorf("warnings %v", obj.Warnings)
	}
	x := expandAll(obj, "2024-01-03T00:00", "2024-01-10T00:00")
	wantStarts(t, x, "2024-01-03T10:00", "2024-01-05T10:00", "2024-01-05T15:00", "2024-01-06T10:00",
		"2024-01-07T10:00", "2024-01-09T12:00")
	o := x.Occurrences[2]
	if o.Component.Summary != "moved in" || o.RecurrenceID.ID() != "20240102T100000Z" || o.End.UTC().Format("15:04") != "15:30" {
		t.Errorf("moved in: %+v", o)
	}
	if o := x.Occurrences[3]; o.Component.Summary != "no DTSTART" || o.End.UTC().Format("15:04") != "11:00" {
		t.Errorf("no DTSTART: %s ends %v", o.Component.Summary, o.End.Time)
	}
	// A RECURRENCE-ID written as a date names the timed instance that day.
	dated := mustParse(t, ics("BEGIN:VEVENT", "UID:q", "DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT",
		"BEGIN:VEVENT", "UID:q", "RECURRENCE-ID;VALUE=DATE:20240102", "DTSTART:20240102T160000Z", "END:VEVENT"), nil)
	wantStarts(t, expandAll(dated, "2024-01-01T00:00", "2024-02-01T00:00"), "2024-01-01T10:00", "2024-01-02T16:00", "2024-01-03T10:00")
	orphans := mustParse(t, ics(
		"BEGIN:VEVENT", "UID:p", "RECURRENCE-ID:20240102T100000Z", "DTSTART:20240102T100000Z", "END:VEVENT",
		"BEGIN:VEVENT", "UID:p", "RECURRENCE-ID:20240109T100000Z", "DTSTART:20240109T100000Z", "END:VEVENT"), nil)
	wantStarts(t, expandAll(orphans, "2024-01-01T00:00", "2024-02-01T00:00"), "2024-01-02T10:00", "2024-01-09T10:00")
}

// A recurring task with DUE and no DTSTART recurs on its DUE.
func TestExpandTaskOnDue(t *testing.T) {
	obj := mustParse(t, ics("BEGIN:VTODO", "UID:t", "DUE;TZID=Europe/Berlin:20241028T170000",
		"RRULE:FREQ=WEEKLY;COUNT=3", "END:VTODO"), nil)
	x := expandAll(obj, "2024-10-01T00:00", "2024-12-01T00:00")
	wantStarts(t, x, "2024-10-28T16:00", "2024-11-04T16:00", "2024-11-11T16:00")
	if o := x.Occurrences[1]; !o.Start.IsZero() || o.RecurrenceID.ID() != "20241104T160000Z" {
		t.Errorf("task instance %+v", o)
	}
}

// Starting far from DTSTART (fast-forwarded) gives exactly the instances
// of a walk from DTSTART, for rules whose periods, BYSETPOS or COUNT could
// go wrong, in any window.
func TestExpandFastForwardAgrees(t *testing.T) {
	rules := []string{
		"FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
		"FREQ=WEEKLY;BYDAY=TU,TH;BYSETPOS=-1", "FREQ=WEEKLY;BYDAY=MO,SA;BYSETPOS=2", "FREQ=WEEKLY;INTERVAL=3", "FREQ=HOURLY;INTERVAL=5;BYHOUR=1,6,11,16,21",
		"FREQ=MINUTELY;INTERVAL=97", "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30;BYSETPOS=2,-1",
		"FREQ=DAILY;BYMONTH=2,3", "FREQ=SECONDLY;INTERVAL=7919",
		"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;INTERVAL=5", "FREQ=MONTHLY;BYMONTHDAY=31,-3",
		"FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=3;BYMONTH=3;BYDAY=2SU,-1SA;BYSETPOS=1", "FREQ=YEARLY;BYWEEKNO=10;BYDAY=SU",
		// COUNT rules with one instance per period skip counted periods.
		// (DTSTART is a Thursday; the counts end around the windows.)
		"FREQ=DAILY;COUNT=1103", "FREQ=WEEKLY;BYDAY=TH;COUNT=158", "FREQ=MONTHLY;COUNT=37", "FREQ=HOURLY;INTERVAL=7;COUNT=3780",
		"FREQ=YEARLY;COUNT=4", "FREQ=WEEKLY;BYDAY=FR;COUNT=300",
		"FREQ=WEEKLY;BYDAY=WE;COUNT=156",
		"FREQ=DAILY;BYHOUR=1,13;COUNT=2205", "FREQ=DAILY;BYDAY=SA;COUNT=158", // not one instance per period
		// Day 31 of every month, Feb 29 of every leap year: no moving by months.
		"31:FREQ=MONTHLY", "31:FREQ=MONTHLY;COUNT=22", "29:FREQ=YEARLY", "29:FREQ=YEARLY;COUNT=3",
	}
	for _, r := range rules {
		dtstart := "20210304T013000"
		switch {
		case strings.HasPrefix(r, "31:"):
			r, dtstart = r[3:], "20210131T013000"
		case strings.HasPrefix(r, "29:"):
			r, dtstart = r[3:], "20160229T013000"
		}
		obj := mustParse(t, ics("BEGIN:VEVENT", "UID:ff", "DTSTART;TZID=America/New_York:"+dtstart,
			"RRULE:"+r, "END:VEVENT"), nil)
		full := obj.Expand(utc("2016-01-01T00:00"), utc("2024-03-20T00:00"), ExpandOptions{MaxIterations: 1 << 30})
		if full.Truncated {
			t.Fatalf("%s: full expansion truncated", r)
		}
		for _, w := range [][2]string{{"2024-03-09T00:00", "2024-03-12T00:00"}, {"2024-03-10T06:30", "2024-03-10T07:30"},
			{"2023-11-04T20:00", "2023-11-07T00:00"}, {"2024-02-28T00:00", "2024-03-02T00:00"},
			{"2024-03-08T12:00", "2024-03-10T00:00"}, // from a Friday: the week's first days are before it
			{"2024-01-30T00:00", "2024-02-01T00:00"}, {"2024-02-28T12:00", "2024-03-01T12:00"}} {
			from, to := utc(w[0]), utc(w[1])
			var want []string
			for _, o := range full.Occurrences {
				if !o.At().Before(from) && o.At().Before(to) {
					want = append(want, o.At().UTC().Format("2006-01-02T15:04"))
				}
			}
			got := obj.Expand(from, to, ExpandOptions{})
			if !slices.Equal(starts(got), want) {
				t.Errorf("%s in %v:\n got %v\nwant %v", r, w, starts(got), want)
			}
			if got.Iterations >= full.Iterations/2 && full.Iterations > 1000 && !strings.Contains(r, "COUNT") {
				t.Errorf("%s in %v: %d iterations, no faster than %d from DTSTART", r, w, got.Iterations, full.Iterations)
			}
		}
	}
}

// A daily rule running for decades costs a handful of iterations in a
// 48-hour window.
func TestExpandFastForwardBoundsWork(t *testing.T) {
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:d", "DTSTART;TZID=Europe/Berlin:19900101T090000",
		"RRULE:FREQ=DAILY", "END:VEVENT"), nil)
	x := obj.Expand(utc("2024-06-01T00:00"), utc("2024-06-03T00:00"), ExpandOptions{})
	wantStarts(t, x, "2024-06-01T07:00", "2024-06-02T07:00")
	if x.Iterations > 10 {
		t.Errorf("%d iterations for 2 instances", x.Iterations)
	}
}

// Huge or infinite rules stop at the iteration cap and say so.
func TestExpandIterationCap(t *testing.T) {
	for _, r := range []string{"FREQ=SECONDLY", "FREQ=DAILY;COUNT=100000;BYHOUR=9,21", "FREQ=MINUTELY;BYSECOND=0,10,20,30,40,50"} {
		obj := mustParse(t, ics("BEGIN:VEVENT", "UID:c", "DTSTART:20000101T000000Z", "RRULE:"+r, "END:VEVENT"), nil)
		x := obj.Expand(utc("2024-01-01T00:00"), utc("2025-01-01T00:00"), ExpandOptions{MaxIterations: 500})
		if x.Iterations != 500 || !x.Truncated || !hasWarning(x.Warnings, WarnTruncated) {
			t.Errorf("%s: %d iterations, truncated %v, warnings %v", r, x.Iterations, x.Truncated, x.Warnings)
		}
	}
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:c", "DTSTART:20000101T000000Z", "RRULE:FREQ=SECONDLY", "END:VEVENT"), nil)
	if x := obj.Expand(utc("2024-01-01T00:00"), utc("2025-01-01T00:00"), ExpandOptions{}); x.Iterations != DefaultMaxIterations {
		t.Errorf("default cap: %d iterations", x.Iterations)
	}
}

// Rules that can never match again yield DTSTART only, and return: some
// would make rrule-go loop forever (TestRRuleGoHangs), others search until
// the year 9999.
func TestExpandNeverMatching(t *testing.T) {
	for _, r := range []string{
		"FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"FREQ=MINUTELY;INTERVAL=60;BYMINUTE=30",
		"FREQ=SECONDLY;INTERVAL=60;BYSECOND=5",
		"FREQ=SECONDLY;BYSETPOS=2",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=MINUTELY;BYMONTH=4,6;BYMONTHDAY=31",
		"FREQ=DAILY;BYYEARDAY=366;BYMONTH=1",
		"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
		"FREQ=DAILY;COUNT=0",
	} {
		obj := mustParse(t, ics("BEGIN:VEVENT", "UID:n", "DTSTART:20240101T030000Z", "RRULE:"+r, "END:VEVENT"), nil)
		x := obj.Expand(utc("2023-01-01T00:00"), utc("2025-01-01T00:00"), ExpandOptions{})
		if got := starts(x); !slices.Equal(got, []string{"2024-01-01T03:00"}) || x.Truncated {
			t.Errorf("%s: %v, truncated %v", r, got, x.Truncated)
		}
	}
}

// MinInterval keeps one instance per slot of a too-frequent rule, and the
// choice does not depend on the window.
func TestExpandThinning(t *testing.T) {
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:m", "DTSTART:20240101T000000Z", "RRULE:FREQ=MINUTELY;INTERVAL=2", "END:VEVENT"), nil)
	opts := ExpandOptions{MinInterval: 5 * time.Minute}
	x := obj.Expand(utc("2024-03-01T10:00"), utc("2024-03-01T10:30"), opts)
	wantStarts(t, x, "2024-03-01T10:00", "2024-03-01T10:06", "2024-03-01T10:10", "2024-03-01T10:16", "2024-03-01T10:20", "2024-03-01T10:26")
	if x.Thinned != 9 {
		t.Errorf("thinned %d", x.Thinned)
	}
	y := obj.Expand(utc("2024-03-01T10:05"), utc("2024-03-01T10:25"), opts)
	wantStarts(t, y, "2024-03-01T10:06", "2024-03-01T10:10", "2024-03-01T10:16", "2024-03-01T10:20")
	hourly := mustParse(t, ics("BEGIN:VEVENT", "UID:h", "DTSTART:20240101T000000Z", "RRULE:FREQ=HOURLY;BYMINUTE=0,1,2", "END:VEVENT"), nil)
	wantStarts(t, hourly.Expand(utc("2024-03-01T10:00"), utc("2024-03-01T12:00"), opts), "2024-03-01T10:00", "2024-03-01T11:00")
}

// rrule-go's laxities and limits are handled before it sees the rule.
func TestParseRule(t *testing.T) {
	for _, r := range []string{"freq=weekly;byday=mo", "FREQ=DAILY;", "FREQ=DAILY;X-NAME=1", "RRULE:FREQ=DAILY",
		"FREQ=DAILY;RSCALE=GREGORIAN;SKIP=OMIT", "FREQ=DAILY;UNTIL=20240101T000000Z"} {
		if _, err := parseRule(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
	for _, r := range []string{"", "FREQ=FORTNIGHTLY", "FREQ=DAILY;RSCALE=HEBREW", "FREQ=YEARLY;BYEASTER=1000",
		"FREQ=DAILY;INTERVAL=0", "FREQ=DAILY;INTERVAL=2000000", "FREQ=DAILY;COUNT=-1", "FREQ=DAILY;UNTIL=tomorrow",
		"FREQ=DAILY;BYHOUR=24", "FREQ=DAILY;BYDAY=+60MO", "BYDAY=MO", "FREQ=DAILY;FOO", "FREQ=DAILY;DTSTART=20240101",
		"FREQ=YEARLY;BYHOUR=" + intList(24) + ";BYMINUTE=" + intList(60)} {
		if _, err := parseRule(r); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}

func intList(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	return strings.Join(s, ",")
}

func TestOccurrenceAt(t *testing.T) {
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:o", "DTSTART;TZID=Europe/Berlin:20240101T100000", "DURATION:PT1H",
		"RRULE:FREQ=DAILY", "EXDATE;TZID=Europe/Berlin:20240103T100000", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID;TZID=Europe/Berlin:20240102T100000", "DTSTART;TZID=Europe/Berlin:20240102T120000", "END:VEVENT"), nil)
	if o, ok := obj.OccurrenceAt(utc("2024-01-02T09:00")); !ok || o.Component != obj.Overrides[0] {
		t.Errorf("override: %+v %v", o, ok)
	}
	if o, ok := obj.OccurrenceAt(utc("2024-01-04T09:00")); !ok || o.Component != obj.Master || o.End.UTC().Format("15:04") != "10:00" {
		t.Errorf("master instance: %+v %v", o, ok)
	}
	if _, ok := obj.OccurrenceAt(utc("2024-01-03T09:00")); ok {
		t.Error("excluded instance found")
	}
	allDay := mustParse(t, ics("BEGIN:VEVENT", "UID:a", "DTSTART;VALUE=DATE:20240101", "RRULE:FREQ=DAILY", "END:VEVENT"), mustLoad(t, "Asia/Tokyo"))
	o, ok := allDay.OccurrenceAt(utc("2024-01-05T00:00")) // Thunderbird names date instances by their UTC wall clock
	if !ok || o.RecurrenceID.ID() != "20240105" || !reflect.DeepEqual(o.Start, o.RecurrenceID) {
		t.Errorf("all-day: %+v %v", o, ok)
	}
}
