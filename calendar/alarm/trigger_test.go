package alarm

import (
	"fmt"
	"testing"
)

// Relative triggers keep their place across both changes of daylight
// time, in Europe and America; day offsets keep the wall clock.
func TestTriggerDST(t *testing.T) {
	for _, tc := range []struct {
		name, tzid, dtstart, trigger, from, to string
		want                                   []string
	}{
		{"Berlin spring, -PT15M", "Europe/Berlin", "20240329T100000", "-PT15M", "2024-03-30T00:00", "2024-04-02T00:00",
			[]string{"2024-03-30T08:45 DISPLAY", "2024-03-31T07:45 DISPLAY", "2024-04-01T07:45 DISPLAY"}},
		{"Berlin autumn, -PT15M", "Europe/Berlin", "20241025T100000", "-PT15M", "2024-10-26T00:00", "2024-10-29T00:00",
			[]string{"2024-10-26T07:45 DISPLAY", "2024-10-27T08:45 DISPLAY", "2024-10-28T08:45 DISPLAY"}},
		{"New York spring, -PT15M", "America/New_York", "20240308T090000", "-PT15M", "2024-03-09T00:00", "2024-03-12T00:00",
			[]string{"2024-03-09T13:45 DISPLAY", "2024-03-10T12:45 DISPLAY", "2024-03-11T12:45 DISPLAY"}},
		{"New York autumn, -PT15M", "America/New_York", "20241101T090000", "-PT15M", "2024-11-02T00:00", "2024-11-05T00:00",
			[]string{"2024-11-02T12:45 DISPLAY", "2024-11-03T13:45 DISPLAY", "2024-11-04T13:45 DISPLAY"}},
		// A day before 09:00 is 09:00 the day before, on either side of the
		// change: never 08:00 or 10:00 as 24 hours would give.
		{"Berlin -P1D over spring", "Europe/Berlin", "20240330T090000", "-P1D", "2024-03-29T00:00", "2024-04-01T00:00",
			[]string{"2024-03-29T08:00 DISPLAY", "2024-03-30T08:00 DISPLAY", "2024-03-31T07:00 DISPLAY"}},
		{"New York -P1D over autumn", "America/New_York", "20241102T090000", "-P1D", "2024-11-01T00:00", "2024-11-04T00:00",
			[]string{"2024-11-01T13:00 DISPLAY", "2024-11-02T13:00 DISPLAY", "2024-11-03T14:00 DISPLAY"}},
		{"New York -P1W", "America/New_York", "20241103T090000", "-P1W", "2024-10-27T00:00", "2024-10-28T00:00",
			[]string{"2024-10-27T13:00 DISPLAY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := compute(t, event("DTSTART;TZID="+tc.tzid+":"+tc.dtstart, "RRULE:FREQ=DAILY",
				"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:"+tc.trigger, "END:VALARM"), nil, tc.from, tc.to)
			wantRings(t, r, tc.want...)
		})
	}
}

// RELATED=END: DTEND (its own zone), DTSTART+DURATION (nominal), the day
// after an all-day DTSTART, the start of an event with no end.
func TestTriggerRelatedEnd(t *testing.T) {
	alarm := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT5M", "END:VALARM"}
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"DTEND", []string{"DTSTART;TZID=Europe/Berlin:20240701T090000", "DTEND;TZID=America/New_York:20240701T040000"}, "2024-07-01T07:55 DISPLAY"},
		{"DURATION", []string{"DTSTART;TZID=Europe/Berlin:20240330T120000", "DURATION:P1DT1H"}, "2024-03-31T10:55 DISPLAY"},
		{"all-day", []string{"DTSTART;VALUE=DATE:20240701"}, "2024-07-01T21:55 DISPLAY"},
		{"all-day DTEND", []string{"DTSTART;VALUE=DATE:20240701", "DTEND;VALUE=DATE:20240703"}, "2024-07-02T21:55 DISPLAY"},
		{"no end", []string{"DTSTART:20240701T090000Z"}, "2024-07-01T08:55 DISPLAY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := compute(t, event(append(tc.lines, alarm...)...), loc(t, "Europe/Berlin"), "2024-03-01T00:00", "2024-08-01T00:00")
			wantRings(t, r, tc.want)
		})
	}
}

// Tasks: RELATED=END is the DUE; a START trigger needs DTSTART, and on a
// task with only DUE is read relative to the DUE (with a warning); without
// DUE or DURATION an END trigger cannot ring (with a warning).
func TestTriggerTasks(t *testing.T) {
	task := func(lines ...string) []byte {
		return ics(append(append([]string{"BEGIN:VTODO", "UID:t"}, lines...), "END:VTODO")...)
	}
	end := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT10M", "END:VALARM"}
	start := []string{"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H", "END:VALARM"}
	r := compute(t, task(append(append([]string{"DTSTART:20240701T080000Z", "DUE:20240701T170000Z"}, end...), start...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r, "2024-07-01T07:00 DISPLAY", "2024-07-01T16:50 DISPLAY")
	r = compute(t, task(append([]string{"DTSTART:20240701T080000Z", "DURATION:PT2H"}, end...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r, "2024-07-01T09:50 DISPLAY")
	r = compute(t, task(append(append([]string{"DUE:20240701T170000Z"}, end...), start...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r, "2024-07-01T16:00 DISPLAY", "2024-07-01T16:50 DISPLAY")
	if !hasWarning(r, WarnStartOnDue) {
		t.Errorf("due only: warnings %v", r.Warnings)
	}
	r = compute(t, task(append([]string{"DTSTART:20240701T080000Z"}, end...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r)
	if !hasWarning(r, WarnNoEnd) {
		t.Errorf("start only: warnings %v", r.Warnings)
	}
	r = compute(t, task(append([]string{"SUMMARY:no dates"}, start...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r)
	// A recurring task with DUE only recurs on its DUE.
	r = compute(t, task(append([]string{"DUE;TZID=Europe/Berlin:20240701T170000", "RRULE:FREQ=WEEKLY;COUNT=3"}, end...)...), nil, "2024-07-01T00:00", "2024-08-01T00:00")
	wantRings(t, r, "2024-07-01T14:50 DISPLAY", "2024-07-08T14:50 DISPLAY", "2024-07-15T14:50 DISPLAY")
	if r.Instances[1].RecurrenceID != "20240708T150000Z" {
		t.Errorf("recurrence id %q", r.Instances[1].RecurrenceID)
	}
}

// An absolute trigger rings once, even on a recurring master, with no
// recurrence id; on an override it rings for that instance.
func TestTriggerAbsolute(t *testing.T) {
	data := ics("BEGIN:VEVENT", "UID:a", "DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY", "SUMMARY:daily",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;VALUE=DATE-TIME:20240703T120000Z", "END:VALARM", "END:VEVENT",
		"BEGIN:VEVENT", "UID:a", "RECURRENCE-ID:20240705T090000Z", "DTSTART:20240705T100000Z", "SUMMARY:moved",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;VALUE=DATE-TIME:20240705T080000Z", "END:VALARM", "END:VEVENT")
	r := compute(t, data, nil, "2024-06-01T00:00", "2024-09-01T00:00")
	wantRings(t, r, "2024-07-03T12:00 DISPLAY", "2024-07-05T08:00 DISPLAY")
	if a, o := r.Instances[0], r.Instances[1]; a.RecurrenceID != "" || !a.Start.Equal(utc("2024-07-04T09:00")) ||
		o.RecurrenceID != "20240705T090000Z" || o.Summary != "moved" {
		t.Errorf("absolute on master %+v\non override %+v", a, o)
	}
	// The same ring, computed over any window that holds it, has one key.
	r2 := compute(t, data, nil, "2024-07-03T00:00", "2024-07-04T00:00")
	if len(r2.Instances) != 1 || r2.Instances[0].Key != r.Instances[0].Key {
		t.Errorf("other window: %v", rings(r2))
	}
}

// REPEAT/DURATION: each repetition rings once, with its own key; a window
// cutting through them lists those inside.
func TestTriggerRepeat(t *testing.T) {
	data := event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M", "END:VALARM")
	r := compute(t, data, nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY", "2024-07-01T08:50 DISPLAY #1", "2024-07-01T08:55 DISPLAY #2")
	if k := keys(r); k[0] == k[1] || k[1] == k[2] {
		t.Errorf("keys %v", k)
	}
	long := compute(t, event("DTSTART:20240701T090000Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:P9999D", "REPEAT:100", "DURATION:P9999D", "END:VALARM"), nil, day, nextDay)
	wantRings(t, long) // far in the future, and no overflow on the way
	part := compute(t, data, nil, "2024-07-01T08:50", "2024-07-01T08:55")
	wantRings(t, part, "2024-07-01T08:50 DISPLAY #1")
	if part.Instances[0].Key != r.Instances[1].Key {
		t.Error("a repetition's key depends on the window")
	}
}

// An override rings its own alarms (none if it has none), where it moved
// the instance.
func TestTriggerOverrides(t *testing.T) {
	data := ics("BEGIN:VEVENT", "UID:o", "DTSTART:20240701T090000Z", "RRULE:FREQ=DAILY;COUNT=4",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240702T090000Z", "DTSTART:20240702T140000Z",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-PT1H", "END:VALARM", "END:VEVENT",
		"BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20240703T090000Z", "DTSTART:20240703T090000Z", "SUMMARY:no alarm", "END:VEVENT")
	r := compute(t, data, nil, "2024-06-01T00:00", "2024-08-01T00:00")
	wantRings(t, r, "2024-07-01T08:45 DISPLAY", "2024-07-02T13:00 EMAIL", "2024-07-04T08:45 DISPLAY")
	if r.Instances[1].RecurrenceID != "20240702T090000Z" {
		t.Errorf("moved override rid %q", r.Instances[1].RecurrenceID)
	}
}

// Floating times and all-day dates ring in the default location (the
// calendar's zone); without one, in UTC with a warning.
func TestTriggerFloatingAndAllDay(t *testing.T) {
	floating := event("DTSTART:20240701T090000", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM")
	allDay := event("DTSTART;VALUE=DATE:20240701", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15H", "END:VALARM")
	ny := loc(t, "America/New_York")
	wantRings(t, compute(t, floating, ny, "2024-06-01T00:00", "2024-08-01T00:00"), "2024-07-01T12:45 DISPLAY")
	wantRings(t, compute(t, allDay, ny, "2024-06-01T00:00", "2024-08-01T00:00"), "2024-06-30T13:00 DISPLAY")
	for _, data := range [][]byte{floating, allDay} {
		r := compute(t, data, nil, "2024-06-01T00:00", "2024-08-01T00:00")
		if len(r.Instances) != 1 || !hasWarning(r, "no-default-zone") {
			t.Errorf("no default location: %v, warnings %v", rings(r), r.Warnings)
		}
	}
	wantRings(t, compute(t, floating, nil, "2024-06-01T00:00", "2024-08-01T00:00"), "2024-07-01T08:45 DISPLAY")
}

// Huge or infinite rules: bounded work, reported; a too-frequent rule gets
// one reminder per MinInterval.
func TestTriggerHugeRules(t *testing.T) {
	data := event("DTSTART:20000101T000000Z", "RRULE:FREQ=SECONDLY",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1M", "END:VALARM")
	r := compute(t, data, nil, "2024-07-01T00:00", "2024-07-03T00:00", func(o *Options) { o.MaxIterations = 1000 })
	if !r.Truncated || len(r.Instances) > 1000 || !hasWarning(r, "truncated") {
		t.Errorf("truncated %v, %d instances", r.Truncated, len(r.Instances))
	}
	minutely := event("DTSTART:20240101T000000Z", "RRULE:FREQ=MINUTELY",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:PT0S", "END:VALARM")
	r = compute(t, minutely, nil, "2024-07-01T10:00", "2024-07-01T10:20")
	wantRings(t, r, "2024-07-01T10:00 DISPLAY", "2024-07-01T10:05 DISPLAY", "2024-07-01T10:10 DISPLAY", "2024-07-01T10:15 DISPLAY")
	r = compute(t, minutely, nil, "2024-07-01T10:00", "2024-07-01T10:03", func(o *Options) { o.MinInterval = -1 })
	wantRings(t, r, "2024-07-01T10:00 DISPLAY", "2024-07-01T10:01 DISPLAY", "2024-07-01T10:02 DISPLAY")
	many := []string{"DTSTART:20240701T000000Z", "RRULE:FREQ=HOURLY"}
	for i := range 20 {
		many = append(many, "BEGIN:VALARM", "ACTION:DISPLAY", fmt.Sprintf("TRIGGER:-PT%dS", i+1), "REPEAT:100", "DURATION:PT1S", "END:VALARM")
	}
	r = compute(t, event(many...), nil, "2024-07-01T00:00", "2024-07-01T10:00") // 10 instances, 20 alarms, 101 rings each
	if !r.Truncated || len(r.Instances) != maxRings {
		t.Errorf("many rings: truncated %v, %d instances", r.Truncated, len(r.Instances))
	}
}

// Only DISPLAY, EMAIL and AUDIO ring; NONE, other actions and
// location-based alarms are left out.
func TestTriggerActions(t *testing.T) {
	var lines []string
	for i, a := range []string{"ACTION:DISPLAY", "ACTION:EMAIL", "ACTION:AUDIO", "ACTION:NONE", "ACTION:PROCEDURE", "ACTION:X-SMS", "",
		"ACTION:DISPLAY\r\nPROXIMITY:ARRIVE"} {
		lines = append(lines, "BEGIN:VALARM", a, fmt.Sprintf("TRIGGER:-PT%dM", i+1), "END:VALARM")
	}
	r := compute(t, event(append([]string{"DTSTART:20240701T090000Z"}, lines...)...), nil, "2024-07-01T00:00", "2024-07-02T00:00")
	wantRings(t, r, "2024-07-01T08:57 AUDIO", "2024-07-01T08:58 EMAIL", "2024-07-01T08:59 DISPLAY")
}

// An all-day instance carries its dates as midnight UTC of those dates,
// whatever the zone it was read in: 24 December in Paris is 24 December,
// not 23 December 23:00 UTC.
func TestAllDayInstanceDates(t *testing.T) {
	r := compute(t, event("UID:fair", "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261225", "SUMMARY:Christmas fair",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15H", "END:VALARM"), loc(t, "Europe/Paris"), "2026-12-01T00:00", "2026-12-31T00:00")
	if len(r.Instances) != 1 {
		t.Fatalf("rings %v", rings(r))
	}
	in := r.Instances[0]
	if !in.AllDay || !in.Start.Equal(utc("2026-12-24T00:00")) || !in.End.Equal(utc("2026-12-25T00:00")) {
		t.Errorf("all-day instance: all-day %v, %v to %v; want 24 December to 25 December, midnight UTC", in.AllDay, in.Start, in.End)
	}
	// The trigger is still in Paris: 15 hours before midnight there.
	if want := utc("2026-12-23T08:00"); !in.Trigger.Equal(want) {
		t.Errorf("trigger %v, want %v", in.Trigger, want)
	}
}
