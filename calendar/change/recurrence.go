package change

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

// recurrence is a master's RRULEs, RDATEs and EXDATEs as compared.
type recurrence struct {
	rules    []calendar.Rule // by key
	ruleKeys []string        // canonical, sorted
	rdates   []item          // by key, each once
	exdates  []item
	// loc is the zone the rules step in: DTSTART's, the calendar's for a
	// floating or all-day series. anchor is DTSTART (a task's DUE without
	// one) there.
	loc    *time.Location
	anchor time.Time
}

// item is one RDATE or EXDATE (an RDATE PERIOD has an end).
type item struct {
	v, end tval
}

// compare orders items by time, dates before times at the same instant.
func (x item) compare(y item) int {
	if c := x.v.t.Compare(y.v.t); c != 0 {
		return c
	}
	if x.v.allDay != y.v.allDay {
		if x.v.allDay {
			return -1
		}
		return 1
	}
	return x.end.t.Compare(y.end.t)
}

// maxListed bounds the dates a recurrence change names.
const maxListed = 3

// recurrence reads the master m's recurrence.
func (d *differ) recurrence(m *calendar.Component) *recurrence {
	rec := m.Recurrence()
	anchor := m.Start
	if anchor.IsZero() {
		anchor = m.End
	}
	r := &recurrence{loc: d.zoneOf(anchor, calendar.Time{}), anchor: d.local(anchor)}
	for _, rule := range rec.Rules {
		if u := rule.Until; u.Floating {
			rule.Until.Time = d.local(u)
		}
		r.rules = append(r.rules, rule)
	}
	for _, rule := range r.rules {
		r.ruleKeys = append(r.ruleKeys, rule.String())
	}
	if len(r.rules) > 1 {
		slices.SortStableFunc(r.rules, func(a, b calendar.Rule) int { return strings.Compare(a.String(), b.String()) })
		slices.Sort(r.ruleKeys)
	}
	for _, rd := range rec.RDates {
		r.rdates = append(r.rdates, item{v: d.norm(rd.At), end: d.norm(rd.End)})
	}
	for _, x := range rec.ExDates {
		r.exdates = append(r.exdates, item{v: d.norm(x)})
	}
	r.rdates, r.exdates = sortItems(r.rdates), sortItems(r.exdates)
	return r
}

// sortItems sorts items and drops repeats.
func sortItems(items []item) []item {
	if len(items) < 2 {
		return items
	}
	slices.SortFunc(items, item.compare)
	return slices.CompactFunc(items, func(a, b item) bool { return a.compare(b) == 0 })
}

// changes lists the recurrence changes from b to a: the rule (or the
// zone it steps in) changed, else the dates excluded and added.
func (d *differ) recurrenceChanges(b, a *recurrence) []notifyd.FieldChange {
	rulesChanged := !slices.Equal(b.ruleKeys, a.ruleKeys)
	zoneChanged := len(b.rules) > 0 && len(a.rules) > 0 && !sameZone(b.loc, a.loc, minTime(b.anchor, a.anchor))
	if rulesChanged || zoneChanged {
		from, to := b.words(), a.words()
		if from == to && zoneChanged {
			from += " (" + b.loc.String() + " time)"
			to += " (" + a.loc.String() + " time)"
		}
		if from == to {
			from, to = strings.Join(b.ruleKeys, "; "), strings.Join(a.ruleKeys, "; ")
		}
		return []notifyd.FieldChange{{Field: notifyd.FieldRecurrence, From: capText(from), To: capText(to)}}
	}
	var out []notifyd.FieldChange
	exAdded, exRemoved := setDiff(b.exdates, a.exdates)
	rdAdded, rdRemoved := setDiff(b.rdates, a.rdates)
	dateOnly := a.coarse()
	if len(exAdded) > 0 {
		out = append(out, notifyd.FieldChange{Field: notifyd.FieldRecurrence, To: a.list("not on ", exAdded, dateOnly)})
	}
	if len(exRemoved) > 0 {
		out = append(out, notifyd.FieldChange{Field: notifyd.FieldRecurrence, From: b.list("not on ", exRemoved, dateOnly)})
	}
	if len(rdAdded) > 0 {
		out = append(out, notifyd.FieldChange{Field: notifyd.FieldRecurrence, To: a.list("also on ", rdAdded, false)})
	}
	if len(rdRemoved) > 0 {
		out = append(out, notifyd.FieldChange{Field: notifyd.FieldRecurrence, From: b.list("also on ", rdRemoved, false)})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// setDiff returns the items of a not in b (added) and of b not in a
// (removed); both lists are sorted.
func setDiff(b, a []item) (added, removed []item) {
	i, j := 0, 0
	for i < len(b) || j < len(a) {
		switch {
		case j == len(a) || (i < len(b) && b[i].compare(a[j]) < 0):
			removed = append(removed, b[i])
			i++
		case i == len(b) || a[j].compare(b[i]) < 0:
			added = append(added, a[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

// coarse reports a series whose rules recur at most daily: its excluded
// instances are named by their dates.
func (r *recurrence) coarse() bool {
	for _, rule := range r.rules {
		switch rule.Freq {
		case "HOURLY", "MINUTELY", "SECONDLY":
			return false
		}
		if len(rule.ByHour)+len(rule.ByMinute)+len(rule.BySecond) > 0 {
			return false
		}
	}
	return true
}

// list names up to maxListed dates after prefix: "not on Tue 12 May
// 2026, Tue 19 May 2026 and 2 more".
func (r *recurrence) list(prefix string, items []item, dateOnly bool) string {
	var b strings.Builder
	b.WriteString(prefix)
	n := min(len(items), maxListed)
	for i := range n {
		switch {
		case i == 0:
		case i == n-1 && n == len(items):
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(r.when(items[i].v, dateOnly))
	}
	if more := len(items) - n; more > 0 {
		b.WriteString(" and " + strconv.Itoa(more) + " more")
	}
	return capText(b.String())
}

// when writes a date, or a time in the series' zone.
func (r *recurrence) when(v tval, dateOnly bool) string {
	if v.allDay {
		return v.t.Format(dateLayout)
	}
	t := v.t.In(r.loc)
	if dateOnly {
		return t.Format(dateLayout)
	}
	return t.Format(dateLayout + " 15:04")
}

// dateLayout is how recurrence texts write a date.
const dateLayout = "Mon 2 Jan 2006"
