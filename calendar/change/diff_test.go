package change

import (
	"slices"
	"strings"
	"testing"
)

type diffCase struct {
	name          string
	before, after []string // nil: no object
	want          []string // describe's lines; nil: no Update
}

func runCases(t *testing.T, cases []diffCase, opts Options) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := describe(Diff(parse(t, c.before, opts.Location), parse(t, c.after, opts.Location), opts))
			if !slices.Equal(got, c.want) {
				t.Errorf("Diff:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// meeting is a one-hour meeting on Tuesday 12 May 2026, 10:00 in Berlin
// (08:00 UTC), with what a client writes around it.
func meeting(extra ...string) []string {
	return event(append([]string{
		"DTSTAMP:20260501T120000Z", "SEQUENCE:0", "SUMMARY:Jour fixe", "LOCATION:Room 1",
		"DTSTART;TZID=Europe/Berlin:20260512T100000", "DTEND;TZID=Europe/Berlin:20260512T110000",
	}, extra...)...)
}

// without is lines less those starting with one of the prefixes.
func without(lines []string, prefixes ...string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				return true
			}
		}
		return false
	})
}

// replace is lines with the one starting with prefix replaced by repl
// (removed when repl is "").
func replace(lines []string, prefix, repl string) []string {
	out := slices.Clone(lines)
	for i, l := range out {
		if strings.HasPrefix(l, prefix) {
			if repl == "" {
				return slices.Delete(out, i, i+1)
			}
			out[i] = repl
			return out
		}
	}
	panic("no line " + prefix)
}

// Each field a person sees, changed alone.
func TestDiffEventFields(t *testing.T) {
	m := meeting()
	long := strings.Repeat("ä", 300)
	runCases(t, []diffCase{
		{"title", m, replace(m, "SUMMARY:", "SUMMARY:Jour fixe (Q2)"),
			[]string{`event modified: summary "Jour fixe"→"Jour fixe (Q2)"`}},
		{"location removed", m, replace(m, "LOCATION:", ""),
			[]string{`event modified: location "Room 1"→""`}},
		{"location added", replace(m, "LOCATION:", ""), m,
			[]string{`event modified: location ""→"Room 1"`}},
		{"moved keeping the duration lists start and end", m,
			replace(replace(m, "DTSTART", "DTSTART;TZID=Europe/Berlin:20260512T140000"), "DTEND", "DTEND;TZID=Europe/Berlin:20260512T150000"),
			[]string{"event modified: start 2026-05-12T08:00Z→2026-05-12T12:00Z; end 2026-05-12T09:00Z→2026-05-12T13:00Z"}},
		{"longer", m, replace(m, "DTEND", "DTEND;TZID=Europe/Berlin:20260512T113000"),
			[]string{"event modified: end 2026-05-12T09:00Z→2026-05-12T09:30Z"}},
		{"DTEND rewritten as the same DURATION", m, replace(m, "DTEND", "DURATION:PT1H"), nil},
		{"DURATION longer", replace(m, "DTEND", "DURATION:PT1H"), replace(m, "DTEND", "DURATION:PT90M"),
			[]string{"event modified: end 2026-05-12T09:00Z→2026-05-12T09:30Z"}},
		{"cancelled", m, meeting("STATUS:CANCELLED"),
			[]string{`event modified: status "CONFIRMED"→"CANCELLED"`}},
		{"uncancelled", meeting("STATUS:CANCELLED"), meeting("STATUS:CONFIRMED"),
			[]string{`event modified: status "CANCELLED"→"CONFIRMED"`}},
		{"tentative confirmed", meeting("STATUS:TENTATIVE"), meeting("STATUS:CONFIRMED"),
			[]string{`event modified: status "TENTATIVE"→"CONFIRMED"`}},
		{"CONFIRMED written out is no change", m, meeting("STATUS:CONFIRMED"), nil},
		{"description added", m, meeting(`DESCRIPTION:Agenda:\n1. budget`),
			[]string{`event modified: description ""→"Agenda:\n1. budget"`}},
		{"description capped", meeting("DESCRIPTION:short"), meeting("DESCRIPTION:" + long),
			[]string{`event modified: description "short"→"` + strings.Repeat("ä", MaxText) + `…"`}},
		{"several, in message order", m,
			replace(replace(replace(m, "SUMMARY", "SUMMARY:Budget"), "DTEND", "DTEND;TZID=Europe/Berlin:20260512T120000"), "LOCATION", "LOCATION:Room 2"),
			[]string{`event modified: end 2026-05-12T09:00Z→2026-05-12T10:00Z; summary "Jour fixe"→"Budget"; location "Room 1"→"Room 2"`}},
	}, Options{Location: berlin})
}

// All-day events carry dates, midnight UTC, whatever the zone.
func TestDiffAllDay(t *testing.T) {
	day := event("SUMMARY:Offsite", "DTSTART;VALUE=DATE:20260512")
	runCases(t, []diffCase{
		{"moved a day (the implicit end with it)", day, replace(day, "DTSTART", "DTSTART;VALUE=DATE:20260513"),
			[]string{"event modified: start 2026-05-12→2026-05-13; end 2026-05-13→2026-05-14"}},
		{"one more day", day, append(slices.Clone(day[:len(day)-1]), "DTEND;VALUE=DATE:20260514", "END:VEVENT"),
			[]string{"event modified: end 2026-05-13→2026-05-14"}},
		{"the implicit end written out", day, append(slices.Clone(day[:len(day)-1]), "DTEND;VALUE=DATE:20260513", "END:VEVENT"), nil},
		{"P1D written out", day, append(slices.Clone(day[:len(day)-1]), "DURATION:P1D", "END:VEVENT"), nil},
		{"made timed", day, replace(day, "DTSTART", "DTSTART;TZID=Europe/Berlin:20260512T100000"),
			[]string{"event modified: start 2026-05-11T22:00Z→2026-05-12T08:00Z; end 2026-05-12T22:00Z→2026-05-12T08:00Z"}},
		{"made all-day", meeting(), event("SUMMARY:Jour fixe", "LOCATION:Room 1", "DTSTART;VALUE=DATE:20260512"),
			[]string{"event modified: start 2026-05-12→2026-05-12; end 2026-05-12→2026-05-13"}},
	}, Options{Location: berlin})
}

// Tasks: DUE, DTSTART, completion in its three forms, cancellation.
func TestDiffTasks(t *testing.T) {
	todo := task("SUMMARY:Report", "DUE;TZID=Europe/Berlin:20260515T170000", "STATUS:NEEDS-ACTION")
	done := func(props ...string) []string {
		return task(append([]string{"SUMMARY:Report", "DUE;TZID=Europe/Berlin:20260515T170000"}, props...)...)
	}
	runCases(t, []diffCase{
		{"due moved", todo, replace(todo, "DUE", "DUE;TZID=Europe/Berlin:20260519T170000"),
			[]string{"todo modified: due 2026-05-15T15:00Z→2026-05-19T15:00Z"}},
		{"due removed", todo, replace(todo, "DUE", ""),
			[]string{"todo modified: due 2026-05-15T15:00Z→-"}},
		{"start added", todo, replace(todo, "SUMMARY", "DTSTART;TZID=Europe/Berlin:20260514T090000"),
			[]string{`todo modified: start -→2026-05-14T07:00Z; summary "Report"→""`}},
		{"due as DTSTART plus DURATION is the same due",
			task("SUMMARY:Report", "DTSTART:20260515T140000Z", "DUE:20260515T150000Z"),
			task("SUMMARY:Report", "DTSTART:20260515T140000Z", "DURATION:PT1H"), nil},
		{"STATUS:COMPLETED", todo, done("STATUS:COMPLETED"), []string{`todo modified: completed ""→"completed"`}},
		{"COMPLETED property", todo, done("COMPLETED:20260514T100000Z"), []string{`todo modified: completed ""→"completed"`}},
		{"PERCENT-COMPLETE:100", todo, done("PERCENT-COMPLETE:100"), []string{`todo modified: completed ""→"completed"`}},
		{"in process, then completed: only completed", done("STATUS:IN-PROCESS"), done("STATUS:COMPLETED", "COMPLETED:20260514T100000Z"),
			[]string{`todo modified: completed ""→"completed"`}},
		{"reopened", done("STATUS:COMPLETED"), todo, []string{`todo modified: completed "completed"→""`}},
		{"NEEDS-ACTION left out is no change", todo, done(), nil},
		{"in process", todo, done("STATUS:IN-PROCESS"), []string{`todo modified: status "NEEDS-ACTION"→"IN-PROCESS"`}},
		{"cancelled", todo, done("STATUS:CANCELLED"), []string{`todo modified: status "NEEDS-ACTION"→"CANCELLED"`}},
		{"all-day due", task("DUE;VALUE=DATE:20260515"), task("DUE;VALUE=DATE:20260518"),
			[]string{"todo modified: due 2026-05-15→2026-05-18"}},
	}, Options{Location: berlin})
}

// What a client rewrites on a save without a person changing anything.
func TestDiffNoOpResave(t *testing.T) {
	m := meeting("DESCRIPTION:A long agenda that a client will fold at seventy-five octets, somewhere in here.",
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Wilma:mailto:wilma@example.org",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM")
	resaved := event(
		"X-MOZ-GENERATION:3", "LAST-MODIFIED:20260502T080000Z", "CREATED:20260501T120000Z",
		"DTEND;TZID=Europe/Berlin:20260512T110000",
		"DTSTART;TZID=Europe/Berlin;VALUE=DATE-TIME:20260512T100000",
		"SEQUENCE:4", "DTSTAMP:20260502T080000Z",
		"LOCATION:Room 1  ", "SUMMARY:Jour fixe",
		"DESCRIPTION:A long agenda that a client will fold at seventy-five octets, so\r\n mewhere in here.",
		"ATTENDEE;CN=Wilma;PARTSTAT=ACCEPTED:mailto:wilma@example.org",
		"X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT30M", "END:VALARM",
		"BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-P1D", "END:VALARM")
	runCases(t, []diffCase{
		{"same bytes", m, m, nil},
		{"DTSTAMP, SEQUENCE, X-, order, folding, alarms, PARTSTAT", m, resaved, nil},
	}, Options{Location: berlin})
}

// Times compare by instant: zones renamed, rewritten in UTC, floating
// times in the calendar's zone.
func TestDiffTimeZones(t *testing.T) {
	weekly := func(tzid string, start, end string) []string {
		return event("SUMMARY:Jour fixe", "DTSTART;TZID="+tzid+":"+start, "DTEND;TZID="+tzid+":"+end, "RRULE:FREQ=WEEKLY;BYDAY=TU")
	}
	customNY := []string{"BEGIN:VTIMEZONE", "TZID:Customized Time Zone",
		"BEGIN:STANDARD", "DTSTART:16011104T020000", "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD",
		"BEGIN:DAYLIGHT", "DTSTART:16010311T020000", "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "END:DAYLIGHT",
		"END:VTIMEZONE"}
	runCases(t, []diffCase{
		{"Paris 10:00 rewritten as UTC 08:00",
			event("DTSTART;TZID=Europe/Paris:20260512T100000", "DTEND;TZID=Europe/Paris:20260512T110000"),
			event("DTSTART:20260512T080000Z", "DTEND:20260512T090000Z"), nil},
		{"Berlin renamed the Windows way, a series",
			weekly("Europe/Berlin", "20260512T100000", "20260512T110000"),
			weekly("W. Europe Standard Time", "20260512T100000", "20260512T110000"), nil},
		{"Berlin to Paris, a series", weekly("Europe/Berlin", "20260512T100000", "20260512T110000"),
			weekly("Europe/Paris", "20260512T100000", "20260512T110000"), nil},
		{"a VTIMEZONE for New York, a series", join(customNY, weekly(`"Customized Time Zone"`, "20260512T100000", "20260512T110000")),
			weekly("America/New_York", "20260512T100000", "20260512T110000"), nil},
		{"a series moved to UTC at the same first instant: its instances move in winter",
			weekly("Europe/Berlin", "20260512T100000", "20260512T110000"),
			event("SUMMARY:Jour fixe", "DTSTART:20260512T080000Z", "DTEND:20260512T090000Z", "RRULE:FREQ=WEEKLY;BYDAY=TU"),
			[]string{`event modified: recurrence "weekly on Tuesday (Europe/Berlin time)"→"weekly on Tuesday (UTC time)"`}},
		{"floating 10:00 is 10:00 in the calendar's zone",
			event("DTSTART:20260512T100000", "DTEND:20260512T110000"),
			event("DTSTART;TZID=Europe/Berlin:20260512T100000", "DTEND;TZID=Europe/Berlin:20260512T110000"), nil},
		{"UNTIL rewritten in UTC",
			event("DTSTART;TZID=Europe/Berlin:20260512T100000", "RRULE:FREQ=DAILY;UNTIL=20260530T100000"),
			event("DTSTART;TZID=Europe/Berlin:20260512T100000", "RRULE:FREQ=DAILY;UNTIL=20260530T080000Z"), nil},
		{"EXDATE rewritten in another zone",
			event("DTSTART;TZID=Europe/Berlin:20260512T100000", "RRULE:FREQ=DAILY", "EXDATE;TZID=Europe/Berlin:20260514T100000"),
			event("DTSTART;TZID=Europe/Berlin:20260512T100000", "RRULE:FREQ=DAILY", "EXDATE:20260514T080000Z"), nil},
		{"moved an hour", event("DTSTART;TZID=Europe/Paris:20260512T100000"), event("DTSTART:20260512T090000Z"),
			[]string{"event modified: start 2026-05-12T08:00Z→2026-05-12T09:00Z; end 2026-05-12T08:00Z→2026-05-12T09:00Z"}},
	}, Options{Location: berlin})
}

// Floating times are read in Options.Location even when the two
// versions were parsed with different default zones.
func TestDiffFloatingParsedElsewhere(t *testing.T) {
	b := parse(t, event("DTSTART:20260512T100000", "DTEND:20260512T110000"), nil)
	a := parse(t, event("DTSTART;TZID=Europe/Berlin:20260512T100000", "DTEND;TZID=Europe/Berlin:20260512T110000"), berlin)
	if got := Diff(b, a, Options{Location: berlin}); got != nil {
		t.Errorf("Diff = %q, want none", describe(got))
	}
	if got := describe(Diff(b, a, Options{})); len(got) != 1 {
		t.Errorf("in UTC the floating 10:00 is 10:00Z: Diff = %q, want a move", got)
	}
}
