package message

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// Update is a calendar update (an event, task or calendar created,
// modified or deleted) as templates see it ([View].Update). Times are in
// the recipient's zone and language, in the style of the channel's
// [TimeFormat].
type Update struct {
	// Component is "event", "todo" or "calendar"; Action is "created",
	// "modified" or "deleted".
	Component, Action string
	// Task is true for a task (todo).
	Task bool
	// Title is the event's or task's summary ("" when it has none); for
	// a calendar, its name (the new one, when renamed).
	Title string
	// When is an event's dates and times as they are now (as they were,
	// for a deletion; see [Event].When), a task's due time, else its
	// start.
	When string
	// Due and Start are a task's due time and start ("" when none).
	Due, Start string
	// Location is where the event or task takes place.
	Location string
	// Occurrence is the one occurrence of a recurring event or task the
	// update is about, its original date and time ("" for the whole
	// event or task).
	Occurrence string
	// By names who made the change, "" when not known.
	By string
	// Changes are what a modification changed, in the order messages
	// list them (none for a creation or deletion).
	Changes []FieldChange
	// Main is the change a headline leads with (see [FieldChange].Kind:
	// cancelled, uncancelled, completed, uncompleted, moved, start, end,
	// due, title; for a calendar, name), nil when there is none of those.
	Main *FieldChange
	// Rest are the Changes but Main, for a text that leads with Main.
	Rest []FieldChange
	// OldName is a renamed calendar's former name ("" when not renamed).
	OldName string
}

// FieldChange is one change of a modification as templates see it.
type FieldChange struct {
	// Kind says what a person reads:
	//
	//   - "moved": an event's start, and its end by as much (From and To
	//     are the starts), or both with its length changed (From and To
	//     are the spans);
	//   - "start", "end", "due": one time changed (From or To "" when it
	//     was added or removed); all-day ones are dates;
	//   - "title" (a calendar's: "name"), "location", "description",
	//     "recurrence": text (the recurrence's From and To may be ""
	//     when not given);
	//   - "cancelled", "uncancelled": the status set to, or from,
	//     CANCELLED;
	//   - "status": another status (From and To lower case:
	//     "tentative", "confirmed", "needs-action", "in-process",
	//     "completed");
	//   - "completed", "uncompleted": a task marked done (To: when, if
	//     known) or not done;
	//   - any other field's name, in lower case ([FieldChange].Label
	//     names it).
	Kind string
	// Label is the field's name made readable ([Humanize]), for a Kind
	// templates do not know.
	Label string
	// From and To are the values before and after, as people read them:
	// the later of two times on the same day only says the time of day.
	From, To string
	// Brief is To in a few words, for texts that must be short: a time
	// without its year (when near the notification's date) nor its zone
	// ("Wed 9 Dec 14:00"), a date alone for an all-day one; text as is.
	Brief string
}

// Update describes n's update with times written by tf: nil when n is
// not a calendar update ([IsUpdate]); one without its notifyd.Update is
// described from its type alone. event and calendar are n's event and calendar name as [View]
// has them; from names n's sender, who made the change when the update
// does not say.
func (c Cleaner) Update(n *notifyd.Notification, event *Event, calendar, from string, tf TimeFormat) *Update {
	if !IsUpdate(n.Type) {
		return nil
	}
	u := n.Update
	if u == nil {
		u = &notifyd.Update{}
	}
	typComp, typAction, _ := strings.Cut(string(n.Type), "-")
	v := &Update{
		Component: component(cmpOr(u.Component, typComp)),
		Action:    strings.ToLower(c.Line(cmpOr(u.Action, typAction))),
	}
	v.Task = v.Component == "todo"
	v.By, _ = c.Person(u.By)
	if v.By == "" {
		v.By = from
	}
	var e notifyd.Event
	if n.Event != nil {
		e = *n.Event
	}
	switch {
	case v.Component == "calendar":
		v.Title = calendar
	case event != nil:
		v.Title, v.Location, v.When = event.Summary, event.Location, event.When
	}
	if v.Title == "" && v.Component != "calendar" {
		v.Title = c.Line(n.Summary)
	}
	if v.Task {
		if !e.Due.IsZero() {
			v.Due = tf.when(e.Due, e.AllDay)
		}
		if !e.Start.IsZero() {
			v.Start = tf.when(e.Start, e.AllDay)
		}
		v.When = cmpOr(v.Due, v.Start)
	}
	v.Occurrence = occurrence(u.RecurrenceID, u.TimeZone, tf)
	if v.Action == "modified" {
		v.Changes = c.fieldChanges(u.Fields, v.Task, e, n.DTStamp, tf)
	}
	if v.Component == "calendar" {
		for i := range v.Changes {
			if ch := &v.Changes[i]; ch.Kind == "title" {
				ch.Kind = "name"
				v.OldName = ch.From
				v.Title = cmpOr(ch.To, v.Title)
			}
		}
	}
	main, kinds := -1, mainKinds
	if v.Component == "calendar" {
		kinds = []string{"name"} // a calendar has no time nor status
	}
	for _, kind := range kinds {
		for i := range v.Changes {
			if v.Changes[i].Kind == kind && main < 0 {
				main = i
			}
		}
	}
	v.Rest = v.Changes
	if main >= 0 {
		v.Main = &v.Changes[main]
		v.Rest = append(append([]FieldChange(nil), v.Changes[:main]...), v.Changes[main+1:]...)
	}
	return v
}

// mainKinds are the kinds of change a headline leads with, the first
// found in this order.
var mainKinds = []string{"cancelled", "uncancelled", "completed", "uncompleted", "moved", "start", "end", "due", "title", "name"}

// component names a component as [Update].Component does.
func component(s string) string {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "vevent":
		return "event"
	case "task", "vtodo":
		return "todo"
	}
	return OneLine(s)
}

// cmpOr is the first of a and b that is not "".
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// occurrence writes a RECURRENCE-ID ("20261201T090000Z", a local
// "20261201T100000" in zone tz, or a date "20261201") as people read it,
// "" when id is none of those.
func occurrence(id, tz string, tf TimeFormat) string {
	if !recurrenceID.MatchString(id) {
		return ""
	}
	if len(id) == 8 {
		t, _ := time.Parse("20060102", id)
		return tf.date(t)
	}
	loc := time.UTC
	if !strings.HasSuffix(id, "Z") {
		loc = tf.loc // a floating time is the recipient's
		if l, err := time.LoadLocation(tz); tz != "" && err == nil {
			loc = l
		}
	}
	t, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(id, "Z"), loc)
	if err != nil {
		return ""
	}
	return tf.DateTime(t)
}

// fieldChanges describes a modification's changes: an event's start and
// end become one "moved" change when both moved, or when the end is not
// known; a status change to COMPLETED says nothing more than a
// "completed" one beside it. ref is when the change was made (zero if not
// known), for [FieldChange].Brief.
func (c Cleaner) fieldChanges(fields []notifyd.FieldChange, task bool, e notifyd.Event, ref time.Time, tf TimeFormat) []FieldChange {
	var start, end *notifyd.FieldChange
	completed := false
	for i := range fields {
		switch f := &fields[i]; strings.ToLower(f.Field) {
		case notifyd.FieldStart:
			start = f
		case notifyd.FieldEnd:
			end = f
		case notifyd.FieldCompleted:
			completed = true
		}
	}
	var out []FieldChange
	timesDone := false
	for _, f := range fields {
		field := strings.ToLower(c.Line(f.Field))
		switch field {
		case notifyd.FieldStart, notifyd.FieldEnd:
			if task && field == notifyd.FieldStart {
				out = append(out, c.timeChange("start", f, tf, ref))
				continue
			}
			if timesDone {
				continue
			}
			timesDone = true
			out = append(out, c.eventTimes(start, end, task, e, tf, ref)...)
		case notifyd.FieldDue:
			out = append(out, c.timeChange("due", f, tf, ref))
		case notifyd.FieldSummary:
			out = append(out, c.textChange("title", f))
		case notifyd.FieldLocation, notifyd.FieldDescription, notifyd.FieldRecurrence, notifyd.FieldCalendar, notifyd.FieldTimeZone:
			out = append(out, c.textChange(field, f))
		case notifyd.FieldStatus:
			from, to := strings.ToLower(c.Line(f.From)), strings.ToLower(c.Line(f.To))
			switch {
			case to == "cancelled":
				out = append(out, FieldChange{Kind: "cancelled", From: from, To: to, Brief: to})
			case from == "cancelled":
				out = append(out, FieldChange{Kind: "uncancelled", From: from, To: to, Brief: to})
			case completed && (to == "completed" || from == "completed"):
				// The "completed" change says it.
			case task && to == "completed":
				out = append(out, FieldChange{Kind: "completed"})
			case task && from == "completed":
				out = append(out, FieldChange{Kind: "uncompleted"})
			default:
				out = append(out, FieldChange{Kind: "status", From: from, To: to, Brief: to})
			}
		case notifyd.FieldCompleted:
			ch := FieldChange{Kind: "uncompleted"}
			if to := strings.ToLower(strings.TrimSpace(f.To)); (to != "" && to != "false" && to != "no") || !f.ToTime.IsZero() {
				ch.Kind = "completed"
				if !f.ToTime.IsZero() {
					ch.To = tf.when(f.ToTime, f.AllDay)
					ch.Brief = tf.brief(f.ToTime, f.AllDay, ref)
				}
			}
			out = append(out, ch)
		default:
			if field == "" {
				continue
			}
			ch := c.textChange(field, f)
			ch.Label = Humanize(field)
			if ch.From == "" && ch.To == "" && (!f.FromTime.IsZero() || !f.ToTime.IsZero()) {
				ch = c.timeChange(field, f, tf, ref)
				ch.Label = Humanize(field)
			}
			out = append(out, ch)
		}
	}
	return out
}

// textChange is a change of a text field.
func (c Cleaner) textChange(kind string, f notifyd.FieldChange) FieldChange {
	from, to := c.Line(f.From), c.Line(f.To)
	return FieldChange{Kind: kind, From: from, To: to, Brief: to}
}

// timeChange is a change of one time field.
func (c Cleaner) timeChange(kind string, f notifyd.FieldChange, tf TimeFormat, ref time.Time) FieldChange {
	ch := FieldChange{Kind: kind, Brief: tf.brief(f.ToTime, f.AllDay, ref)}
	ch.From, ch.To = tf.fromTo(f.FromTime, f.ToTime, f.AllDay)
	return ch
}

// eventTimes describes an event's start and end changes (either may be
// nil) as a person reads them: one "moved" change when the start moved
// and the end with it (or the end is not known), or both with the
// event's length changed; else "start" or "end".
func (c Cleaner) eventTimes(start, end *notifyd.FieldChange, task bool, e notifyd.Event, tf TimeFormat, ref time.Time) []FieldChange {
	if end != nil && task {
		return []FieldChange{c.timeChange("end", *end, tf, ref)}
	}
	switch {
	case start != nil && end == nil && !e.End.IsZero() && !start.FromTime.IsZero() && !start.ToTime.IsZero():
		// The end stayed: only the start changed.
		return []FieldChange{c.timeChange("start", *start, tf, ref)}
	case start != nil && end == nil, start != nil && sameShift(*start, *end):
		ch := c.timeChange("moved", *start, tf, ref)
		if start.AllDay && end != nil && end.ToTime.Sub(start.ToTime) > 24*time.Hour {
			ch.From, ch.To = tf.daySpan(start.FromTime, end.FromTime), tf.daySpan(start.ToTime, end.ToTime)
		}
		return []FieldChange{ch}
	case start != nil:
		ch := FieldChange{Kind: "moved", Brief: tf.brief(start.ToTime, start.AllDay, ref)}
		if !start.FromTime.IsZero() {
			ch.From = tf.Span(start.FromTime, end.FromTime, start.AllDay)
		}
		if !start.ToTime.IsZero() {
			ch.To = tf.Span(start.ToTime, end.ToTime, start.AllDay)
		}
		return []FieldChange{ch}
	}
	// Only the end: an all-day event's last day is the one before it.
	f := *end
	if f.AllDay {
		for _, t := range []*time.Time{&f.FromTime, &f.ToTime} {
			if !t.IsZero() {
				*t = t.AddDate(0, 0, -1)
			}
		}
	}
	return []FieldChange{c.timeChange("end", f, tf, ref)}
}

// sameShift reports whether start and end moved by as much (the event
// kept its length).
func sameShift(start, end notifyd.FieldChange) bool {
	if start.FromTime.IsZero() || start.ToTime.IsZero() || end.FromTime.IsZero() || end.ToTime.IsZero() {
		return false
	}
	return start.ToTime.Sub(start.FromTime) == end.ToTime.Sub(end.FromTime)
}
