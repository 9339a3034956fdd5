package calendar

import (
	"testing"
	"time"
)

// A calendar's zone resolves by IANA or Windows name, or from its
// VTIMEZONE when the TZID is neither; nothing usable gives nil, never UTC.
func TestZone(t *testing.T) {
	custom := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Custom Berlin\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n" +
		"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	named := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	for _, tc := range []struct {
		tz     string
		offset int // in July 2026, seconds east of UTC; -1: nil
	}{
		{"Europe/Paris", 7200},
		{"/mozilla.org/20050126_1/Europe/Berlin", 7200},
		{"W. Europe Standard Time", 7200},
		{"Pacific Standard Time", -7 * 3600},
		{named, -4 * 3600},
		{custom, 7200},
		{"", -1},
		{"Local", -1},
		{"Mars/Olympus", -1},
		{"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", -1},
		{"BEGIN:VCALENDAR\r\nX;P=b\r\n", -1},
	} {
		loc := Zone(tc.tz)
		if tc.offset == -1 {
			if loc != nil {
				t.Errorf("Zone(%q) = %v, want nil", tc.tz, loc)
			}
			continue
		}
		if loc == nil {
			t.Errorf("Zone(%q) = nil", tc.tz)
			continue
		}
		if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != tc.offset {
			t.Errorf("Zone(%q): offset %d in July, want %d", tc.tz, off, tc.offset)
		}
	}
}
