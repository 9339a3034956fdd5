package sms

import (
	"strconv"
	"strings"
	"time"
)

// timeFormat writes short dates and times for one locale, in one zone,
// with characters of the GSM-7 alphabet only (so that a date does not turn
// a message into UCS-2).
type timeFormat struct {
	french     bool // French words and order; English otherwise
	monthFirst bool // "Tue Dec 1, 2026" (English only)
	hour12     bool // "2:00 PM" (English only)
	loc        *time.Location
}

var (
	enDays   = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	enMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	frDays   = [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}
	// "aout" is the 1990 spelling of "août": û is not in the GSM alphabet.
	frMonths = [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "aout", "sept.", "oct.", "nov.", "déc."}
)

// newTimeFormat returns the format for a lower-case locale tag ("en-us")
// whose language is lang, in zone loc (nil: UTC).
func newTimeFormat(lang, tag string, loc *time.Location) timeFormat {
	if loc == nil {
		loc = time.UTC
	}
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

// date writes t's calendar date as it is: "Tue 1 Dec 2026",
// "Tue Dec 1, 2026", "mar. 1er déc. 2026".
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
		return enDays[wd] + " " + enMonths[m-1] + " " + strconv.Itoa(d) + ", " + strconv.Itoa(y)
	default:
		return enDays[wd] + " " + strconv.Itoa(d) + " " + enMonths[m-1] + " " + strconv.Itoa(y)
	}
}

// clock writes t's time of day: "09:00", "9:00 AM", "9h00".
func (f timeFormat) clock(t time.Time) string {
	switch {
	case f.french:
		return strconv.Itoa(t.Hour()) + t.Format("h04")
	case f.hour12:
		return t.Format("3:04 PM")
	}
	return t.Format("15:04")
}

// zone names t's zone: its abbreviation, or UTC±hh:mm when the zone
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

// dateTime writes t's date, time and zone in the recipient's zone.
func (f timeFormat) dateTime(t time.Time) string {
	t = t.In(f.loc)
	return f.date(t) + " " + f.clock(t) + " " + zone(t)
}

// span writes when an event happens. All-day events keep their dates (a
// date has no zone; End is exclusive); timed ones are shown in the
// recipient's zone.
func (f timeFormat) span(start, end time.Time, allDay bool) string {
	if start.IsZero() {
		return ""
	}
	sameDay := func(a, b time.Time) bool {
		ay, am, ad := a.Date()
		by, bm, bd := b.Date()
		return ay == by && am == bm && ad == bd
	}
	if allDay {
		last := start
		if !end.IsZero() && end.After(start) {
			last = end.AddDate(0, 0, -1)
		}
		if sameDay(start, last) || last.Before(start) {
			if f.french {
				return f.date(start) + " (journée)"
			}
			return f.date(start) + " (all day)"
		}
		if f.french {
			return "du " + f.date(start) + " au " + f.date(last)
		}
		return f.date(start) + " - " + f.date(last)
	}
	if end.IsZero() || !end.After(start) {
		return f.dateTime(start)
	}
	s, e := start.In(f.loc), end.In(f.loc)
	if sameDay(s, e) {
		return f.date(s) + " " + f.clock(s) + "-" + f.clock(e) + " " + zone(e)
	}
	return f.dateTime(s) + " - " + f.dateTime(e)
}
