// Package preferences decides when a notification reaches a delivery
// method, by the subscription's preferences (notifyd.Preferences):
// at once, held until a pause or quiet hours end, or folded into a digest
// due later. It is pure: no I/O, no goroutines, no clock of its own; the
// caller passes the time and the count of messages already sent, and
// keeps what is held.
//
// The rules, in order (docs/preferences.md says more):
//
//  1. A pause holds everything until it ends.
//  2. Quiet hours hold everything until they end, except urgent
//     notifications of the types the method lets through.
//  3. Types the system makes always immediate (invitations that need an
//     answer, cancellations within 24 hours, reminders) are sent, or
//     released when the hold ends, on their own.
//  4. Anything else goes into the method's digest when it has one; on a
//     method without digest, what exceeds the throttle goes into a digest
//     due when the throttle period ends.
//  5. A digest due during quiet hours is due when they end; what a pause
//     or quiet hours held goes into the first digest due at or after the
//     hold ends (or at the hold's end, if that digest is itself in quiet
//     hours).
//
// Times of day are read on the subscriber's wall clock: a time the clocks
// skip happens at the jump, a time they show twice happens the first time.
package preferences

import (
	"time"

	"github.com/notifyd/notifyd"
)

// Notification is what Decide needs to know of a notification.
type Notification struct {
	// Type is the notification's type.
	Type notifyd.NotificationType
	// EventStart is when the event it is about starts (the instance
	// concerned); zero when it is about no event or the start is unknown.
	EventStart time.Time
	// Urgent is set by whoever produced the notification when it must not
	// wait (Policy.UrgentWithin also makes it urgent).
	Urgent bool
}

// Action is what to do with a notification now.
type Action uint8

// The actions.
const (
	// Send delivers it now, on its own.
	Send Action = iota
	// Hold keeps it and delivers it on its own at Decision.At.
	Hold
	// Digest keeps it for the method's digest due at Decision.At.
	Digest
)

func (a Action) String() string {
	switch a {
	case Send:
		return "send"
	case Hold:
		return "hold"
	case Digest:
		return "digest"
	}
	return "unknown"
}

// Reason says which preference made the decision, for the delivery log.
type Reason string

// The reasons.
const (
	// ReasonNone: nothing delays it.
	ReasonNone Reason = ""
	// ReasonAlwaysImmediate: its type is always immediate.
	ReasonAlwaysImmediate Reason = "always-immediate"
	// ReasonQuietHoursBypass: urgent, and the method lets its type through
	// quiet hours.
	ReasonQuietHoursBypass Reason = "quiet-hours-bypass"
	// ReasonPaused: the subscription is paused.
	ReasonPaused Reason = "paused"
	// ReasonQuietHours: it is quiet hours.
	ReasonQuietHours Reason = "quiet-hours"
	// ReasonDigest: the method sends digests.
	ReasonDigest Reason = "digest"
	// ReasonThrottle: the method sent its maximum this period.
	ReasonThrottle Reason = "throttle"
)

// Decision is what to do with one notification for one method.
type Decision struct {
	Action Action
	// At is when a held notification is released or its digest is due;
	// zero for Send. It is never before the time of the decision.
	At time.Time
	// Reason is the preference that decided.
	Reason Reason
}

// maxChain bounds how many overlapping quiet periods Decide follows to
// find where quiet hours end (a week holds at most 2×MaxQuietPeriods).
const maxChain = 4 * MaxQuietPeriods

// Decide says what to do, at now, with notification n for a method of
// channel ch, which has sent `sent` messages in the current throttle
// period (see ThrottlePeriod).
func (p *Plan) Decide(ch notifyd.Channel, n Notification, sent int, now time.Time) Decision {
	mp := p.method(ch)
	immediate := p.policy.immediate(n, now)

	// 1 and 2: a pause, then quiet hours, may hold it until start.
	start, reason := now, ReasonNone
	if now.Before(p.pausedUntil) {
		start, reason = p.pausedUntil.In(p.loc), ReasonPaused
	}
	bypass := reason == ReasonNone && p.policy.urgent(n, now) && mp.lets(n.Type)
	if !bypass {
		if end, quiet := p.quietEnd(start); quiet {
			start = end
			if reason == ReasonNone {
				reason = ReasonQuietHours
			}
		}
	}
	held := reason != ReasonNone

	// 3: always immediate, or a method without digest.
	if immediate || mp.digest == digestImmediate && (held || mp.max == 0 || sent < mp.max) {
		switch {
		case held:
			return Decision{Action: Hold, At: start, Reason: reason}
		case bypass && p.quietNow(now):
			return Decision{Action: Send, Reason: ReasonQuietHoursBypass}
		case immediate:
			return Decision{Action: Send, Reason: ReasonAlwaysImmediate}
		}
		return Decision{Action: Send}
	}

	// 5: held, into the first digest at or after the hold ends (the
	// method has one: without, it was held above).
	if held {
		due := mp.due(start, false, p.loc)
		if p.quietNow(due) {
			due = start
		}
		return Decision{Action: Digest, At: due, Reason: reason}
	}

	// 4: the method's digest, or the throttle's.
	due, reason := mp.due(now, true, p.loc), ReasonDigest
	if mp.digest == digestImmediate {
		due, reason = nextAligned(now, mp.per, p.loc, true), ReasonThrottle
	}
	// The digest holds other notifications too: never during quiet hours.
	if end, quiet := p.quietEnd(due); quiet {
		due = end
	}
	return Decision{Action: Digest, At: due, Reason: reason}
}

// ThrottlePeriod returns the throttle period of channel ch's methods that
// contains now, [start, end): the caller counts the messages a method sent
// from start for Decide. Periods fall on multiples of the period since
// midnight on the subscriber's clock. ok is false when the channel has no
// throttle.
func (p *Plan) ThrottlePeriod(ch notifyd.Channel, now time.Time) (start, end time.Time, ok bool) {
	mp := p.method(ch)
	if mp.max == 0 {
		return time.Time{}, time.Time{}, false
	}
	end = nextAligned(now, mp.per, p.loc, true)
	return end.Add(-time.Duration(mp.per) * time.Second), end, true
}

// lets reports whether the method lets urgent notifications of type t
// through quiet hours.
func (mp *methodPlan) lets(t notifyd.NotificationType) bool {
	for _, b := range mp.bypass {
		if b == t {
			return true
		}
	}
	return false
}

// due returns when the method's next digest is due after t (at t too,
// unless strict).
func (mp *methodPlan) due(t time.Time, strict bool, loc *time.Location) time.Time {
	if mp.digest == digestWindow {
		return nextAligned(t, mp.window, loc, strict)
	}
	for k := 0; k < 3; k++ {
		at := dayOf(t, loc, k).at(mp.at, loc)
		if at.After(t) || !strict && at.Equal(t) {
			return at
		}
	}
	return t.Add(24 * time.Hour) // unreachable: a day later is always after t
}

// quietNow reports whether t is in quiet hours.
func (p *Plan) quietNow(t time.Time) bool {
	_, quiet := p.covering(t)
	return quiet
}

// quietEnd returns the end of the quiet hours t is in, following periods
// that overlap or touch, and whether t is in quiet hours at all.
func (p *Plan) quietEnd(t time.Time) (time.Time, bool) {
	e, quiet := t, false
	for i := 0; i < maxChain; i++ {
		end, ok := p.covering(e)
		if !ok {
			break
		}
		e, quiet = end, true
	}
	return e, quiet
}

// covering returns the latest end of the quiet periods containing t.
func (p *Plan) covering(t time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	if len(p.quiet) == 0 {
		return best, false
	}
	// A period containing t started on t's day or the day before.
	for k := -1; k <= 0; k++ {
		day := dayOf(t, p.loc, k)
		for i := range p.quiet {
			q := &p.quiet[i]
			if q.days&(1<<day.wd) == 0 {
				continue
			}
			if day.at(q.from, p.loc).After(t) {
				continue
			}
			if end := day.at(q.to, p.loc); end.After(t) && (!found || end.After(best)) {
				best, found = end, true
			}
		}
	}
	return best, found
}
