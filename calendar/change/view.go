package change

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// tval is a time as compared and reported: an instant in UTC, or for a
// date midnight UTC of that date with allDay set. The zero tval is an
// absent time.
type tval struct {
	t      time.Time
	allDay bool
}

func (v tval) equal(w tval) bool { return v.allDay == w.allDay && v.t.Equal(w.t) }

// id is the value as a map key: its instant, and whether it is a date.
type id struct {
	sec    int64
	allDay bool
}

func (v tval) id() id { return id{sec: v.t.Unix(), allDay: v.allDay} }

// key is the value as a recurrence id: "20261201" or "20261201T090000Z".
func (v tval) key() string {
	switch {
	case v.t.IsZero():
		return ""
	case v.allDay:
		return v.t.Format("20060102")
	}
	return v.t.Format("20060102T150405Z")
}

// view is what a person sees of one component, or of one instance of a
// series, with every value normalised for comparison.
type view struct {
	task                           bool
	summary, location, description string
	status                         string // as written, upper case
	completed                      bool
	start, end                     tval // end is an event's end, a task's due
	// rec is the master's recurrence; nil for an instance.
	rec *recurrence
}

// differ holds what one Diff needs.
type differ struct {
	opts Options
	loc  *time.Location // Options.Location, or UTC
	// bares are the two versions' masters without their overrides, for
	// the master's own instances, by version.
	bares [2]struct{ of, bare *calendar.Object }
}

// bare is obj's master alone.
func (d *differ) bare(obj *calendar.Object) *calendar.Object {
	for i := range d.bares {
		if b := &d.bares[i]; b.of == obj {
			return b.bare
		} else if b.of == nil {
			b.of, b.bare = obj, &calendar.Object{Kind: obj.Kind, UID: obj.UID, Master: obj.Master}
			return b.bare
		}
	}
	return &calendar.Object{Kind: obj.Kind, UID: obj.UID, Master: obj.Master}
}

// local is t in the zone it is read in: a floating value's wall clock in
// the calendar's zone (whatever zone Parse read it in), else t.
func (d *differ) local(t calendar.Time) time.Time {
	if (t.Floating || t.Date) && t.Location() != d.loc && t.Location().String() != d.loc.String() {
		y, mo, day := t.Time.Date()
		h, mi, s := t.Clock()
		return time.Date(y, mo, day, h, mi, s, 0, d.loc)
	}
	return t.Time
}

// norm is t as compared: see tval. The date 1 January of the year 1
// is absent, like the zero time it is.
func (d *differ) norm(t calendar.Time) tval {
	var v tval
	switch {
	case t.IsZero():
	case t.Date:
		y, mo, day := t.Time.Date()
		v = tval{t: time.Date(y, mo, day, 0, 0, 0, 0, time.UTC), allDay: true}
	default:
		v = tval{t: d.local(t).UTC()}
	}
	if v.t.IsZero() {
		return tval{}
	}
	return v
}

// plus is start moved by a DURATION: whole days on a date stay a date.
func (d *differ) plus(start calendar.Time, dur calendar.Duration) tval {
	if start.Date && dur.Time == 0 {
		s := d.norm(start)
		return tval{t: s.t.AddDate(0, 0, dur.Days), allDay: true}
	}
	return tval{t: dur.AddTo(d.local(start)).UTC()}
}

// times are a component's own start and end (an event's end, a task's
// due), as the package documentation says.
func (d *differ) times(c *calendar.Component, task bool) (start, end tval) {
	start = d.norm(c.Start)
	switch {
	case !c.End.IsZero():
		end = d.norm(c.End)
	case c.Start.IsZero():
	case c.HasDuration:
		end = d.plus(c.Start, c.Duration)
	case task:
	case c.Start.Date:
		end = tval{t: start.t.AddDate(0, 0, 1), allDay: true}
	default:
		end = start
	}
	return start, end
}

// texts fills the view's fields other than times from c.
func (d *differ) texts(c *calendar.Component, task bool) view {
	return view{
		task:        task,
		summary:     normText(c.Summary),
		location:    normText(c.Location),
		description: normText(c.Description),
		status:      c.Status,
		completed:   c.Completed,
	}
}

// componentView is what a master or an override says of itself. An
// override without DTSTART (or a task's DUE) keeps the master's extent
// at its RECURRENCE-ID.
func (d *differ) componentView(obj *calendar.Object, c *calendar.Component) view {
	task := obj.Kind == calendar.KindTask
	v := d.texts(c, task)
	if c.Start.IsZero() && c.End.IsZero() && !c.RecurrenceID.IsZero() {
		one := &calendar.Object{Kind: obj.Kind, UID: obj.UID, Master: obj.Master, Overrides: []*calendar.Component{c}}
		if oc, ok := one.OccurrenceAt(c.RecurrenceID.Time); ok {
			v.start, v.end = d.norm(oc.Start), d.norm(oc.End)
		}
		return v
	}
	v.start, v.end = d.times(c, task)
	return v
}

// masterView is the master's view, with its recurrence.
func (d *differ) masterView(obj *calendar.Object) view {
	v := d.componentView(obj, obj.Master)
	v.rec = d.recurrence(obj.Master)
	return v
}

// instanceView is the master's instance that the override with
// RECURRENCE-ID rid replaces (or would): ok is false when there is none
// (no master, or an EXDATE removes it).
func (d *differ) instanceView(obj *calendar.Object, rid calendar.Time) (view, bool) {
	if obj.Master != nil && !obj.Recurring() {
		return d.componentView(obj, obj.Master), true
	}
	oc, ok := d.masterInstance(obj, rid)
	if !ok {
		return view{}, false
	}
	v := d.texts(obj.Master, obj.Kind == calendar.KindTask)
	v.start, v.end = d.norm(oc.Start), d.norm(oc.End)
	return v, true
}

// masterInstance is the recurring master's instance at RECURRENCE-ID
// rid; ok is false when there is none (no master, or an EXDATE removes
// it).
func (d *differ) masterInstance(obj *calendar.Object, rid calendar.Time) (calendar.Occurrence, bool) {
	m := obj.Master
	if m == nil {
		return calendar.Occurrence{}, false
	}
	bare := d.bare(obj)
	anchor := m.Start
	if anchor.IsZero() {
		anchor = m.End
	}
	if rid.Date == anchor.Date {
		at := rid.Time
		if anchor.Date || anchor.Floating {
			// OccurrenceAt reads such an id as its wall clock in UTC.
			w := rid.In(anchor.Location())
			y, mo, day := w.Date()
			h, mi, s := w.Clock()
			at = time.Date(y, mo, day, h, mi, s, 0, time.UTC)
		}
		return bare.OccurrenceAt(at)
	}
	// A date RECURRENCE-ID on a timed series (or the reverse) names the
	// instance on that date, as calendar.Expand reads it.
	y, mo, day := d.local(rid).Date()
	from := time.Date(y, mo, day, 0, 0, 0, 0, anchor.Location())
	x := bare.Expand(from, from.AddDate(0, 0, 1), calendar.ExpandOptions{MaxIterations: maxDayIterations})
	if len(x.Occurrences) == 0 {
		return calendar.Occurrence{}, false
	}
	return x.Occurrences[0], true
}

// maxDayIterations bounds the search for one day's instance.
const maxDayIterations = 1000

// zoneOf is the zone an instance's times are written in: start's, else
// end's; the calendar's for floating times and dates.
func (d *differ) zoneOf(start, end calendar.Time) *time.Location {
	t := start
	if t.IsZero() {
		t = end
	}
	if t.IsZero() || t.Floating || t.Date {
		return d.loc
	}
	return t.Location()
}

// normText is a text as compared: line endings and surrounding white
// space are a client's writing, not a change.
func normText(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.TrimSpace(s)
}
