package message

import (
	"strconv"
	"strings"
	"time"
)

// Style is how long the words of a date are.
type Style int

const (
	// Long writes whole words: "Tuesday 1 December 2026, 14:00 CET",
	// "mardi 1er décembre 2026 à 14:00 (CET)".
	Long Style = iota
	// Short writes abbreviations with characters of the GSM-7 alphabet
	// only, so that a date does not turn a text message into UCS-2:
	// "Tue 1 Dec 2026 14:00 CET", "mar. 1er déc. 2026 14h00 CET".
	Short
)

// names are the day and month names of one style and language.
type names struct {
	days   [7]string
	months [12]string
}

var (
	longEn = names{
		days:   [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	}
	longFr = names{
		days:   [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		months: [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	}
	shortEn = names{
		days:   [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		months: [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	}
	// "aout" is the 1990 spelling of "août": û is not in the GSM alphabet.
	shortFr = names{
		days:   [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
		months: [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "aout", "sept.", "oct.", "nov.", "déc."},
	}
)

// TimeFormat writes dates and times for one locale, in one time zone, in
// one [Style].
type TimeFormat struct {
	style      Style
	french     bool // French words and order; English otherwise
	monthFirst bool // "Tuesday, December 1, 2026" (English only)
	hour12     bool // "4:00 PM" (English only)
	names      *names
	loc        *time.Location
}

// NewTimeFormat returns the format for a lower-case locale tag ("en-us")
// whose language is lang ("en", "fr"), in zone loc (nil: UTC). English
// writes the month first in the United States and the Philippines, and a
// 12-hour clock there and in Canada, Australia, New Zealand and India.
func NewTimeFormat(style Style, lang, tag string, loc *time.Location) TimeFormat {
	if loc == nil {
		loc = time.UTC
	}
	f := TimeFormat{style: style, french: lang == "fr", loc: loc}
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
	switch {
	case style == Short && f.french:
		f.names = &shortFr
	case style == Short:
		f.names = &shortEn
	case f.french:
		f.names = &longFr
	default:
		f.names = &longEn
	}
	return f
}

// Location is the zone times are shown in.
func (f TimeFormat) Location() *time.Location { return f.loc }

// Date is t's date in the recipient's zone.
func (f TimeFormat) Date(t time.Time) string { return f.date(t.In(f.loc)) }

// Time is t's time of day and zone in the recipient's zone.
func (f TimeFormat) Time(t time.Time) string {
	t = t.In(f.loc)
	return f.clock(t) + " " + Zone(t)
}

// DateTime is t's date, time and zone in the recipient's zone.
func (f TimeFormat) DateTime(t time.Time) string {
	t = t.In(f.loc)
	switch {
	case f.style == Short:
		return f.date(t) + " " + f.clock(t) + " " + Zone(t)
	case f.french:
		return f.date(t) + " à " + f.clock(t) + " (" + Zone(t) + ")"
	default:
		return f.date(t) + ", " + f.clock(t) + " " + Zone(t)
	}
}

// Span writes when an event happens, "" when start is zero. All-day
// events keep their dates (a date has no zone; end is exclusive); timed
// ones are shown in the recipient's zone.
func (f TimeFormat) Span(start, end time.Time, allDay bool) string {
	if start.IsZero() {
		return ""
	}
	if allDay {
		return f.daySpan(start, end)
	}
	if end.IsZero() || !end.After(start) {
		return f.DateTime(start)
	}
	s, e := start.In(f.loc), end.In(f.loc)
	sameDay := SameDay(s, e)
	switch {
	case f.style == Short && sameDay:
		return f.date(s) + " " + f.clock(s) + "-" + f.clock(e) + " " + Zone(e)
	case f.style == Short:
		return f.DateTime(s) + " - " + f.DateTime(e)
	case f.french && sameDay:
		return f.date(s) + ", de " + f.clock(s) + " à " + f.clock(e) + " (" + Zone(e) + ")"
	case f.french:
		return "du " + f.date(s) + " à " + f.clock(s) + " au " + f.date(e) + " à " + f.clock(e) + " (" + Zone(e) + ")"
	case sameDay:
		return f.date(s) + ", " + f.clock(s) + "–" + f.clock(e) + " " + Zone(e)
	default:
		return f.date(s) + ", " + f.clock(s) + " – " + f.date(e) + ", " + f.clock(e) + " " + Zone(e)
	}
}

// daySpan writes the dates of an all-day event from start to end
// (exclusive).
func (f TimeFormat) daySpan(start, end time.Time) string {
	last := start
	if !end.IsZero() && end.After(start) {
		last = end.AddDate(0, 0, -1)
	}
	if SameDay(start, last) || last.Before(start) {
		switch {
		case f.french && f.style == Short:
			return f.date(start) + " (journée)"
		case f.french:
			return f.date(start) + " (toute la journée)"
		default:
			return f.date(start) + " (all day)"
		}
	}
	switch {
	case f.french:
		return "du " + f.date(start) + " au " + f.date(last)
	case f.style == Short:
		return f.date(start) + " - " + f.date(last)
	default:
		return f.date(start) + " – " + f.date(last)
	}
}

// date writes t's calendar date as it is (no zone conversion).
func (f TimeFormat) date(t time.Time) string {
	y, m, d := t.Date()
	day, month := f.names.days[t.Weekday()], f.names.months[m-1]
	switch {
	case f.french:
		dd := strconv.Itoa(d)
		if d == 1 {
			dd = "1er"
		}
		return day + " " + dd + " " + month + " " + strconv.Itoa(y)
	case f.monthFirst && f.style == Short:
		return day + " " + month + " " + strconv.Itoa(d) + ", " + strconv.Itoa(y)
	case f.monthFirst:
		return day + ", " + month + " " + strconv.Itoa(d) + ", " + strconv.Itoa(y)
	default:
		return day + " " + strconv.Itoa(d) + " " + month + " " + strconv.Itoa(y)
	}
}

// clock writes t's time of day as it is (no zone conversion): "15:04",
// "3:04 PM", or in the short style in French "15h04".
func (f TimeFormat) clock(t time.Time) string {
	switch {
	case f.french && f.style == Short:
		return strconv.Itoa(t.Hour()) + t.Format("h04")
	case f.hour12:
		return t.Format("3:04 PM")
	default:
		return t.Format("15:04")
	}
}

// Zone names t's zone: its abbreviation, or UTC±hh:mm when the zone
// database has none.
func Zone(t time.Time) string {
	name, off := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		if off == 0 {
			return "UTC"
		}
		return "UTC" + t.Format("-07:00")
	}
	return name
}

// SameDay reports whether a and b fall on the same calendar date, each in
// its own zone.
func SameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// fromTo writes the two sides of a time's change: dates for all-day
// ones; otherwise date, time and zone, the zone said once when both have
// it and the date once when both are the same day. A zero side is "".
func (f TimeFormat) fromTo(from, to time.Time, allDay bool) (string, string) {
	switch {
	case from.IsZero() && to.IsZero():
		return "", ""
	case from.IsZero():
		return "", f.when(to, allDay)
	case to.IsZero():
		return f.when(from, allDay), ""
	case allDay:
		return f.date(from), f.date(to)
	}
	a, b := from.In(f.loc), to.In(f.loc)
	zoneA, zoneB := Zone(a), Zone(b)
	fromText := f.dateClock(a)
	if zoneA != zoneB {
		fromText = f.withZone(fromText, zoneA)
	}
	if SameDay(a, b) {
		return fromText, f.withZone(f.clock(b), zoneB)
	}
	return fromText, f.withZone(f.dateClock(b), zoneB)
}

// dateClock writes t's date and time of day as it is, without its zone.
func (f TimeFormat) dateClock(t time.Time) string {
	switch {
	case f.style == Short:
		return f.date(t) + " " + f.clock(t)
	case f.french:
		return f.date(t) + " à " + f.clock(t)
	default:
		return f.date(t) + ", " + f.clock(t)
	}
}

// withZone adds a zone's name to a time as [TimeFormat.DateTime] does.
func (f TimeFormat) withZone(s, zone string) string {
	if f.french && f.style != Short {
		return s + " (" + zone + ")"
	}
	return s + " " + zone
}

// brief writes t in a few words: its weekday, date and time of day in the
// recipient's zone without the zone's name, its year only when t is not
// within the year after ref (or ref is zero), its date alone when allDay.
// It is "" when t is zero.
func (f TimeFormat) brief(t time.Time, allDay bool, ref time.Time) string {
	if t.IsZero() {
		return ""
	}
	if !allDay {
		t = t.In(f.loc)
	}
	date := f.date(t)
	if !ref.IsZero() {
		if d := t.Sub(ref); d > -31*24*time.Hour && d < 300*24*time.Hour {
			year := t.Format("2006")
			date = strings.TrimSuffix(strings.TrimSuffix(date, ", "+year), " "+year)
		}
	}
	if allDay {
		return date
	}
	return date + " " + f.clock(t)
}
