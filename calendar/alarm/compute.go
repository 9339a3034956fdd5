package alarm

import (
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// maxRings bounds the rings one Compute lists (a component may have 100
// alarms that repeat 100 times, at every instance).
const maxRings = 20000

// maxRepeatSpan bounds how far repetitions (or an instance's length) widen
// the expansion window; it keeps the arithmetic in time.Duration's range.
const maxRepeatSpan = 100 * 365 * 24 * time.Hour

// alarmDef is an alarm that rings, with its identity.
type alarmDef struct {
	calendar.Alarm
	id       string   // AlarmID
	digest   string   // what makes it ring, for finding identical alarms
	uids     []string // its UID and those of the identical alarms merged into it
	snoozeOf []string // the UIDs of the alarms it snoozes (RFC 9074)
}

// computation is one Compute call.
type computation struct {
	obj       *calendar.Object
	from, to  time.Time
	opts      Options
	principal map[string]bool
	alarms    map[*calendar.Component][]alarmDef
	// snoozes are, per component, the latest RFC 9074 snooze of each
	// alarm UID.
	snoozes   map[*calendar.Component]map[string]time.Time
	out       []Instance
	keys      map[string]bool
	warn      []calendar.Warning
	truncated bool
	// duplicates counts identical alarms and rings found twice.
	duplicates int
}

func (c *computation) warnOnce(code calendar.WarningCode, detail string) {
	for _, w := range c.warn {
		if w.Code == code {
			return
		}
	}
	c.warn = append(c.warn, calendar.Warning{Code: code, Detail: detail})
}

func (c *computation) expandOptions() calendar.ExpandOptions {
	return calendar.ExpandOptions{MaxIterations: c.opts.MaxIterations, MinInterval: max(c.opts.MinInterval, 0)}
}

// relative rings every relative alarm at every occurrence whose rings can
// fall in the window.
func (c *computation) relative(comps []*calendar.Component) {
	var before, after time.Duration // how far an instance may lie after to, or before from
	found := false
	for _, comp := range comps {
		for _, a := range c.alarms[comp] {
			if !a.Trigger.At.IsZero() {
				continue
			}
			found = true
			off := a.Trigger.Offset.Approx() // within ±10000 days
			late := off + min(time.Duration(a.Repeat)*a.Interval.Approx(), maxRepeatSpan)
			if a.Trigger.RelatedEnd {
				late += min(extent(comp), maxRepeatSpan)
			}
			after, before = max(after, late), max(before, -off)
		}
	}
	if !found {
		return
	}
	const slack = 3 * time.Hour // Approx counts nominal days as 24 hours
	x := c.obj.Expand(c.from.Add(-after-slack), c.to.Add(before+slack), c.expandOptions())
	c.truncated = c.truncated || x.Truncated
	c.warn = append(c.warn, x.Warnings...)
	for _, oc := range x.Occurrences {
		if c.full() {
			return
		}
		for _, a := range c.alarms[oc.Component] {
			if !a.Trigger.At.IsZero() {
				continue
			}
			base := oc.Start
			switch {
			case a.Trigger.RelatedEnd:
				base = oc.End
				if base.IsZero() {
					c.warnOnce(WarnNoEnd, "a RELATED=END alarm on a task without DUE or DURATION does not ring")
					continue
				}
			case base.IsZero() && !oc.End.IsZero():
				base = oc.End
				c.warnOnce(WarnStartOnDue, "a START alarm on a task with only DUE rings relative to the DUE")
			case base.IsZero():
				c.warnOnce(WarnNoStart, "a relative alarm on a task without DTSTART or DUE does not ring")
				continue
			}
			c.rings(oc, oc.Component, a, a.Trigger.Offset.AddTo(base.Time), oc.RecurrenceID.ID())
		}
	}
}

// extent approximates a component's length, for widening the window.
func extent(comp *calendar.Component) time.Duration {
	switch {
	case !comp.Start.IsZero() && !comp.End.IsZero():
		return max(comp.End.Sub(comp.Start.Time), 0)
	case comp.HasDuration:
		return comp.Duration.Approx()
	case comp.Start.Date:
		return 24 * time.Hour
	}
	return 0
}

// absolute rings the component's absolute alarms: once, whatever its
// recurrences.
func (c *computation) absolute(comp *calendar.Component) {
	for _, a := range c.alarms[comp] {
		if a.Trigger.At.IsZero() || !c.ringsInWindow(a, a.Trigger.At) {
			continue
		}
		oc, rid := c.componentOccurrence(comp, a.Trigger.At)
		c.rings(oc, comp, a, a.Trigger.At, rid)
	}
}

// ringsInWindow reports whether some ring of a starting at t is in the
// window.
func (c *computation) ringsInWindow(a alarmDef, t time.Time) bool {
	for k := 0; k <= a.Repeat; k++ {
		if !t.Before(c.from) {
			return t.Before(c.to)
		}
		t = a.Interval.AddTo(t)
	}
	return false
}

// componentOccurrence is the occurrence a component-wide ring (an
// absolute alarm, a plain Thunderbird snooze) shows, and its recurrence
// id: an override's own instance; for a recurring master, the first
// instance at or after t (or else its first), with no recurrence id.
func (c *computation) componentOccurrence(comp *calendar.Component, t time.Time) (calendar.Occurrence, string) {
	if comp != c.obj.Master {
		oc, _ := c.obj.OccurrenceAt(comp.RecurrenceID.Time)
		return oc, comp.RecurrenceID.ID()
	}
	if !c.obj.Recurring() {
		oc, _ := c.obj.OccurrenceAt(time.Time{})
		return oc, ""
	}
	x := c.obj.Expand(t, t.AddDate(1, 0, 0), c.expandOptions())
	if len(x.Occurrences) > 0 {
		return x.Occurrences[0], ""
	}
	start := comp.Start
	if start.IsZero() {
		start = comp.End
	}
	oc, _ := c.obj.OccurrenceAt(start.Time)
	return oc, ""
}

// mozSnoozes rings Thunderbird's snoozes of the component.
func (c *computation) mozSnoozes(comp *calendar.Component) {
	for _, s := range comp.MozSnoozes {
		if s.Until.Before(c.from) || !s.Until.Before(c.to) {
			continue
		}
		oc, rid := c.componentOccurrence(comp, s.Until)
		if !s.Instance.IsZero() {
			var ok bool
			if oc, ok = c.obj.OccurrenceAt(s.Instance); !ok {
				continue
			}
			rid = oc.RecurrenceID.ID()
		}
		a := alarmDef{Alarm: calendar.Alarm{Action: string(Display)}, id: "x-moz-snooze"}
		c.emit(oc, oc.Component, a, s.Until, 0, rid, true)
	}
}

// rings emits the ring at t and its repetitions that fall in the window.
func (c *computation) rings(oc calendar.Occurrence, owner *calendar.Component, a alarmDef, t time.Time, rid string) {
	for k := 0; k <= a.Repeat; k++ {
		if k > 0 {
			t = a.Interval.AddTo(t)
		}
		if !t.Before(c.to) {
			return
		}
		if !t.Before(c.from) && !c.emit(oc, owner, a, t, k, rid, len(a.snoozeOf) > 0) {
			return
		}
	}
}

// full reports (and warns, once) that the computation holds maxRings.
func (c *computation) full() bool {
	if len(c.out) < maxRings {
		return false
	}
	c.truncated = true
	c.warnOnce(calendar.WarnTruncated, "more rings than one computation lists: the others left out")
	return true
}

// emit records one ring: owner is the component whose alarm it is (for
// status, attendance and acknowledgement), oc the instance it is about.
// It returns false when the computation is full.
func (c *computation) emit(oc calendar.Occurrence, owner *calendar.Component, a alarmDef, t time.Time, k int, rid string, snooze bool) bool {
	if c.full() {
		return false
	}
	t = t.UTC()
	key := firingKey(c.obj.UID, rid, a.id, t, k)
	if c.keys[key] {
		c.duplicates++
		return true
	}
	c.keys[key] = true
	in := Instance{
		Key: key, UID: c.obj.UID, RecurrenceID: rid, AlarmID: a.id, Repetition: k,
		Trigger: t, Action: Action(a.Action), Kind: c.obj.Kind, Text: a.Description,
		Snooze: snooze,
	}
	if comp := oc.Component; comp != nil {
		in.Summary, in.Location, in.Description = comp.Summary, comp.Location, comp.Description
	}
	in.Start, in.End = instant(oc.Start), instant(oc.End)
	if at := oc.At(); !at.IsZero() {
		in.Zone = at.Location().String()
	}
	in.AllDay = oc.Start.Date || (oc.Start.IsZero() && oc.End.Date)
	if in.Action == Email {
		in.EmailTo = c.ownAddresses(a.Attendees)
	}
	in.Skip = c.skip(oc, owner, a, t, snooze)
	c.out = append(c.out, in)
	return true
}

// instant is t as an Instance carries it: a DATE as midnight UTC of that
// date (how notifyd.Event carries all-day dates: the date, whatever the
// zone), anything else in UTC; zero when t is.
func instant(t calendar.Time) time.Time {
	switch {
	case t.IsZero():
		return time.Time{}
	case t.Date:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.UTC()
}

// ownAddresses keeps the principal's addresses among an EMAIL alarm's
// recipients, bare and once each.
func (c *computation) ownAddresses(attendees []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, at := range attendees {
		if b := bareAddress(at); c.principal[b] && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}
