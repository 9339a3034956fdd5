package calendar

import (
	"testing"
	"time"
)

// vtzEurope is Exchange's VTIMEZONE for Central Europe, under a TZID no
// lookup knows, so only the VTIMEZONE can resolve it.
var vtzEurope = []string{
	"BEGIN:VTIMEZONE", "TZID:Customized Time Zone",
	"BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
	"RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
	"BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
	"RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
	"END:VTIMEZONE",
}

// vtzUSEastern has the United States rules before and after 2007, as
// libical writes them: one observance per rule, ended by UNTIL.
var vtzUSEastern = []string{
	"BEGIN:VTIMEZONE", "TZID:My Eastern",
	"BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT", "DTSTART:19870405T020000",
	"RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z", "END:DAYLIGHT",
	"BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT", "DTSTART:20070311T020000",
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
	"BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST", "DTSTART:19671029T020000",
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z", "END:STANDARD",
	"BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST", "DTSTART:20071104T020000",
	"RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
	"END:VTIMEZONE",
}

func vtzLocation(t *testing.T, lines []string, tzid string) *Time {
	t.Helper()
	obj := mustParse(t, ics(append(lines, "BEGIN:VEVENT", "UID:v",
		`DTSTART;TZID="`+tzid+`":20240701T090000`, "END:VEVENT")...), nil)
	if len(obj.Warnings) != 0 {
		t.Fatalf("warnings: %v", obj.Warnings)
	}
	return &obj.Master.Start
}

// vtzSydney: the southern hemisphere, daylight time across the new year.
var vtzSydney = []string{
	"BEGIN:VTIMEZONE", "TZID:AUS Eastern (custom)",
	"BEGIN:STANDARD", "DTSTART:20080406T030000", "TZOFFSETFROM:+1100", "TZOFFSETTO:+1000", "TZNAME:AEST",
	"RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU", "END:STANDARD",
	"BEGIN:DAYLIGHT", "DTSTART:20081005T020000", "TZOFFSETFROM:+1000", "TZOFFSETTO:+1100", "TZNAME:AEDT",
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU", "END:DAYLIGHT",
	"END:VTIMEZONE",
}

// vtzOldStyle writes "the second Sunday" as a Sunday from the 8th to the
// 14th (older Apple and Mozilla files): no footer rule, onsets computed.
var vtzOldStyle = []string{
	"BEGIN:VTIMEZONE", "TZID:Old style",
	"BEGIN:DAYLIGHT", "DTSTART:20070311T020000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400",
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=8,9,10,11,12,13,14;BYDAY=SU", "END:DAYLIGHT",
	"BEGIN:STANDARD", "DTSTART:20071104T020000", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500",
	"RRULE:FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=1,2,3,4,5,6,7;BYDAY=SU", "END:STANDARD",
	"END:VTIMEZONE",
}

// A zone read from a VTIMEZONE alone agrees with the IANA zone it
// describes, hour by hour.
func TestVTimezoneMatchesIANA(t *testing.T) {
	for _, tc := range []struct {
		lines      []string
		tzid, iana string
		from, to   int
	}{
		{vtzEurope, "Customized Time Zone", "Europe/Berlin", 2020, 2030},
		{vtzUSEastern, "My Eastern", "America/New_York", 2001, 2011}, // both sets of rules
		{vtzSydney, "AUS Eastern (custom)", "Australia/Sydney", 2020, 2030},
		{vtzOldStyle, "Old style", "America/New_York", 2020, 2030},
	} {
		loc := vtzLocation(t, tc.lines, tc.tzid).Location()
		if loc.String() != tc.tzid {
			t.Errorf("zone named %q", loc)
		}
		iana := mustLoad(t, tc.iana)
		// Hour by hour over a decade, and the years before the computed
		// onsets end (the footer rule must agree there too).
		for _, span := range [][2]int{{tc.from, tc.to}, {2196, 2200}} {
			end := time.Date(span[1], 1, 1, 0, 0, 0, 0, time.UTC)
			for at := time.Date(span[0], 1, 1, 0, 0, 0, 0, time.UTC); at.Before(end); at = at.Add(time.Hour) {
				_, got := at.In(loc).Zone()
				_, want := at.In(iana).Zone()
				if got != want {
					t.Fatalf("%s at %s: offset %d, %s has %d", tc.tzid, at, got, tc.iana, want)
				}
			}
		}
	}
}

// Observances given by RDATE lists, and a fixed zone without rules.
func TestVTimezoneRDATEAndFixed(t *testing.T) {
	lines := []string{
		"BEGIN:VTIMEZONE", "TZID:Listed",
		"BEGIN:DAYLIGHT", "DTSTART:20240331T020000", "RDATE:20250330T020000,20260329T020000",
		"TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT",
		"BEGIN:STANDARD", "DTSTART:20241027T030000", "RDATE:20251026T030000",
		"RDATE:20261025T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
		"END:VTIMEZONE",
		"BEGIN:VTIMEZONE", "TZID:Fixed", "BEGIN:STANDARD", "DTSTART:19700101T000000",
		"TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "END:STANDARD", "END:VTIMEZONE",
	}
	loc := vtzLocation(t, lines, "Listed").Location()
	berlin := mustLoad(t, "Europe/Berlin")
	for at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2027; at = at.Add(time.Hour) {
		if _, got := at.In(loc).Zone(); got != func() int { _, o := at.In(berlin).Zone(); return o }() {
			t.Fatalf("Listed at %s: offset %d", at, got)
		}
	}
	fixed := vtzLocation(t, lines, "Fixed")
	if got := fixed.UTC().Format("15:04"); got != "03:30" {
		t.Errorf("Fixed: 09:00 is %s UTC, want 03:30", got)
	}
}

// A VTIMEZONE that cannot be used is a warning, and its times are read in
// the default location.
func TestVTimezoneBad(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	for name, lines := range map[string][]string{
		"no TZOFFSETTO":  {"BEGIN:VTIMEZONE", "TZID:Bad", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "END:STANDARD", "END:VTIMEZONE"},
		"bad offset":     {"BEGIN:VTIMEZONE", "TZID:Bad", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+2500", "END:STANDARD", "END:VTIMEZONE"},
		"no observances": {"BEGIN:VTIMEZONE", "TZID:Bad", "END:VTIMEZONE"},
		"bad RRULE":      {"BEGIN:VTIMEZONE", "TZID:Bad", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "RRULE:FREQ=FORTNIGHTLY", "END:STANDARD", "END:VTIMEZONE"},
	} {
		start, obj := eventAt(t, "Bad", paris, lines...)
		if start.Location() != paris || !hasWarning(obj.Warnings, WarnBadTimeZone) || !hasWarning(obj.Warnings, WarnUnknownZone) {
			t.Errorf("%s: read in %s, warnings %v", name, start.Location(), obj.Warnings)
		}
	}
}
