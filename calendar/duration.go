package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is an iCalendar DURATION value (RFC 5545 section 3.3.6): a
// nominal part in days (weeks count as 7 days) and an exact part.
//
// The day part is nominal: added to a time, it moves the wall clock by
// whole days in that time's zone, so "-P1D" before 09:00 is 09:00 the day
// before even across a change to or from daylight time. The exact part is
// added afterwards as elapsed time. go-ical's Prop.Duration reads "P1D" as
// 24 hours; see TestGoICalDurationIsExact.
type Duration struct {
	Days int
	Time time.Duration
}

// maxDurationDays bounds a duration's day part (about 27 years), so that
// arithmetic on it cannot overflow.
const maxDurationDays = 10000

// ParseDuration reads a DURATION value such as "-PT15M", "P1D", "P2W" or
// "P1DT2H30M". It accepts lower case and weeks mixed with days, which some
// clients write.
func ParseDuration(s string) (Duration, error) {
	orig := s
	s = strings.ToUpper(strings.TrimSpace(s))
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return Duration{}, fmt.Errorf("bad duration %q", orig)
	}
	s = s[1:]
	var d Duration
	inTime, seen, timeSeen := false, false, false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return Duration{}, fmt.Errorf("bad duration %q", orig)
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return Duration{}, fmt.Errorf("bad duration %q", orig)
		}
		n, _ := strconv.Atoi(s[:i])
		unit := s[i]
		s = s[i+1:]
		switch {
		case !inTime && unit == 'W':
			d.Days += 7 * n
		case !inTime && unit == 'D':
			d.Days += n
		case inTime && unit == 'H':
			d.Time += time.Duration(n) * time.Hour
			timeSeen = true
		case inTime && unit == 'M':
			d.Time += time.Duration(n) * time.Minute
			timeSeen = true
		case inTime && unit == 'S':
			d.Time += time.Duration(n) * time.Second
			timeSeen = true
		default:
			return Duration{}, fmt.Errorf("bad duration %q", orig)
		}
		if d.Days > maxDurationDays || d.Time > maxDurationDays*24*time.Hour {
			return Duration{}, fmt.Errorf("duration %q too long", orig)
		}
		seen = true
	}
	if !seen || (inTime && !timeSeen) {
		return Duration{}, fmt.Errorf("bad duration %q", orig)
	}
	if neg {
		d.Days, d.Time = -d.Days, -d.Time
	}
	return d, nil
}

// AddTo returns t moved by d: first the days on t's wall clock in t's
// location (a nonexistent or repeated wall time read as RFC 5545 says),
// then the exact part.
func (d Duration) AddTo(t time.Time) time.Time {
	if d.Days != 0 {
		t = inZone(wallOf(t).AddDate(0, 0, d.Days), t.Location())
	}
	return t.Add(d.Time)
}

// Approx is d as elapsed time, counting a day as 24 hours: good for
// bounds, not for arithmetic on times.
func (d Duration) Approx() time.Duration {
	return time.Duration(d.Days)*24*time.Hour + d.Time
}

// IsZero reports a zero duration.
func (d Duration) IsZero() bool { return d.Days == 0 && d.Time == 0 }

// String is the canonical DURATION text of d, such as "-P1DT2H" or "PT0S".
func (d Duration) String() string {
	if d.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	days, exact := d.Days, d.Time
	if days < 0 || (days == 0 && exact < 0) {
		b.WriteByte('-')
		days, exact = -days, -exact
	}
	b.WriteByte('P')
	if days != 0 {
		b.WriteString(strconv.Itoa(days))
		b.WriteByte('D')
	}
	if exact != 0 {
		b.WriteByte('T')
		if exact < 0 { // mixed signs, which no parsed value has
			b.WriteByte('-')
			exact = -exact
		}
		h, m, s := int(exact/time.Hour), int(exact%time.Hour/time.Minute), int(exact%time.Minute/time.Second)
		if h != 0 {
			b.WriteString(strconv.Itoa(h) + "H")
		}
		if m != 0 {
			b.WriteString(strconv.Itoa(m) + "M")
		}
		if s != 0 || (h == 0 && m == 0) {
			b.WriteString(strconv.Itoa(s) + "S")
		}
	}
	return b.String()
}
