package alarm

import (
	"time"

	"github.com/notifyd/notifyd/calendar"
)

// skip decides whether the ring at t of alarm a, owned by owner, about
// occurrence oc, rings; the first reason that applies is given.
func (c *computation) skip(oc calendar.Occurrence, owner *calendar.Component, a alarmDef, t time.Time, snooze bool) Skip {
	m := c.obj.Master
	switch {
	case owner.Status == "CANCELLED" || (m != nil && m.Status == "CANCELLED"):
		return SkipCancelled
	case c.obj.Kind == calendar.KindTask && (owner.Completed || (m != nil && m.Completed)):
		return SkipCompleted
	case c.declined(owner):
		return SkipDeclined
	case c.forOthers(a):
		return SkipOtherRecipients
	case c.acknowledged(owner, a, t):
		return SkipAcknowledged
	case !snooze && c.snoozed(oc, owner, a, t):
		return SkipSnoozed
	case !c.opts.WrittenAt.IsZero() && t.Before(c.opts.WrittenAt):
		return SkipBeforeWritten
	}
	return ""
}

// declined reports the principal's ATTENDEE with PARTSTAT=DECLINED.
func (c *computation) declined(comp *calendar.Component) bool {
	for _, at := range comp.Attendees {
		if at.PartStat == "DECLINED" && c.principal[bareAddress(at.Address)] {
			return true
		}
	}
	return false
}

// forOthers reports an EMAIL alarm whose own ATTENDEEs (its recipients)
// are all other people's: none is one of the principal's addresses.
// Without the principal's addresses (Options.Principal empty) nothing is
// known of them, and no alarm is.
func (c *computation) forOthers(a alarmDef) bool {
	if Action(a.Action) != Email || len(a.Attendees) == 0 || len(c.principal) == 0 {
		return false
	}
	for _, at := range a.Attendees {
		if c.principal[bareAddress(at)] {
			return false
		}
	}
	return true
}

// acknowledged: the alarm's ACKNOWLEDGED, or Thunderbird's X-MOZ-LASTACK
// on the component or its master, at or after the ring.
func (c *computation) acknowledged(owner *calendar.Component, a alarmDef, t time.Time) bool {
	last := owner.MozLastAck
	if m := c.obj.Master; m != nil && m.MozLastAck.After(last) {
		last = m.MozLastAck
	}
	return covers(a.Acknowledged, t) || covers(last, t)
}

// snoozed: an RFC 9074 snooze of this alarm in the same component, or a
// Thunderbird snooze of this instance, rings at or after t.
func (c *computation) snoozed(oc calendar.Occurrence, owner *calendar.Component, a alarmDef, t time.Time) bool {
	for _, uid := range a.uids {
		if covers(c.snoozes[owner][uid], t) {
			return true
		}
	}
	comps := []*calendar.Component{owner}
	if m := c.obj.Master; m != nil && m != owner {
		comps = append(comps, m)
	}
	for _, comp := range comps {
		for _, s := range comp.MozSnoozes {
			mine := s.Instance.IsZero() && comp == owner || oc.RecurrenceID.Matches(s.Instance)
			if mine && covers(s.Until, t) {
				return true
			}
		}
	}
	return false
}

// covers reports a set mark at or after t.
func covers(mark, t time.Time) bool {
	return !mark.IsZero() && !mark.Before(t)
}
