package calendar

import (
	"testing"
	"time"
	_ "time/tzdata" // the same zones whatever the machine has
)

// eventAt parses an event at 2024-07-01 09:00 in tzid, with the object's
// other lines, and returns its start and the object.
func eventAt(t *testing.T, tzid string, def *time.Location, extra ...string) (Time, *Object) {
	t.Helper()
	lines := append(extra, "BEGIN:VEVENT", "UID:z", `DTSTART;TZID="`+tzid+`":20240701T090000`, "END:VEVENT")
	obj := mustParse(t, ics(lines...), def)
	return obj.Master.Start, obj
}

// TZID resolves by IANA name (also behind a client's path prefix), then by
// Windows name, then by the object's VTIMEZONE; else the default location,
// with a warning; never UTC silently.
func TestTZIDResolution(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	for _, tc := range []struct {
		tzid, wantZone, wantUTC string
	}{
		{"Europe/Berlin", "Europe/Berlin", "07:00"},
		{"/mozilla.org/20050126_1/Europe/Berlin", "Europe/Berlin", "07:00"},
		{"/freeassociation.sourceforge.net/Tzfile/America/New_York", "America/New_York", "13:00"},
		{"/citadel.org/20190914_1/America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", "12:00"},
		{"W. Europe Standard Time", "Europe/Berlin", "07:00"},
		{"Eastern Standard Time", "America/New_York", "13:00"},
		{"Pacific Standard Time", "America/Los_Angeles", "16:00"},
		{"GMT Standard Time", "Europe/London", "08:00"},
		{"Tokyo Standard Time", "Asia/Tokyo", "00:00"},
		{"India Standard Time", "Asia/Calcutta", "03:30"},
		{"UTC", "UTC", "09:00"},
	} {
		start, obj := eventAt(t, tc.tzid, paris)
		if got := start.Location().String(); got != tc.wantZone {
			t.Errorf("%q: zone %s, want %s", tc.tzid, got, tc.wantZone)
		}
		if got := start.UTC().Format("15:04"); got != tc.wantUTC {
			t.Errorf("%q: 09:00 is %s UTC, want %s", tc.tzid, got, tc.wantUTC)
		}
		if len(obj.Warnings) != 0 {
			t.Errorf("%q: warnings %v", tc.tzid, obj.Warnings)
		}
	}
}

func TestTZIDUnknown(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	for _, tzid := range []string{"Local", "Mars/Olympus_Mons", "../../etc/passwd", "Customized Time Zone"} {
		start, obj := eventAt(t, tzid, paris)
		if start.Location() != paris || start.UTC().Format("15:04") != "07:00" {
			t.Errorf("%q: read as %v, want the default location", tzid, start.Time)
		}
		if !hasWarning(obj.Warnings, WarnUnknownZone) {
			t.Errorf("%q: no unknown-zone warning: %v", tzid, obj.Warnings)
		}
	}
	start, obj := eventAt(t, "Mars/Olympus_Mons", nil)
	if start.Location() != time.UTC || !hasWarning(obj.Warnings, WarnUnknownZone) || !hasWarning(obj.Warnings, WarnNoDefaultZone) {
		t.Errorf("no default location: %v in %s, warnings %v", start.Time, start.Location(), obj.Warnings)
	}
}

// The Windows table holds at least the names Outlook and Exchange send
// for the most used zones, each mapped to a zone that loads.
func TestWindowsZones(t *testing.T) {
	common := []string{
		"Dateline Standard Time", "UTC-11", "Hawaiian Standard Time", "Alaskan Standard Time",
		"Pacific Standard Time", "US Mountain Standard Time", "Mountain Standard Time",
		"Central America Standard Time", "Central Standard Time", "Central Standard Time (Mexico)",
		"Canada Central Standard Time", "SA Pacific Standard Time", "Eastern Standard Time",
		"US Eastern Standard Time", "Venezuela Standard Time", "Atlantic Standard Time",
		"SA Western Standard Time", "Pacific SA Standard Time", "Newfoundland Standard Time",
		"E. South America Standard Time", "Argentina Standard Time", "Greenland Standard Time",
		"Montevideo Standard Time", "UTC-02", "Azores Standard Time", "Cape Verde Standard Time",
		"UTC", "GMT Standard Time", "Greenwich Standard Time", "Morocco Standard Time",
		"W. Europe Standard Time", "Central Europe Standard Time", "Romance Standard Time",
		"Central European Standard Time", "W. Central Africa Standard Time", "GTB Standard Time",
		"E. Europe Standard Time", "Egypt Standard Time", "South Africa Standard Time",
		"FLE Standard Time", "Israel Standard Time", "Turkey Standard Time", "Arabic Standard Time",
		"Arab Standard Time", "Russian Standard Time", "E. Africa Standard Time", "Iran Standard Time",
		"Arabian Standard Time", "Pakistan Standard Time", "India Standard Time", "Nepal Standard Time",
		"Bangladesh Standard Time", "SE Asia Standard Time", "China Standard Time",
		"Singapore Standard Time", "W. Australia Standard Time", "Taipei Standard Time",
		"Tokyo Standard Time", "Korea Standard Time", "Cen. Australia Standard Time",
		"AUS Central Standard Time", "E. Australia Standard Time", "AUS Eastern Standard Time",
		"New Zealand Standard Time", "Fiji Standard Time",
	}
	for _, name := range common {
		if _, ok := windowsZones[name]; !ok {
			t.Errorf("%q missing", name)
		}
	}
	for name, iana := range windowsZones {
		if loadIANA(iana) == nil {
			t.Errorf("%q maps to %q, which does not load", name, iana)
		}
	}
	if len(windowsZones) < 130 {
		t.Errorf("only %d Windows zones", len(windowsZones))
	}
}
