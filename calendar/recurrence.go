package calendar

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Recurrence is what makes a master recur, as read: its RRULEs (those
// that could be read), RDATEs and EXDATEs. Package calendar/change
// compares two of them and writes a rule in words.
type Recurrence struct {
	Rules []Rule
	// RDates are the RDATE values (each item of a list), by time.
	RDates []RDate
	// ExDates are the EXDATE values, by time, each once: a DATE at
	// midnight of that date in the default location, any other in UTC.
	ExDates []Time
}

// RDate is one RDATE value.
type RDate struct {
	At Time
	// End is a PERIOD's end; zero for a DATE or DATE-TIME value.
	End Time
}

// Rule is one RRULE as read, after the repairs Parse makes (a COUNT=0 or
// a rule no time can meet is Never; BYSETPOS values no period can reach
// are left out).
type Rule struct {
	// Freq is "YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY",
	// "MINUTELY" or "SECONDLY".
	Freq string
	// Interval is INTERVAL, 1 when absent.
	Interval int
	// Count is COUNT, 0 when absent.
	Count int
	// Until is UNTIL, zero when absent: a DATE (midnight in DTSTART's
	// zone), a UTC time, or a floating time read in DTSTART's zone.
	Until Time
	// WeekStart is WKST ("MO" when absent).
	WeekStart string
	// ByDay is BYDAY.
	ByDay []WeekdayNum
	// The other BY… parts, as written.
	ByMonth, ByMonthDay, ByYearDay, ByWeekNo, ByHour, ByMinute, BySecond, BySetPos []int
	// Never reports a rule that yields no instance besides DTSTART.
	Never bool
}

// WeekdayNum is one BYDAY value: a weekday, and with Nth (not 0) the
// nth one of the month or year ("-1FR": the last Friday).
type WeekdayNum struct {
	Nth int
	Day time.Weekday
}

// String is the BYDAY text, "TU" or "-1FR".
func (w WeekdayNum) String() string {
	day := [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}[w.Day%7]
	if w.Nth == 0 {
		return day
	}
	return strconv.Itoa(w.Nth) + day
}

// String is the rule as a canonical RRULE value: its parts in a fixed
// order, each list sorted, INTERVAL=1 and WKST=MO left out, UNTIL as its
// ID ("20261201T090000Z" or a date). Two rules that recur alike as
// written compare equal.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString("FREQ=" + r.Freq)
	if r.Interval > 1 {
		b.WriteString(";INTERVAL=" + strconv.Itoa(r.Interval))
	}
	if r.Count > 0 {
		b.WriteString(";COUNT=" + strconv.Itoa(r.Count))
	}
	if !r.Until.IsZero() {
		b.WriteString(";UNTIL=" + r.Until.ID())
	}
	if len(r.ByDay) > 0 {
		days := slices.Clone(r.ByDay)
		slices.SortFunc(days, func(a, b WeekdayNum) int {
			if a.Nth != b.Nth {
				return a.Nth - b.Nth
			}
			return int((a.Day+6)%7) - int((b.Day+6)%7) // Monday first
		})
		days = slices.Compact(days)
		b.WriteString(";BYDAY=")
		for i, d := range days {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(d.String())
		}
	}
	for _, part := range []struct {
		name string
		v    []int
	}{
		{"BYMONTH", r.ByMonth}, {"BYMONTHDAY", r.ByMonthDay}, {"BYYEARDAY", r.ByYearDay},
		{"BYWEEKNO", r.ByWeekNo}, {"BYHOUR", r.ByHour}, {"BYMINUTE", r.ByMinute},
		{"BYSECOND", r.BySecond}, {"BYSETPOS", r.BySetPos},
	} {
		if len(part.v) == 0 {
			continue
		}
		v := slices.Compact(slices.Sorted(slices.Values(part.v)))
		b.WriteString(";" + part.name + "=")
		for i, n := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
	}
	if r.WeekStart != "" && r.WeekStart != "MO" {
		b.WriteString(";WKST=" + r.WeekStart)
	}
	return b.String()
}

// Recurrence returns the master's RRULEs, RDATEs and EXDATEs; it is
// empty for an override (whose own recurrence properties are not read).
func (c *Component) Recurrence() Recurrence {
	var rec Recurrence
	anchorLoc := c.anchor().Location()
	for _, r := range c.rules {
		rec.Rules = append(rec.Rules, r.exported(anchorLoc))
	}
	for _, rd := range c.rdates {
		rec.RDates = append(rec.RDates, RDate{At: rd.at, End: rd.end})
	}
	slices.SortStableFunc(rec.RDates, func(a, b RDate) int { return a.At.Compare(b.At.Time) })
	e := &c.ex
	for unix := range e.instants {
		rec.ExDates = append(rec.ExDates, Time{Time: time.Unix(unix, 0).UTC()})
	}
	for d := range e.dates {
		loc := e.loc
		if loc == nil {
			loc = time.UTC
		}
		wall := time.Date(d[0], time.Month(d[1]), d[2], 0, 0, 0, 0, time.UTC)
		rec.ExDates = append(rec.ExDates, Time{Time: inZone(wall, loc), Date: true})
	}
	slices.SortFunc(rec.ExDates, func(a, b Time) int {
		if c := a.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID(), b.ID())
	})
	return rec
}

// exported is the rule as a Rule; loc is DTSTART's zone, for a floating
// or DATE UNTIL.
func (r *rule) exported(loc *time.Location) Rule {
	o := r.opt
	out := Rule{
		Freq: o.Freq.String(), Interval: max(o.Interval, 1), Count: o.Count,
		WeekStart: o.Wkst.String(), Never: r.never,
		ByMonth: slices.Clone(o.Bymonth), ByMonthDay: slices.Clone(o.Bymonthday),
		ByYearDay: slices.Clone(o.Byyearday), ByWeekNo: slices.Clone(o.Byweekno),
		ByHour: slices.Clone(o.Byhour), ByMinute: slices.Clone(o.Byminute),
		BySecond: slices.Clone(o.Bysecond), BySetPos: slices.Clone(o.Bysetpos),
	}
	for _, d := range o.Byweekday {
		// rrule-go counts days from Monday (0); time.Weekday from Sunday.
		out.ByDay = append(out.ByDay, WeekdayNum{Nth: d.N(), Day: time.Weekday((d.Day() + 1) % 7)})
	}
	if r.hasUntil {
		u := r.until
		switch {
		case u.utc:
			out.Until = Time{Time: u.wall()}
		case u.date:
			out.Until = Time{Time: inZone(u.wall(), loc), Date: true}
		default:
			out.Until = Time{Time: inZone(u.wall(), loc), Floating: true}
		}
	}
	return out
}
