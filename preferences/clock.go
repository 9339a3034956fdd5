package preferences

import (
	"errors"
	"time"
)

// minutesPerDay is 24:00, the largest time of day.
const minutesPerDay = 24 * 60

// parseClock reads "HH:MM" (two digits each) as minutes since midnight;
// "24:00" only when allow24.
func parseClock(s string, allow24 bool) (int, error) {
	if len(s) != 5 || s[2] != ':' || !digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4]) {
		return 0, errors.New(`is not a time of day such as "07:30" (HH:MM, 24-hour clock)`)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0 && allow24:
		return minutesPerDay, nil
	case h > 23 || m > 59:
		if allow24 {
			return 0, errors.New("is not a time of day between 00:00 and 24:00")
		}
		return 0, errors.New("is not a time of day between 00:00 and 23:59")
	}
	return h*60 + m, nil
}

func digit(b byte) bool { return '0' <= b && b <= '9' }

// parsePeriod reads a digest window or throttle period: a Go duration of
// whole minutes, from one minute to a day, that divides a day evenly (so
// that the periods fall at the same times of day every day). It returns
// seconds.
func parsePeriod(s string) (int64, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, errors.New(`is not a duration such as "15m" or "1h"`)
	case d < time.Minute || d > 24*time.Hour:
		return 0, errors.New("must be from 1m to 24h")
	case d%time.Minute != 0 || (24*time.Hour)%d != 0:
		return 0, errors.New(`must divide a day evenly, such as "5m", "15m", "1h", "6h" or "24h"`)
	}
	return int64(d / time.Second), nil
}

// wallTime returns the first instant at which loc's wall clock reads the
// date y-m-d plus min minutes (min may exceed a day: 24:00 is the next
// midnight). When the clocks skip that reading (the hour lost in spring),
// it is the instant they jump over it; when they show it twice (the hour
// repeated in autumn), the first time.
//
// The rule is "the first instant the clock shows that time or later", so
// a quiet period starting at 02:30 on the night the clocks go from 02:00
// to 03:00 starts at the jump, and one ending at 02:30 on the night they
// go back ends the first time 02:30 is shown.
func wallTime(y int, m time.Month, d, min int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, 0, min, 0, 0, time.UTC).Unix()
	// The instant is within a day of naive; at most one transition lies
	// between the offsets a day before and a day after it.
	_, offBefore := time.Unix(naive-86400, 0).In(loc).Zone()
	_, offAfter := time.Unix(naive+86400, 0).In(loc).Zone()
	if offBefore == offAfter { // no clock change near: the usual case
		return time.Unix(naive-int64(offBefore), 0).In(loc)
	}
	// Near a change: the earliest reading valid with either offset.
	var best int64
	found := false
	for _, off := range [...]int{offBefore, offAfter} {
		c := naive - int64(off)
		if _, o := time.Unix(c, 0).In(loc).Zone(); o == off && (!found || c < best) {
			best, found = c, true
		}
	}
	if found {
		return time.Unix(best, 0).In(loc)
	}
	// Skipped: read with the offset before the jump, the wall time lies
	// after it; the zone it falls in starts at the jump.
	start, _ := time.Unix(naive-int64(offBefore), 0).In(loc).ZoneBounds()
	return start
}

// localDay is a calendar day in a time zone.
type localDay struct {
	y  int
	m  time.Month
	d  int
	wd time.Weekday
}

// dayOf returns the day t falls on in loc, plus offset days.
func dayOf(t time.Time, loc *time.Location, offset int) localDay {
	y, m, d := t.In(loc).Date()
	if offset != 0 {
		y, m, d = time.Date(y, m, d+offset, 12, 0, 0, 0, time.UTC).Date()
	}
	return localDay{y, m, d, time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()}
}

// at returns the instant of min minutes into the day (see wallTime).
func (l localDay) at(min int, loc *time.Location) time.Time { return wallTime(l.y, l.m, l.d, min, loc) }

// nextAligned returns the first instant after t (or at t, unless strict)
// at which loc's wall clock, as its offset at t reads it, is a multiple of
// period seconds since midnight: "every 15 minutes" falls on :00, :15,
// :30 and :45 local, also in zones half an hour off UTC.
func nextAligned(t time.Time, period int64, loc *time.Location, strict bool) time.Time {
	_, off := t.In(loc).Zone()
	local := t.Unix() + int64(off)
	if !strict && t.Nanosecond() == 0 && mod(local, period) == 0 {
		return t
	}
	return time.Unix(local-mod(local, period)+period-int64(off), 0).In(loc)
}

func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}
