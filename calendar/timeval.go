package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Time is an iCalendar DATE or DATE-TIME value, resolved to an instant.
//
// The embedded time.Time is in the value's own location: the zone its TZID
// names, UTC for a "Z" value, and the object's default location for a
// floating value or a DATE (midnight that day). The zero Time means the
// property was absent.
type Time struct {
	time.Time
	// Date reports a VALUE=DATE value: an all-day date.
	Date bool
	// Floating reports a value with no zone of its own (neither TZID nor
	// "Z"), read in the default location.
	Floating bool
}

// ID is the value's identity as a recurrence instance: "20240310" for a
// DATE, else the instant in UTC, "20240310T090000Z". It is empty for the
// zero Time.
func (t Time) ID() string {
	switch {
	case t.IsZero():
		return ""
	case t.Date:
		return t.Format("20060102")
	default:
		return t.UTC().Format("20060102T150405Z")
	}
}

// Matches reports whether t, a recurrence id, names the instance rid:
// the same instant, or for a DATE or floating t, rid's wall clock in UTC
// (how Thunderbird names instances in X-MOZ-SNOOZE-TIME-<id>).
func (t Time) Matches(rid time.Time) bool {
	if t.IsZero() || rid.IsZero() {
		return false
	}
	return t.Equal(rid) || ((t.Date || t.Floating) && wallOf(t.Time).Equal(rid.UTC()))
}

// civil is a date and wall-clock time as written, before any zone applies.
type civil struct {
	year, month, day     int
	hour, minute, second int
	date                 bool // DATE: no time part
	utc                  bool // ends with "Z"
}

// parseCivil reads one DATE ("20240310") or DATE-TIME ("20240310T090000",
// "20240310T090000Z") value. A leap second (60) reads as 59.
func parseCivil(s string) (civil, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	var c civil
	switch len(s) {
	case 8:
		c.date = true
	case 15:
	case 16:
		if s[15] != 'Z' {
			return c, fmt.Errorf("bad date-time %q", s)
		}
		c.utc = true
	default:
		return c, fmt.Errorf("bad date or date-time %q", s)
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	var ok [6]bool
	c.year, ok[0] = num(0, 4)
	c.month, ok[1] = num(4, 6)
	c.day, ok[2] = num(6, 8)
	ok[3], ok[4], ok[5] = true, true, true
	if !c.date {
		if s[8] != 'T' {
			return c, fmt.Errorf("bad date-time %q", s)
		}
		c.hour, ok[3] = num(9, 11)
		c.minute, ok[4] = num(11, 13)
		c.second, ok[5] = num(13, 15)
	}
	for _, o := range ok {
		if !o {
			return c, fmt.Errorf("bad date or date-time %q", s)
		}
	}
	if c.second == 60 {
		c.second = 59
	}
	if c.year < 1 || c.month < 1 || c.month > 12 || c.day < 1 ||
		c.day > daysIn(time.Month(c.month), c.year) ||
		c.hour > 23 || c.minute > 59 || c.second > 59 {
		return c, fmt.Errorf("date or time out of range in %q", s)
	}
	return c, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// wall is the civil value as a "fake UTC" time: its fields are the wall
// clock, whatever zone applies. Recurrence rules are expanded on this
// uniform scale, where days are always 24 hours long.
func (c civil) wall() time.Time {
	return time.Date(c.year, time.Month(c.month), c.day, c.hour, c.minute, c.second, 0, time.UTC)
}

// wallOf returns t's wall clock in its own location as a fake-UTC time.
func wallOf(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// inZone gives the instant a wall clock (a fake-UTC time) denotes in loc,
// as RFC 5545 section 3.3.5 reads it: a time that does not exist (skipped
// by a change to daylight time) uses the UTC offset before the gap, so
// 02:30 on a spring-forward night reads as 03:30; a time that occurs twice
// (the fall-back hour) is the first occurrence.
//
// time.Date promises neither: it resolves the gap backwards west of UTC
// (America/New_York 02:30 gives 01:30 EST) and the overlap to the second
// occurrence east of UTC (Europe/Berlin 02:30 gives 02:30 CET); see
// TestGoTimeDateAmbiguity.
func inZone(wall time.Time, loc *time.Location) time.Time {
	if loc == nil || loc == time.UTC {
		return wall
	}
	u := wall.Unix()
	// Any instant that shows this wall clock lies within 14 hours of it
	// (the largest UTC offsets), so the offsets in effect 15 hours either
	// side are the only candidates.
	offBefore := offsetAt(u-15*3600, loc)
	offAfter := offsetAt(u+15*3600, loc)
	valid := func(off int64) (int64, bool) {
		c := u - off
		return c, offsetAt(c, loc) == off
	}
	cb, okb := valid(offBefore)
	if offBefore == offAfter {
		if okb {
			return time.Unix(cb, 0).In(loc)
		}
		// Two transitions within 30 hours: let the standard library choose.
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
	}
	ca, oka := valid(offAfter)
	switch {
	case okb && oka:
		return time.Unix(min(ca, cb), 0).In(loc)
	case okb:
		return time.Unix(cb, 0).In(loc)
	case oka:
		return time.Unix(ca, 0).In(loc)
	default: // in the gap: the offset before it
		return time.Unix(cb, 0).In(loc)
	}
}

func offsetAt(unix int64, loc *time.Location) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}
