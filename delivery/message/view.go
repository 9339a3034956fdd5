package message

import (
	"sort"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
)

// Event is a notification's event as templates see it.
type Event struct {
	Summary  string
	Location string
	// When is the event's dates and times (see [TimeFormat.Span]).
	When   string
	AllDay bool
	// Start and End are in the recipient's zone for a timed event, as
	// they are for an all-day one.
	Start time.Time
	End   time.Time
	// Due is a task's due date and time ("" when none): its date alone
	// when all-day.
	Due string
}

// Event describes e (nil: nil) with times written by tf.
func (c Cleaner) Event(e *notifyd.Event, tf TimeFormat) *Event {
	if e == nil {
		return nil
	}
	ev := &Event{
		Summary:  c.Line(e.Summary),
		Location: c.Line(e.Location),
		When:     tf.Span(e.Start, e.End, e.AllDay),
		AllDay:   e.AllDay,
		Start:    e.Start,
		End:      e.End,
	}
	if !e.Due.IsZero() {
		ev.Due = tf.when(e.Due, e.AllDay)
	}
	if !e.AllDay {
		if !e.Start.IsZero() {
			ev.Start = e.Start.In(tf.loc)
		}
		if !e.End.IsZero() {
			ev.End = e.End.In(tf.loc)
		}
	}
	return ev
}

// Change is one change of a resource-change notification as templates
// see it.
type Change struct {
	// Kind is "created", "updated", "deleted"... in lower case.
	Kind    string
	Summary string
	// By names who made the change (the notification's sender when the
	// change does not say).
	By string
	// Properties are the changed properties' names, in upper case.
	Properties []string
	// When and Location are the event's, when the change is of the
	// notification's event.
	When     string
	Location string
}

// Changes describes n's changes; from names the notification's sender
// (the user who changed a resource) and event is n's event as described
// by [Cleaner.Event]. changedBy is who made every change, "" when they
// were made by different people.
func (c Cleaner) Changes(n *notifyd.Notification, from string, event *Event) (changes []Change, changedBy string) {
	by, sameBy := "", true
	for i, ch := range n.Changes {
		cv := Change{Kind: c.Line(strings.ToLower(ch.Kind)), Summary: c.Line(ch.Summary)}
		cv.By, _ = c.Person(ch.By)
		if cv.By == "" {
			cv.By = from
		}
		for _, p := range ch.Properties {
			if p = c.Line(strings.ToUpper(p)); p != "" {
				cv.Properties = append(cv.Properties, p)
			}
		}
		// The notification's event is the changed one when there is one
		// change, or when the hrefs match.
		if event != nil && n.Event != nil && (len(n.Changes) == 1 || (ch.Href != "" && ch.Href == n.Event.Href)) {
			if cv.Summary == "" {
				cv.Summary = event.Summary
			}
			cv.When = event.When
			cv.Location = event.Location
		}
		if i == 0 {
			by = cv.By
		} else if cv.By != by {
			sameBy = false
		}
		changes = append(changes, cv)
	}
	if sameBy {
		changedBy = by
	}
	return changes, changedBy
}

// Field is one entry of a notification's Fields.
type Field struct {
	Name string
	// Label is Name made readable ([Humanize]).
	Label string
	Value string
}

// Fields lists fields by name, leaving out those whose value is empty
// once cleaned.
func (c Cleaner) Fields(fields map[string]string) []Field {
	var out []Field
	for name, val := range fields {
		if val = c.Line(val); val != "" {
			out = append(out, Field{Name: name, Label: Humanize(name), Value: val})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// View is what every channel's templates see of a notification: its type,
// the names that make it readable, and the recipient's language and time
// zone. Channels embed it in their own view and add what only they show.
type View struct {
	Type      string
	System    string
	Principal string
	// Account is the last segment of the principal's href.
	Account string
	// From and FromEmail name who triggered the notification.
	From, FromEmail string
	Calendar        string
	Access          string
	Status          string
	Summary         string
	Event           *Event
	// Reminder is a reminder's alarm (nil for other notifications, and
	// for a reminder without its notifyd.Reminder).
	Reminder *Reminder
	// Update is what a calendar update changed (nil for other
	// notifications; from the type alone for an update without its
	// notifyd.Update).
	Update *Update
	// Scheduling is a scheduling message's iTIP message (nil for other
	// notifications; see [Cleaner.Scheduling]).
	Scheduling   *Scheduling
	Changes      []Change
	ChangedBy    string
	Fields       []Field
	Lang         string
	Locale       string
	TimeZone     string
	Notification *notifyd.Notification

	tf TimeFormat
}

// View builds the View of notification n of principal on system, with
// calendarName the calendar's name the engine read ("" if none), times
// written by tf, and lang and tag the template's language and locale. The
// dates of an all-day reminder given as the instants of their local
// midnight are read as dates (the View's Notification then has them as
// notifyd.Event documents).
func (c Cleaner) View(n *notifyd.Notification, system, principal, calendarName string, tf TimeFormat, lang, tag string) View {
	n = allDayDates(n)
	v := View{
		Type:         string(n.Type),
		System:       c.Line(system),
		Principal:    c.Line(principal),
		Account:      c.LastSegment(principal),
		Calendar:     c.Calendar(calendarName, n.Calendar),
		Access:       c.Line(strings.ToLower(n.Access)),
		Status:       c.Line(n.Status),
		Summary:      c.Line(n.Summary),
		Event:        c.Event(n.Event, tf),
		Reminder:     c.Reminder(n, tf),
		Fields:       c.Fields(n.Fields),
		Lang:         lang,
		Locale:       tag,
		TimeZone:     tf.Location().String(),
		Notification: n,
		tf:           tf,
	}
	v.From, v.FromEmail = c.Person(n.From)
	v.Changes, v.ChangedBy = c.Changes(n, v.From, v.Event)
	v.Update = c.Update(n, v.Event, v.Calendar, v.From, tf)
	v.Scheduling = c.Scheduling(n, v.Event, tf)
	return v
}

// ShortView is [Cleaner.View] of n with each free-text field, the
// calendar name included, cut to at most maxRunes characters (see
// [Shorten]); shortened reports whether anything was cut. The View's
// Notification is the shortened copy.
func (c Cleaner) ShortView(n *notifyd.Notification, system, principal, calendarName string, tf TimeFormat, lang, tag string, maxRunes int) (v View, shortened bool) {
	n, shortened = Shorten(n, maxRunes)
	if name := Truncate(calendarName, maxRunes); name != calendarName {
		calendarName, shortened = name, true
	}
	return c.View(n, system, principal, calendarName, tf, lang, tag), shortened
}

// Date writes t's date in the recipient's zone and language.
func (v View) Date(t time.Time) string { return v.tf.Date(t) }

// Time writes t's time of day and zone in the recipient's zone.
func (v View) Time(t time.Time) string { return v.tf.Time(t) }

// DateTime writes t's date, time and zone in the recipient's zone.
func (v View) DateTime(t time.Time) string { return v.tf.DateTime(t) }
