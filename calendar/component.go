package calendar

import (
	"slices"
	"strconv"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// Bounds on what one component may hold (RFC 5545 deprecates a second
// RRULE; real objects have a handful of alarms).
const (
	maxRepeat = 100
	maxRules  = 4
	maxAlarms = 100
)

// parser reads the components of one object.
type parser struct {
	zones zones
	warn  *warnings
}

// component reads a VEVENT or VTODO. It never fails: what cannot be read
// is left out with a warning.
func (p *parser) component(c *ical.Component, kind Kind) *Component {
	comp := &Component{UID: strings.TrimSpace(c.Props.Get(ical.PropUID).Value), task: kind == KindTask}
	endName := ical.PropDateTimeEnd
	if kind == KindTask {
		endName = ical.PropDue
	}
	comp.Start = p.timeOf(c, ical.PropDateTimeStart)
	comp.End = p.timeOf(c, endName)
	if prop := c.Props.Get(ical.PropDuration); prop != nil {
		if d, err := ParseDuration(prop.Value); err != nil {
			p.warn.add(WarnBadProperty, "DURATION: %v", err)
		} else if d.Approx() < 0 {
			p.warn.add(WarnBadProperty, "negative DURATION %s", prop.Value)
		} else {
			comp.Duration, comp.HasDuration = d, true
		}
	}
	if prop := c.Props.Get(ical.PropRecurrenceID); prop != nil {
		comp.RecurrenceID = p.timeOf(c, ical.PropRecurrenceID)
		if strings.EqualFold(prop.Params.Get(ical.ParamRange), "THISANDFUTURE") {
			comp.ThisAndFuture = true
			p.warn.add(WarnThisAndFuture, "RECURRENCE-ID %s;RANGE=THISANDFUTURE read as that one instance", prop.Value)
		}
	}
	comp.Status = strings.ToUpper(strings.TrimSpace(text(c.Props.Get(ical.PropStatus))))
	comp.Summary = text(c.Props.Get(ical.PropSummary))
	comp.Location = text(c.Props.Get(ical.PropLocation))
	comp.Description = text(c.Props.Get(ical.PropDescription))
	if kind == KindTask {
		pct := strings.TrimSpace(text(c.Props.Get(ical.PropPercentComplete)))
		comp.Completed = comp.Status == "COMPLETED" || c.Props.Get(ical.PropCompleted) != nil || pct == "100"
	}
	for _, a := range c.Props.Values(ical.PropAttendee) {
		ps := strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus))
		if ps == "" {
			ps = "NEEDS-ACTION"
		}
		comp.Attendees = append(comp.Attendees, Attendee{Address: strings.TrimSpace(a.Value), PartStat: ps})
	}
	p.mozilla(c, comp)
	if c.Props.Get(ical.PropRecurrenceID) == nil {
		p.recurrence(c, comp)
	}
	for _, child := range c.Children {
		if child.Name != ical.CompAlarm {
			continue
		}
		if len(comp.Alarms) == maxAlarms {
			p.warn.add(WarnIgnored, "more than %d VALARMs in one component: the others left out", maxAlarms)
			break
		}
		if a, ok := p.alarm(child); ok {
			comp.Alarms = append(comp.Alarms, a)
		}
	}
	return comp
}

// mozilla reads Thunderbird's alarm state: X-MOZ-LASTACK (the latest
// when written twice) and X-MOZ-SNOOZE-TIME[-<recurrence id in µs>].
func (p *parser) mozilla(c *ical.Component, comp *Component) {
	names := make([]string, 0, 4)
	for name := range c.Props {
		if strings.HasPrefix(name, "X-MOZ-") {
			names = append(names, name)
		}
	}
	slices.Sort(names) // a map's order is random: keep warnings and snoozes stable
	for _, name := range names {
		props := c.Props[name]
		switch {
		case name == "X-MOZ-LASTACK":
			for i := range props {
				if t, ok := p.utcOf(&props[i]); ok && t.After(comp.MozLastAck) {
					comp.MozLastAck = t
				}
			}
		case name == "X-MOZ-SNOOZE-TIME", strings.HasPrefix(name, "X-MOZ-SNOOZE-TIME-"):
			s := MozSnooze{}
			if suffix := strings.TrimPrefix(name, "X-MOZ-SNOOZE-TIME-"); suffix != name {
				us, err := strconv.ParseInt(suffix, 10, 64)
				if err != nil {
					p.warn.add(WarnBadProperty, "%s: not a recurrence instance", name)
					continue
				}
				s.Instance = time.UnixMicro(us).UTC()
			}
			var ok bool
			if s.Until, ok = p.utcOf(&props[0]); ok {
				comp.MozSnoozes = append(comp.MozSnoozes, s)
			}
		}
	}
}

// recurrence reads the master's RRULE, RDATE and EXDATE properties, each
// RDATE and EXDATE possibly a comma-separated list, DATE, DATE-TIME (with
// TZID) or, for RDATE, PERIOD.
func (p *parser) recurrence(c *ical.Component, comp *Component) {
	for i, prop := range c.Props.Values(ical.PropRecurrenceRule) {
		if i == maxRules {
			p.warn.add(WarnBadRule, "more than %d RRULEs: the others left out", maxRules)
			break
		}
		r, err := parseRule(prop.Value)
		if err != nil {
			p.warn.add(WarnBadRule, "%v", err)
			continue
		}
		comp.rules = append(comp.rules, r)
	}
	for _, prop := range c.Props.Values(ical.PropRecurrenceDates) {
		for _, v := range strings.Split(prop.Value, ",") {
			start, end, ok := p.period(&prop, v)
			if ok {
				comp.rdates = append(comp.rdates, rdate{at: start, end: end})
			}
		}
	}
	for _, prop := range c.Props.Values(ical.PropExceptionDates) {
		for _, v := range strings.Split(prop.Value, ",") {
			if t, ok := p.value(&prop, v); ok {
				comp.ex.add(t, p.zones.fallbackQuiet())
			}
		}
	}
}

// period reads one RDATE value: a date, a date-time, or a PERIOD
// ("start/end" or "start/duration").
func (p *parser) period(prop *ical.Prop, v string) (start, end Time, ok bool) {
	s, e, isPeriod := strings.Cut(v, "/")
	if start, ok = p.value(prop, s); !ok || !isPeriod {
		return start, Time{}, ok
	}
	if d, err := ParseDuration(e); err == nil {
		return start, Time{Time: d.AddTo(start.Time), Floating: start.Floating}, true
	}
	if end, ok = p.value(prop, e); !ok {
		return Time{}, Time{}, false
	}
	return start, end, true
}

// alarm reads a VALARM; ok is false (with a warning) when it has no usable
// TRIGGER.
func (p *parser) alarm(c *ical.Component) (Alarm, bool) {
	a := Alarm{Action: strings.ToUpper(strings.TrimSpace(text(c.Props.Get(ical.PropAction))))}
	trig := c.Props.Get(ical.PropTrigger)
	if trig == nil {
		p.warn.add(WarnBadProperty, "VALARM without TRIGGER")
		return a, false
	}
	v := strings.TrimSpace(trig.Value)
	if strings.EqualFold(trig.Params.Get(ical.ParamValue), "DATE-TIME") ||
		(v != "" && v[0] >= '0' && v[0] <= '9') {
		t, ok := p.value(trig, v)
		if !ok {
			return a, false
		}
		a.Trigger.At = t.Time
	} else {
		d, err := ParseDuration(v)
		if err != nil {
			p.warn.add(WarnBadProperty, "TRIGGER: %v", err)
			return a, false
		}
		a.Trigger.Offset = d
		a.Trigger.RelatedEnd = strings.EqualFold(trig.Params.Get(ical.ParamRelated), "END")
	}
	if prop := c.Props.Get(ical.PropRepeat); prop != nil {
		n, err := strconv.Atoi(strings.TrimSpace(prop.Value))
		dur := c.Props.Get(ical.PropDuration)
		var d Duration
		if dur != nil {
			d, err = ParseDuration(dur.Value)
		}
		switch {
		case err != nil || n < 0:
			p.warn.add(WarnBadProperty, "VALARM REPEAT %q with DURATION: unreadable, not repeated", prop.Value)
		case dur == nil || d.Approx() <= 0:
			if n > 0 {
				p.warn.add(WarnBadProperty, "VALARM REPEAT without a positive DURATION: not repeated")
			}
		default:
			if n > maxRepeat {
				p.warn.add(WarnBadProperty, "VALARM REPEAT %d: only %d kept", n, maxRepeat)
				n = maxRepeat
			}
			a.Repeat, a.Interval = n, d
		}
	}
	a.UID = strings.TrimSpace(text(c.Props.Get(ical.PropUID)))
	if a.UID == "" {
		a.UID = strings.TrimSpace(text(c.Props.Get("X-WR-ALARMUID")))
	}
	if prop := c.Props.Get("ACKNOWLEDGED"); prop != nil {
		a.Acknowledged, _ = p.utcOf(prop)
	}
	for _, r := range c.Props.Values(ical.PropRelatedTo) {
		typ := strings.ToUpper(r.Params.Get(ical.ParamRelationshipType))
		if typ == "" {
			typ = "PARENT"
		}
		a.RelatedTo = append(a.RelatedTo, Relation{UID: strings.TrimSpace(r.Value), Type: typ})
	}
	for _, at := range c.Props.Values(ical.PropAttendee) {
		a.Attendees = append(a.Attendees, strings.TrimSpace(at.Value))
	}
	a.Summary = text(c.Props.Get(ical.PropSummary))
	a.Description = text(c.Props.Get(ical.PropDescription))
	a.Proximity = strings.ToUpper(strings.TrimSpace(text(c.Props.Get("PROXIMITY"))))
	return a, true
}
