package change

import (
	"fmt"
	"slices"
	"testing"
)

// weeklyMaster is a weekly meeting on Tuesdays, 10:00 in Berlin, from
// 12 May 2026.
func weeklyMaster(props ...string) []string {
	return event(append([]string{"SUMMARY:Jour fixe", "DTSTART;TZID=Europe/Berlin:20260512T100000",
		"DTEND;TZID=Europe/Berlin:20260512T110000", "RRULE:FREQ=WEEKLY"}, props...)...)
}

// instance is an override of the 19 May instance.
func instance(props ...string) []string {
	return event(append([]string{"RECURRENCE-ID;TZID=Europe/Berlin:20260519T100000"}, props...)...)
}

// moved19 moves the 19 May instance to 14:00.
var moved19 = instance("SUMMARY:Jour fixe", "DTSTART;TZID=Europe/Berlin:20260519T140000", "DTEND;TZID=Europe/Berlin:20260519T150000")

// Overridden instances are their own Updates when the master stays; a
// master change is one Update for the series.
func TestDiffInstances(t *testing.T) {
	same19 := instance("SUMMARY:Jour fixe", "DTSTART;TZID=Europe/Berlin:20260519T100000", "DTEND;TZID=Europe/Berlin:20260519T110000")
	const rid = "20260519T080000Z"
	runCases(t, []diffCase{
		{"one instance moved", weeklyMaster(), join(weeklyMaster(), moved19),
			[]string{"event modified [" + rid + "]: start 2026-05-19T08:00Z→2026-05-19T12:00Z; end 2026-05-19T09:00Z→2026-05-19T13:00Z"}},
		{"moved back", join(weeklyMaster(), moved19), weeklyMaster(),
			[]string{"event modified [" + rid + "]: start 2026-05-19T12:00Z→2026-05-19T08:00Z; end 2026-05-19T13:00Z→2026-05-19T09:00Z"}},
		{"an override that only adds an alarm and a reply is no change", weeklyMaster(),
			join(weeklyMaster(), same19[:len(same19)-1], []string{"ATTENDEE;PARTSTAT=ACCEPTED:mailto:w@example.org",
				"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "END:VALARM", "END:VEVENT"}), nil},
		{"an override's title", join(weeklyMaster(), moved19), join(weeklyMaster(), replace(moved19, "SUMMARY", "SUMMARY:Jour fixe (moved)")),
			[]string{"event modified [" + rid + `]: summary "Jour fixe"→"Jour fixe (moved)"`}},
		{"one instance cancelled", weeklyMaster(), join(weeklyMaster(), replace(same19, "SUMMARY", "STATUS:CANCELLED")),
			[]string{"event modified [" + rid + `]: status "CONFIRMED"→"CANCELLED"; summary "Jour fixe"→""`}},
		{"the master retitled, overrides too: one Update for the series", join(weeklyMaster(), moved19),
			join(replace(weeklyMaster(), "SUMMARY", "SUMMARY:Budget"), replace(moved19, "SUMMARY", "SUMMARY:Budget")),
			[]string{`event modified: summary "Jour fixe"→"Budget"`}},
		{"an instance deleted (EXDATE, its override gone) is the series' recurrence", join(weeklyMaster(), moved19),
			weeklyMaster("EXDATE;TZID=Europe/Berlin:20260519T100000"),
			[]string{`event modified: recurrence ""→"not on Tue 19 May 2026"`}},
		{"an excluded instance's override changed", join(weeklyMaster("EXDATE:"+rid), moved19),
			join(weeklyMaster("EXDATE:"+rid), replace(moved19, "SUMMARY", "SUMMARY:x")), nil},
		{"a date RECURRENCE-ID names the timed instance that day", weeklyMaster(),
			join(weeklyMaster(), event("RECURRENCE-ID;VALUE=DATE:20260519", "SUMMARY:Jour fixe",
				"DTSTART;TZID=Europe/Berlin:20260519T100000", "DTEND;TZID=Europe/Berlin:20260519T113000")),
			[]string{"event modified [20260519]: end 2026-05-19T09:00Z→2026-05-19T09:30Z"}},
		{"an override without DTSTART keeps the instance's times", weeklyMaster(),
			join(weeklyMaster(), instance("SUMMARY:Jour fixe", "LOCATION:Room 9")),
			[]string{"event modified [" + rid + `]: location ""→"Room 9"`}},
	}, Options{Location: berlin})
}

// A resource holding only some instances (an attendee invited to them):
// instances appear and disappear.
func TestDiffInstancesWithoutMaster(t *testing.T) {
	i26 := event("RECURRENCE-ID;TZID=Europe/Berlin:20260526T100000", "SUMMARY:Jour fixe",
		"DTSTART;TZID=Europe/Berlin:20260526T100000", "DTEND;TZID=Europe/Berlin:20260526T110000")
	runCases(t, []diffCase{
		{"invited to one more", moved19, join(moved19, i26), []string{"event created [20260526T080000Z]"}},
		{"removed from one", join(moved19, i26), i26, []string{"event deleted [20260519T080000Z]"}},
		{"the whole series arrives", i26, join(weeklyMaster(), i26), []string{"event created"}},
	}, Options{Location: berlin})
}

// Past MaxInstances changed instances, one Update for the series.
func TestDiffManyInstances(t *testing.T) {
	before, after := weeklyMaster(), weeklyMaster()
	for i := range 30 {
		day := fmt.Sprintf("2026%s", weekFrom12May(i))
		before = join(before, event("RECURRENCE-ID;TZID=Europe/Berlin:"+day+"T100000", "SUMMARY:Jour fixe",
			"DTSTART;TZID=Europe/Berlin:"+day+"T100000", "DTEND;TZID=Europe/Berlin:"+day+"T110000"))
		after = join(after, event("RECURRENCE-ID;TZID=Europe/Berlin:"+day+"T100000", "SUMMARY:Jour fixe",
			"DTSTART;TZID=Europe/Berlin:"+day+"T100000", "DTEND;TZID=Europe/Berlin:"+day+"T113000"))
	}
	b, a := parse(t, before, berlin), parse(t, after, berlin)
	if got := describe(Diff(b, a, Options{Location: berlin})); !slices.Equal(got, []string{"event modified"}) {
		t.Errorf("30 instances, default cap: %q", got)
	}
	if got := Diff(b, a, Options{Location: berlin, MaxInstances: 30}); len(got) != 30 || got[0].RecurrenceID != "20260512T080000Z" ||
		got[29].RecurrenceID >= "20270000" || got[1].RecurrenceID != "20260519T080000Z" {
		t.Errorf("cap 30: %d updates, %q", len(got), describe(got))
	}
}

// weekFrom12May is the MMDD of the Tuesday i weeks after 12 May 2026.
func weekFrom12May(i int) string {
	t := parseDay("2026-05-12").AddDate(0, 0, 7*i)
	return t.Format("0102")
}

// Created, deleted, and a resource whose UID changed.
func TestDiffCreatedDeleted(t *testing.T) {
	runCases(t, []diffCase{
		{"created", nil, meeting(), []string{"event created"}},
		{"deleted", meeting(), nil, []string{"event deleted"}},
		{"a task created", nil, task("SUMMARY:x"), []string{"todo created"}},
		{"a series with overrides deleted: one Update", join(weeklyMaster(), moved19), nil, []string{"event deleted"}},
		{"nothing", nil, nil, nil},
		{"another UID", meeting(), task("SUMMARY:x"), []string{"event deleted", "todo created"}},
	}, Options{Location: berlin})
	u := Diff(nil, parse(t, meeting(), berlin), Options{Location: berlin, Object: "/cal/fred/work/e.ics"})
	if len(u) != 1 || u[0].Object != "/cal/fred/work/e.ics" || u[0].UID != "e" || u[0].TimeZone != "Europe/Berlin" {
		t.Errorf("created: %+v", u)
	}
	u = Diff(nil, parse(t, event("DTSTART:20260512T100000"), berlin), Options{Location: berlin})
	if u[0].TimeZone != "" {
		t.Errorf("a floating event's zone is the recipient's: %q", u[0].TimeZone)
	}
}
