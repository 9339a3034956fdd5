package im

import (
	"strconv"
	"strings"
	"time"
)

// timeFormat writes dates and times for one locale, in one time zone: the
// same conventions as the email channel's messages, so that a pop-up and
// its fallback email agree.
type timeFormat struct {
	french     bool // French words and order; English otherwise
	monthFirst bool // "Tuesday, December 1, 2026" (English only)
	hour12     bool // "4:00 PM" (English only)
	loc        *time.Location
}

var (
	enDays   = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	enMonths = [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	frDays   = [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// newTimeFormat returns the format for a lower-case locale tag ("en-us")
// whose language is lang, in zone loc.
func newTimeFormat(lang, tag string, loc *time.Location) timeFormat {
	f := timeFormat{french: lang == "fr", loc: loc}
	if lang == "en" {
		region := ""
		if i := strings.LastIndexAny(tag, "-_"); i >= 0 {
			region = tag[i+1:]
		}
		switch region {
		case "us", "ph":
			f.monthFirst, f.hour12 = true, true
		case "ca", "au", "nz", "in":
			f.hour12 = true
		}
	}
	return f
}

// in converts t to the recipient's zone.
func (f timeFormat) in(t time.Time) time.Time {
	if f.loc == nil {
		return t.UTC()
	}
	return t.In(f.loc)
}

// date writes t's calendar date as it is (no zone conversion).
func (f timeFormat) date(t time.Time) string {
	y, m, d := t.Date()
	wd := t.Weekday()
	switch {
	case f.french:
		day := strconv.Itoa(d)
		if d == 1 {
			day = "1er"
		}
		return frDays[wd] + " " + day + " " + frMonths[m-1] + " " + strconv.Itoa(y)
	case f.monthFirst:
		return enDays[wd] + ", " + enMonths[m-1] + " " + strconv.Itoa(d) + ", " + strconv.Itoa(y)
	default:
		return enDays[wd] + " " + strconv.Itoa(d) + " " + enMonths[m-1] + " " + strconv.Itoa(y)
	}
}

// clock writes t's time of day as it is (no zone conversion).
func (f timeFormat) clock(t time.Time) string {
	if f.hour12 {
		return t.Format("3:04 PM")
	}
	return t.Format("15:04")
}

// zone names t's zone: its abbreviation, or UTC±hh[:mm] when the zone
// database has none.
func zone(t time.Time) string {
	name, off := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		if off == 0 {
			return "UTC"
		}
		return "UTC" + t.Format("-07:00")
	}
	return name
}

// Date is t's date in the recipient's zone.
func (f timeFormat) Date(t time.Time) string { return f.date(f.in(t)) }

// Time is t's time of day and zone in the recipient's zone.
func (f timeFormat) Time(t time.Time) string {
	t = f.in(t)
	return f.clock(t) + " " + zone(t)
}

// DateTime is t's date, time and zone in the recipient's zone.
func (f timeFormat) DateTime(t time.Time) string {
	t = f.in(t)
	if f.french {
		return f.date(t) + " à " + f.clock(t) + " (" + zone(t) + ")"
	}
	return f.date(t) + ", " + f.clock(t) + " " + zone(t)
}

// span writes when an event happens. All-day events keep their dates (a
// date has no zone; End is exclusive); timed ones are shown in the
// recipient's zone.
func (f timeFormat) span(start, end time.Time, allDay bool) string {
	if start.IsZero() {
		return ""
	}
	if allDay {
		first, last := start, start
		if !end.IsZero() && end.After(start) {
			last = end.AddDate(0, 0, -1)
		}
		if sameDay(first, last) || last.Before(first) {
			if f.french {
				return f.date(first) + " (toute la journée)"
			}
			return f.date(first) + " (all day)"
		}
		if f.french {
			return "du " + f.date(first) + " au " + f.date(last)
		}
		return f.date(first) + " – " + f.date(last)
	}
	s := f.in(start)
	if end.IsZero() || !end.After(start) {
		return f.DateTime(start)
	}
	e := f.in(end)
	if sameDay(s, e) {
		if f.french {
			return f.date(s) + ", de " + f.clock(s) + " à " + f.clock(e) + " (" + zone(e) + ")"
		}
		return f.date(s) + ", " + f.clock(s) + "–" + f.clock(e) + " " + zone(e)
	}
	if f.french {
		return "du " + f.date(s) + " à " + f.clock(s) + " au " + f.date(e) + " à " + f.clock(e) + " (" + zone(e) + ")"
	}
	return f.date(s) + ", " + f.clock(s) + " – " + f.date(e) + ", " + f.clock(e) + " " + zone(e)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
