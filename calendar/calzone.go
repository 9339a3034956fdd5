package calendar

import (
	"bytes"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// maxCalendarZone bounds the calendar-timezone text Zone reads.
const maxCalendarZone = 256 << 10

// Zone resolves a calendar's own time zone, for its floating times and
// dates: tz is a zone name (CALDAV:calendar-timezone-id, or a TZID: an
// IANA name, also behind a client's path prefix, or a Windows name), or
// an iCalendar object holding one VTIMEZONE (CALDAV:calendar-timezone),
// whose TZID is tried by name before its rules are read. It returns nil
// when tz is empty or names no usable zone.
func Zone(tz string) *time.Location {
	tz = strings.TrimSpace(tz)
	if tz == "" || len(tz) > maxCalendarZone {
		return nil
	}
	if !strings.HasPrefix(strings.ToUpper(tz), "BEGIN:VCALENDAR") {
		return zoneByName(tz)
	}
	var cal *ical.Calendar
	func() {
		defer func() { recover() }() // go-ical panics on some bad parameters
		cal, _ = ical.NewDecoder(bytes.NewReader([]byte(tz))).Decode()
	}()
	if cal == nil {
		return nil
	}
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		tzid, _ := c.Props.Text(ical.PropTimezoneID)
		if loc := zoneByName(tzid); loc != nil {
			return loc
		}
		if loc, err := vtimezoneLocation(tzid, c); err == nil {
			return loc
		}
	}
	return nil
}

// zoneByName resolves an IANA or Windows zone name.
func zoneByName(name string) *time.Location {
	if loc := ianaZone(name); loc != nil {
		return loc
	}
	if iana, ok := windowsZones[strings.TrimSpace(name)]; ok {
		return ianaZone(iana)
	}
	return nil
}
