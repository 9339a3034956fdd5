package message

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// Reminder is the alarm of a reminder as templates see it
// ([View].Reminder): when the event starts or the task is due, said
// relative to when the reminder is sent, and what the alarm adds. Times
// are in the recipient's zone and language, in the style of the
// channel's [TimeFormat].
type Reminder struct {
	// Task is true for a task's reminder, false for an event's.
	Task bool
	// Day is "today" or "tomorrow" when the event starts (the task is
	// due) on the day the reminder is sent or the next one, in the
	// recipient's zone; "" on another day, or when that is not known.
	Day string
	// Date is the day the event starts (the task is due): "Tuesday 1
	// December 2026". At is its time of day without zone ("09:00",
	// "9:00 AM", "9h00"), "" when all-day; Until is the end's time of day
	// when an event ends the same day. All are "" when there is no time.
	Date, At, Until string
	// Due is a task's due date and time ("Tuesday 1 December 2026, 17:00
	// CET"; its date alone when all-day), Start a task's start; "" when
	// it has none. An event's times are in [Event].When.
	Due, Start string
	// Text is the alarm's own text (its DESCRIPTION) when it says more
	// than the summary: "" when it repeats it or is a client's
	// placeholder ("Default Mozilla Description", "This is an event
	// reminder").
	Text string
	// Description is the event's or task's description, line by line,
	// each line cleaned (runs of blank lines shrink to one).
	Description []string
	// Rang is when the alarm rang: its time of day and zone ("08:45
	// CET"), with its date when that was not the day the reminder is
	// sent.
	Rang string
	// LateMinutes is how late the reminder is sent, in whole minutes (at
	// least 1 when it is late at all); 0 when on time.
	LateMinutes int64
	// Snooze is true for an alarm ringing again after a snooze.
	Snooze bool
	// Action is the alarm's ACTION in upper case: DISPLAY, EMAIL, AUDIO.
	Action string
}

// Reminder describes n's reminder (nil when n has none) with times
// written by tf.
func (c Cleaner) Reminder(n *notifyd.Notification, tf TimeFormat) *Reminder {
	r := n.Reminder
	if r == nil {
		return nil
	}
	var e notifyd.Event
	if n.Event != nil {
		e = *n.Event
	}
	v := &Reminder{
		Task:        IsTask(r),
		Text:        c.alarmText(r.Text, e.Summary),
		Description: c.Lines(r.Description),
		Snooze:      r.Snooze,
		Action:      c.Line(strings.ToUpper(r.Action)),
	}
	if r.LateSeconds > 0 {
		v.LateMinutes = max((r.LateSeconds+30)/60, 1)
	}
	var sent time.Time
	if !r.Trigger.IsZero() {
		sent = r.Trigger.Add(time.Duration(r.LateSeconds) * time.Second).In(tf.loc)
		if rang := r.Trigger.In(tf.loc); SameDay(rang, sent) {
			v.Rang = tf.Time(rang)
		} else {
			v.Rang = tf.DateTime(rang)
		}
	}
	at := e.Start
	if v.Task {
		if !r.Due.IsZero() {
			at, v.Due = r.Due, tf.when(r.Due, e.AllDay)
		}
		if !e.Start.IsZero() {
			v.Start = tf.when(e.Start, e.AllDay)
		}
	}
	if at.IsZero() {
		return v
	}
	day := at // an all-day date is the same everywhere
	if !e.AllDay {
		day = at.In(tf.loc)
		v.At = tf.clock(day)
		if end := e.End.In(tf.loc); !v.Task && e.End.After(e.Start) && SameDay(day, end) {
			v.Until = tf.clock(end)
		}
	}
	v.Date = tf.date(day)
	if !sent.IsZero() {
		switch daysBetween(sent, day) {
		case 0:
			v.Day = "today"
		case 1:
			v.Day = "tomorrow"
		}
	}
	return v
}

// IsTask reports whether r rings for a task (Component "task") rather
// than an event.
func IsTask(r *notifyd.Reminder) bool { return r != nil && strings.EqualFold(r.Component, "task") }

// when writes t as a date and time, or as its date alone when allDay.
func (f TimeFormat) when(t time.Time, allDay bool) string {
	if allDay {
		return f.date(t)
	}
	return f.DateTime(t)
}

// daysBetween is the number of calendar days from a's date to b's, each
// date as it is in its own zone.
func daysBetween(a, b time.Time) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(b).Sub(day(a)).Hours() / 24)
}

// placeholders are alarm texts clients write when the user wrote none,
// in lower case without end punctuation.
var placeholders = map[string]bool{
	"default mozilla description": true, // Thunderbird
	"this is an event reminder":   true, // Google Calendar, Nextcloud
	"reminder":                    true,
	"event reminder":              true,
	"alarm":                       true,
	"alarm notification":          true,
	"rappel":                      true,
}

// alarmText is an alarm's text cleaned to one line, or "" when it only
// repeats the summary or is a placeholder.
func (c Cleaner) alarmText(text, summary string) string {
	t := c.Line(text)
	key := func(s string) string { return strings.ToLower(strings.Trim(s, " .!:…")) }
	if k := key(t); k == "" || placeholders[k] || k == key(c.Line(summary)) {
		return ""
	}
	return t
}

// allDayDates returns n with the dates of an all-day event or task (and
// of an update's all-day changes) as notifyd.Event has them, midnight
// UTC of each date, when they came as the instants their local midnight
// is (how calendar/alarm gives a reminder's instance: 24 December in
// Paris as 23 December, 23:00 UTC). Such a date is read in the reminder's
// or the update's time zone, else taken as the nearest midnight UTC. n is
// returned as is when its dates are already dates; otherwise a copy is.
func allDayDates(n *notifyd.Notification) *notifyd.Notification {
	if n == nil {
		return n
	}
	var times []*time.Time // the dates to read, in the copy c
	c := *n
	tz := ""
	if n.Event != nil && n.Event.AllDay {
		e := *n.Event
		c.Event = &e
		times = append(times, &e.Start, &e.End, &e.Due)
	}
	if n.Reminder != nil {
		r := *n.Reminder
		c.Reminder = &r
		tz = r.TimeZone
		if n.Event != nil && n.Event.AllDay {
			times = append(times, &r.Due)
		}
	}
	if n.Update != nil {
		u := *n.Update
		c.Update = &u
		tz = cmpOr(tz, u.TimeZone)
		u.Fields = append([]notifyd.FieldChange(nil), u.Fields...)
		for i := range u.Fields {
			if f := &u.Fields[i]; f.AllDay {
				times = append(times, &f.FromTime, &f.ToTime)
			}
		}
	}
	isDate := func(t time.Time) bool { return t.IsZero() || t.UTC().Truncate(24*time.Hour).Equal(t) }
	dates := true
	for _, t := range times {
		dates = dates && isDate(*t)
	}
	if dates {
		return n
	}
	var loc *time.Location
	if tz != "" {
		loc, _ = time.LoadLocation(tz)
	}
	for _, t := range times {
		if isDate(*t) {
			continue
		}
		if loc != nil {
			if l := t.In(loc); l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 {
				y, m, d := l.Date()
				*t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
				continue
			}
		}
		*t = t.UTC().Add(12 * time.Hour).Truncate(24 * time.Hour)
	}
	return &c
}
