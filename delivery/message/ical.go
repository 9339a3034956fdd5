package message

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// ICalText escapes s as an iCalendar TEXT value (RFC 5545, 3.3.11): the
// backslash, semicolon and comma are escaped, line breaks become "\n"
// and other control characters go.
func ICalText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ';':
			b.WriteString(`\;`)
		case ',':
			b.WriteString(`\,`)
		case '\n':
			b.WriteString(`\n`)
		case '\r', utf8.RuneError:
		default:
			if r < ' ' || r == 0x7f {
				continue // CONTROL characters are not allowed in TEXT
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ICalUTC writes t as an iCalendar DATE-TIME in UTC ("20261201T150000Z").
func ICalUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// ICalDate writes t's calendar date as an iCalendar DATE ("20261201"),
// without zone conversion (all-day events keep their dates).
func ICalDate(t time.Time) string { return t.Format("20060102") }

// MaxICalLine is the longest iCalendar content line, in octets, before
// it is folded (RFC 5545, 3.1).
const MaxICalLine = 75

// FoldICal writes content lines as an iCalendar stream: each folded into
// lines of at most [MaxICalLine] octets (continuations start with a
// space), never inside a UTF-8 sequence, each ended by CRLF.
func FoldICal(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		limit := MaxICalLine
		for len(l) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			b.WriteString(l[:cut])
			b.WriteString("\r\n ")
			l = l[cut:]
			limit = MaxICalLine - 1 // the leading space counts
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.String()
}

// recurrenceID is a RECURRENCE-ID value notifyd writes: a DATE, a UTC
// DATE-TIME or a local one.
var recurrenceID = regexp.MustCompile(`^[0-9]{8}(T[0-9]{6}Z?)?$`)

// ReminderCalendar is the iCalendar object (RFC 5545) of the event or
// task instance a reminder rings for, as content lines not yet folded
// (see [FoldICal]): a VCALENDAR with METHOD:PUBLISH and one VEVENT, or
// VTODO for a task, with UID, DTSTAMP (stamp), RECURRENCE-ID for an
// instance of a recurring one, DTSTART and DTEND (an event), DTSTART when
// before DUE and DUE (a task), SUMMARY, LOCATION and DESCRIPTION. Times
// are in UTC, all-day ones are DATEs (read as [Cleaner.View] reads
// them). It is nil when n is not a reminder with its Reminder, has no
// UID, or has no time to show (an event without a start, a task without
// a start or due time).
func ReminderCalendar(n *notifyd.Notification, stamp time.Time) []string {
	if n == nil || n.Type != notifyd.TypeReminder || n.Reminder == nil {
		return nil
	}
	n = allDayDates(n)
	r := n.Reminder
	o := calObject{uid: r.UID, rid: r.RecurrenceID, tz: r.TimeZone, task: IsTask(r), due: r.Due,
		description: r.Description, prodID: "-//notifyd//notifyd reminders//EN"}
	if n.Event != nil {
		o.e = *n.Event
	}
	return o.lines(stamp)
}

// UpdateCalendar is the iCalendar object of the event or task a calendar
// update is about, as it is now, written as [ReminderCalendar] writes a
// reminder's (its UID and RECURRENCE-ID from the Update, else the
// event's UID; a task's DUE from its Due), with STATUS:CANCELLED when it
// was deleted or cancelled. It is nil when n is not an event's or task's
// update, or has no UID or no time to show.
func UpdateCalendar(n *notifyd.Notification, stamp time.Time) []string {
	if n == nil || !IsUpdate(n.Type) || n.Event == nil || strings.HasPrefix(string(n.Type), "calendar-") {
		return nil
	}
	n = allDayDates(n)
	o := calObject{e: *n.Event, task: strings.HasPrefix(string(n.Type), "todo-"), due: n.Event.Due,
		prodID: "-//notifyd//notifyd calendar updates//EN"}
	if u := n.Update; u != nil {
		o.uid, o.rid, o.tz = u.UID, u.RecurrenceID, u.TimeZone
		for _, f := range u.Fields {
			if strings.EqualFold(f.Field, notifyd.FieldStatus) && strings.EqualFold(strings.TrimSpace(f.To), "CANCELLED") {
				o.cancelled = true
			}
		}
	}
	o.cancelled = o.cancelled || strings.HasSuffix(string(n.Type), "-deleted")
	return o.lines(stamp)
}

// calObject is an event or task instance to write as an iCalendar
// object.
type calObject struct {
	e           notifyd.Event
	uid, rid    string // "" uid: the event's
	tz          string // the zone of a local rid
	task        bool
	due         time.Time
	description string
	cancelled   bool
	prodID      string
}

// lines writes o with DTSTAMP stamp (see [ReminderCalendar]), nil when
// it has no UID or no time to show.
func (o calObject) lines(stamp time.Time) []string {
	e := o.e
	uid := o.uid
	if uid == "" {
		uid = e.UID
	}
	if uid = ICalText(uid); uid == "" {
		return nil
	}
	if e.Start.IsZero() && (!o.task || o.due.IsZero()) {
		return nil
	}
	comp := "VEVENT"
	if o.task {
		comp = "VTODO"
	}
	when := func(name string, t time.Time) string {
		if e.AllDay {
			return name + ";VALUE=DATE:" + ICalDate(t)
		}
		return name + ":" + ICalUTC(t)
	}
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + o.prodID, "METHOD:PUBLISH",
		"BEGIN:" + comp, "UID:" + uid, "DTSTAMP:" + ICalUTC(stamp)}
	if rid := recurrenceIDLine(o.rid, o.tz); rid != "" {
		lines = append(lines, rid)
	}
	switch {
	case !o.task:
		lines = append(lines, when("DTSTART", e.Start))
		if e.End.After(e.Start) {
			lines = append(lines, when("DTEND", e.End))
		}
	default:
		if !e.Start.IsZero() && (o.due.IsZero() || o.due.After(e.Start)) {
			lines = append(lines, when("DTSTART", e.Start))
		}
		if !o.due.IsZero() {
			lines = append(lines, when("DUE", o.due))
		}
	}
	if s := ICalText(OneLine(e.Summary)); s != "" {
		lines = append(lines, "SUMMARY:"+s)
	}
	if s := ICalText(OneLine(e.Location)); s != "" {
		lines = append(lines, "LOCATION:"+s)
	}
	if s := ICalText(strings.Join(Cleaner{}.Lines(o.description), "\n")); s != "" {
		lines = append(lines, "DESCRIPTION:"+s)
	}
	if o.cancelled {
		lines = append(lines, "STATUS:CANCELLED")
	}
	return append(lines, "END:"+comp, "END:VCALENDAR")
}

// recurrenceIDLine is the RECURRENCE-ID property for id, "" when id is
// empty or not a DATE or DATE-TIME: a DATE stays one, a UTC DATE-TIME is
// kept, and a local one is turned into UTC in zone tz (an IANA name), or
// kept floating when tz is not one.
func recurrenceIDLine(id, tz string) string {
	if !recurrenceID.MatchString(id) {
		return ""
	}
	switch {
	case len(id) == 8:
		return "RECURRENCE-ID;VALUE=DATE:" + id
	case strings.HasSuffix(id, "Z"):
		return "RECURRENCE-ID:" + id
	}
	if tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			if t, err := time.ParseInLocation("20060102T150405", id, loc); err == nil {
				return "RECURRENCE-ID:" + ICalUTC(t)
			}
		}
	}
	return "RECURRENCE-ID:" + id
}
