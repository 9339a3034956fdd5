package calendar

import (
	"errors"
	"sort"
	"time"
)

// DefaultMaxIterations is the iteration cap when ExpandOptions leaves it 0.
// Most rules start close to the window (a daily rule over 48 hours takes
// about 5 steps whatever its age); the cap matters for rules walked from
// DTSTART (a COUNT with several instances a period) and for dense ones:
// it is a daily rule over 27 years, or a minutely one over a week.
const DefaultMaxIterations = 10000

// ExpandOptions bound the work of Expand.
type ExpandOptions struct {
	// MaxIterations caps the rrule-go steps of one expansion; 0 means
	// DefaultMaxIterations. An expansion that reaches it is Truncated.
	MaxIterations int
	// MinInterval thins out too-frequent rules: of the instances that fall
	// in one MinInterval-long slot (slots counted from DTSTART), only the
	// first is kept. 0 keeps every instance. Overrides are never thinned.
	MinInterval time.Duration
}

// Occurrence is one instance of the object: the master at one recurrence
// or an override.
type Occurrence struct {
	// RecurrenceID identifies the instance; zero for a non-recurring
	// object.
	RecurrenceID Time
	// Start is the instance's DTSTART; zero for a task without one.
	Start Time
	// End is the end RELATED=END refers to: an event's DTEND (or DTSTART
	// plus DURATION, or the day after an all-day DTSTART), a task's DUE
	// (or DTSTART plus DURATION); zero when there is none.
	End Time
	// Component is the override for this instance, else the master.
	Component *Component
}

// At is where the occurrence sits on the calendar: Start, or a task's
// DUE when it has no DTSTART.
func (o Occurrence) At() time.Time {
	if !o.Start.IsZero() {
		return o.Start.Time
	}
	return o.End.Time
}

// Expansion is the result of Expand.
type Expansion struct {
	// Occurrences are the instances whose At is in [from, to), by At.
	Occurrences []Occurrence
	// Iterations is the rrule-go steps taken.
	Iterations int
	// Truncated reports that the iteration cap stopped the expansion: some
	// instances in the window may be missing.
	Truncated bool
	// Thinned counts instances in the window dropped by MinInterval.
	Thinned int
	// Warnings are problems met while expanding.
	Warnings []Warning
}

// Expand lists the object's occurrences in [from, to): the master's
// recurrence set (DTSTART, RRULE instances computed on the wall clock of
// DTSTART's zone, RDATEs, less EXDATEs), with each instance that has an
// override replaced by it, wherever the override moved it. An override
// whose RECURRENCE-ID an EXDATE removes is left out.
//
// DTSTART is always the first instance (RFC 5545 section 3.8.5.3), even
// when the rule would not produce it; COUNT then counts the rule's own
// instances. A task without DTSTART recurs on its DUE.
func (o *Object) Expand(from, to time.Time, opts ExpandOptions) Expansion {
	limit := opts.MaxIterations
	if limit <= 0 {
		limit = DefaultMaxIterations
	}
	budget := limit
	var x Expansion
	var w warnings
	if o.Master != nil {
		x.Occurrences = o.expandMaster(from, to, opts, &budget, &x, &w)
	}
	for _, ov := range o.Overrides {
		if o.Master != nil && o.Master.excluded(ov.RecurrenceID) {
			continue
		}
		oc := o.overrideOccurrence(ov)
		if at := oc.At(); !at.Before(from) && at.Before(to) {
			x.Occurrences = append(x.Occurrences, oc)
		}
	}
	sort.SliceStable(x.Occurrences, func(i, j int) bool {
		return x.Occurrences[i].At().Before(x.Occurrences[j].At())
	})
	x.Iterations = limit - budget
	x.Warnings = w.list
	return x
}

// expandMaster lists the master's own (not overridden) instances.
func (o *Object) expandMaster(from, to time.Time, opts ExpandOptions, budget *int, x *Expansion, w *warnings) []Occurrence {
	m := o.Master
	anchor := m.anchor()
	if anchor.IsZero() {
		return nil
	}
	sp := m.span()
	if !o.Recurring() {
		if anchor.Before(from) || !anchor.Before(to) {
			return nil
		}
		start, end := sp.times(anchor)
		return []Occurrence{{Start: start, End: end, Component: m}}
	}
	loc := anchor.Location()
	insts := []Time{anchor}
	// An instant and its wall clock disagree by at most a change of
	// daylight time (two hours at most anywhere).
	wallFrom := wallOf(from.In(loc)).Add(-3 * time.Hour)
	wallTo := wallOf(to.In(loc)).Add(3 * time.Hour)
	for _, r := range m.rules {
		untilWall, untilInstant := r.untilBounds(anchor)
		walls, err := r.walls(wallOf(anchor.Time), wallFrom, wallTo, untilWall, max(opts.MinInterval, 0), budget)
		switch {
		case errors.Is(err, errBudget):
			x.Truncated = true
			w.add(WarnTruncated, "recurrence expansion stopped at the iteration cap; instances may be missing")
		case err != nil:
			w.add(WarnBadRule, "%v", err)
		}
		for _, wt := range walls {
			t := inZone(wt, loc)
			if !untilInstant.IsZero() && t.After(untilInstant) {
				break
			}
			insts = append(insts, Time{Time: t, Date: anchor.Date, Floating: anchor.Floating})
		}
	}
	periodEnd := map[int64]Time{}
	for _, rd := range m.rdates {
		insts = append(insts, rd.at)
		if !rd.end.IsZero() {
			periodEnd[rd.at.Unix()] = rd.end
		}
	}
	sort.SliceStable(insts, func(i, j int) bool { return insts[i].Before(insts[j].Time) })
	kept := insts[:0]
	for i, t := range insts {
		if (i > 0 && t.Equal(insts[i-1].Time)) || m.excluded(t) {
			continue
		}
		kept = append(kept, t)
	}
	kept = thin(kept, anchor.Time, opts.MinInterval, from, to, x)
	// An override names its instance by RECURRENCE-ID, normally of
	// DTSTART's type; one of the other type (a date for a timed series, or
	// the reverse) names the instance on its date.
	overridden, overriddenDay := map[int64]bool{}, map[[3]int]bool{}
	for _, ov := range o.Overrides {
		if rid := ov.RecurrenceID; rid.Date == anchor.Date {
			overridden[rid.Unix()] = true
		} else if rid.Date {
			overriddenDay[dateKey(rid.Time)] = true
		} else {
			overriddenDay[dateKey(rid.In(loc))] = true
		}
	}
	var out []Occurrence
	for _, t := range kept {
		if t.Before(from) || !t.Before(to) || overridden[t.Unix()] || overriddenDay[dateKey(t.Time)] {
			continue
		}
		start, end := sp.times(t)
		if pe, ok := periodEnd[t.Unix()]; ok {
			end = pe
		}
		out = append(out, Occurrence{RecurrenceID: t, Start: start, End: end, Component: m})
	}
	return out
}

// thin keeps, of the instances falling in one MinInterval slot (counted
// from anchor), the first. Each decision needs only the instance before,
// so it does not depend on the window.
func thin(insts []Time, anchor time.Time, minInterval time.Duration, from, to time.Time, x *Expansion) []Time {
	step := int64(minInterval / time.Second)
	if step <= 0 || len(insts) < 2 {
		return insts
	}
	slot := func(t Time) int64 {
		d := t.Unix() - anchor.Unix()
		if d < 0 {
			return (d - step + 1) / step
		}
		return d / step
	}
	out := insts[:1]
	for i := 1; i < len(insts); i++ {
		if slot(insts[i]) == slot(insts[i-1]) {
			if t := insts[i]; !t.Before(from) && t.Before(to) {
				x.Thinned++
			}
			continue
		}
		out = append(out, insts[i])
	}
	return out
}

// untilBounds turns the rule's UNTIL into a wall-clock bound for rrule-go
// (inclusive) and, for a UTC UNTIL, the exact instant bound.
func (r *rule) untilBounds(anchor Time) (wall, instant time.Time) {
	if !r.hasUntil {
		return time.Time{}, time.Time{}
	}
	u := r.until
	switch {
	case anchor.Date:
		// An all-day series ends on UNTIL's date, whatever its form.
		return time.Date(u.year, time.Month(u.month), u.day, 0, 0, 0, 0, time.UTC), time.Time{}
	case u.date:
		// A DATE UNTIL on a timed series: through the end of that day.
		return u.wall().Add(24*time.Hour - time.Second), time.Time{}
	case u.utc:
		instant = u.wall()
		return wallOf(instant.In(anchor.Location())).Add(3 * time.Hour), instant
	default:
		return u.wall(), time.Time{}
	}
}

// anchor is what recurs: DTSTART, or for a task without one, DUE.
func (c *Component) anchor() Time {
	if !c.Start.IsZero() {
		return c.Start
	}
	return c.End
}

// excluded reports whether an EXDATE removes the instance t. A DATE
// EXDATE (or any EXDATE of an all-day series) removes the instances on
// that date.
func (c *Component) excluded(t Time) bool {
	e := &c.ex
	if e.instants == nil {
		return false
	}
	if t.Date {
		return e.allDates[dateKey(t.Time)]
	}
	return e.instants[t.Unix()] || e.dates[dateKey(t.Time)]
}

// span says how an instance's start and end follow from its anchor.
type span struct {
	dueOnly bool // a task with DUE and no DTSTART: the anchor is the DUE
	noEnd   bool
	exact   time.Duration
	nominal Duration
	useNom  bool
	endLoc  *time.Location
}

// span reads the component's own extent. RFC 5545 section 3.8.5.3: a
// duration given by DTEND or DUE is exact for every instance, one given
// by DURATION is nominal; all-day dates count whole days.
func (c *Component) span() span {
	s, e := c.Start, c.End
	switch {
	case s.IsZero():
		return span{dueOnly: !e.IsZero(), noEnd: e.IsZero()}
	case !e.IsZero() && s.Date && e.Date:
		days := int(wallOf(e.Time).Sub(wallOf(s.Time)).Hours() / 24)
		return span{nominal: Duration{Days: max(days, 0)}, useNom: true}
	case !e.IsZero():
		return span{exact: max(e.Sub(s.Time), 0), endLoc: e.Location()}
	case c.HasDuration:
		return span{nominal: c.Duration, useNom: true}
	case c.kindTask():
		return span{noEnd: true}
	case s.Date:
		return span{nominal: Duration{Days: 1}, useNom: true}
	default:
		return span{}
	}
}

// kindTask reports a VTODO component (a task ends only by DUE or
// DURATION; an event without either ends as it starts).
func (c *Component) kindTask() bool { return c.task }

// times gives the start and end of the instance anchored at a.
func (s span) times(a Time) (start, end Time) {
	switch {
	case s.dueOnly:
		return Time{}, a
	case s.noEnd:
		return a, Time{}
	case s.useNom:
		return a, Time{Time: s.nominal.AddTo(a.Time), Date: a.Date && s.nominal.Time == 0, Floating: a.Floating}
	default:
		loc := s.endLoc
		if loc == nil {
			loc = a.Location()
		}
		return a, Time{Time: a.Add(s.exact).In(loc), Floating: a.Floating}
	}
}

// OccurrenceAt returns the occurrence whose recurrence id is rid: the
// override with that RECURRENCE-ID, else the master's instance there,
// which is checked against EXDATE but not against the rule. A DATE or
// floating recurrence id also matches rid when its wall clock, read as
// UTC, equals it (how Thunderbird names instances in
// X-MOZ-SNOOZE-TIME-<id>). For a non-recurring object it is the master.
func (o *Object) OccurrenceAt(rid time.Time) (Occurrence, bool) {
	for _, ov := range o.Overrides {
		if ov.RecurrenceID.Matches(rid) {
			return o.overrideOccurrence(ov), true
		}
	}
	m := o.Master
	if m == nil {
		return Occurrence{}, false
	}
	anchor := m.anchor()
	if !o.Recurring() || anchor.IsZero() {
		start, end := m.span().times(anchor)
		return Occurrence{Start: start, End: end, Component: m}, true
	}
	t := Time{Time: rid.In(anchor.Location()), Date: anchor.Date, Floating: anchor.Floating}
	if anchor.Date || anchor.Floating {
		t.Time = inZone(wallOf(rid.UTC()), anchor.Location())
	}
	if m.excluded(t) {
		return Occurrence{}, false
	}
	start, end := m.span().times(t)
	return Occurrence{RecurrenceID: t, Start: start, End: end, Component: m}, true
}

// overrideOccurrence is the instance an override describes: its own
// DTSTART and end, or when it has no DTSTART, the master's extent at its
// RECURRENCE-ID.
func (o *Object) overrideOccurrence(ov *Component) Occurrence {
	var start, end Time
	switch a := ov.anchor(); {
	case !a.IsZero():
		start, end = ov.span().times(a)
	case o.Master != nil:
		start, end = o.Master.span().times(ov.RecurrenceID)
	default:
		start = ov.RecurrenceID
	}
	return Occurrence{RecurrenceID: ov.RecurrenceID, Start: start, End: end, Component: ov}
}
