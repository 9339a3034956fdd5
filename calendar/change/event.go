package change

import (
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

// update is an Update of obj without Fields; rid is the instance's key,
// "" for the whole event, and c the override it names (nil: the master).
func (d *differ) update(obj *calendar.Object, action, rid string, c *calendar.Component) notifyd.Update {
	u := notifyd.Update{Component: "event", Action: action, Object: d.opts.Object, UID: obj.UID, RecurrenceID: rid}
	if obj.Kind == calendar.KindTask {
		u.Component = "todo"
	}
	if c == nil {
		c = d.find(obj, "")
	}
	if c != nil {
		u.TimeZone = zoneName(d.zoneOf(c.Start, c.End), c)
	}
	return u
}

// find is the component an Update names: the override with RECURRENCE-ID
// rid, else the master, else the first override.
func (d *differ) find(obj *calendar.Object, rid string) *calendar.Component {
	if ov := d.override(obj, rid); ov != nil {
		return ov
	}
	if obj.Master != nil {
		return obj.Master
	}
	if len(obj.Overrides) > 0 {
		return obj.Overrides[0]
	}
	return nil
}

// override is the override whose RECURRENCE-ID is rid, nil if none.
func (d *differ) override(obj *calendar.Object, rid string) *calendar.Component {
	if rid == "" {
		return nil
	}
	for _, ov := range obj.Overrides {
		if d.norm(ov.RecurrenceID).key() == rid {
			return ov
		}
	}
	return nil
}

// zoneName is loc's name when c's times are written in it (not floating,
// not dates) and it looks like an IANA name; else "", the recipient's.
func zoneName(loc *time.Location, c *calendar.Component) string {
	t := c.Start
	if t.IsZero() {
		t = c.End
	}
	if t.IsZero() || t.Floating || t.Date {
		return ""
	}
	name := loc.String()
	if name == "" || name == "Local" || len(name) > 64 {
		return ""
	}
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '/', r == '_', r == '-', r == '+':
		default:
			return ""
		}
	}
	return name
}

// Event is the event or task an Update of obj is about, as a
// notification carries it (notifyd.Notification.Event): for a whole
// event the master (its first instance), for an instance that instance.
// Pass the version after the change, or for a deletion the one before,
// and the Options given to Diff. Times are as in FieldChange: UTC, or
// midnight UTC of a date with AllDay; a task's due is in Due.
func Event(obj *calendar.Object, u notifyd.Update, opts Options) notifyd.Event {
	d := &differ{opts: opts, loc: opts.Location}
	if d.loc == nil {
		d.loc = time.UTC
	}
	if obj == nil {
		return notifyd.Event{Href: opts.Object, UID: u.UID}
	}
	e := notifyd.Event{Href: opts.Object, UID: obj.UID}
	var v view
	ok := false
	switch ov := d.override(obj, u.RecurrenceID); {
	case ov != nil:
		v, ok = d.componentView(obj, ov), true
	case u.RecurrenceID == "":
		if c := d.find(obj, ""); c != nil {
			v, ok = d.componentView(obj, c), true
		}
	default:
		if rid, good := parseKey(u.RecurrenceID, d.loc); good {
			v, ok = d.instanceView(obj, rid)
		}
	}
	if !ok {
		return e
	}
	e.Summary, e.Location = v.summary, v.location
	e.Start = v.start.t
	if v.task {
		e.Due = v.end.t
		e.AllDay = v.start.allDay || (v.start.t.IsZero() && v.end.allDay)
	} else {
		e.End = v.end.t
		e.AllDay = v.start.allDay
	}
	return e
}

// parseKey reads an instance key ("20261201" or "20261201T090000Z"); a
// date is midnight in loc, as calendar.Parse reads one.
func parseKey(key string, loc *time.Location) (calendar.Time, bool) {
	if t, err := time.ParseInLocation("20060102", key, loc); err == nil {
		return calendar.Time{Time: t, Date: true}, true
	}
	if t, err := time.Parse("20060102T150405Z", key); err == nil {
		return calendar.Time{Time: t}, true
	}
	return calendar.Time{}, false
}

// Type is the notification type an Update is sent as: event-modified,
// todo-created, calendar-deleted and so on; TypeOther for a component or
// action it does not name.
func Type(u notifyd.Update) notifyd.NotificationType {
	t := notifyd.NotificationType(u.Component + "-" + u.Action)
	switch t {
	case notifyd.TypeEventCreated, notifyd.TypeEventModified, notifyd.TypeEventDeleted,
		notifyd.TypeTodoCreated, notifyd.TypeTodoModified, notifyd.TypeTodoDeleted,
		notifyd.TypeCalendarCreated, notifyd.TypeCalendarModified, notifyd.TypeCalendarDeleted:
		return t
	}
	return notifyd.TypeOther
}
