package preferences

import (
	"time"

	"github.com/notifyd/notifyd"
)

// Rule makes one notification type always immediate: never gathered into
// a digest nor throttled, whatever a subscription's preferences say (quiet
// hours and a pause still hold it).
type Rule struct {
	// Type is the notification type.
	Type notifyd.NotificationType
	// Within, when not 0, limits the rule to notifications about an event
	// that starts within Within from now (a cancellation of tomorrow's
	// meeting, not of next month's).
	Within time.Duration
}

// Policy is what a calendar system imposes on every subscription's
// preferences.
type Policy struct {
	// AlwaysImmediate lists the types that skip digests and throttles.
	AlwaysImmediate []Rule
	// UrgentWithin makes a notification about an event starting within
	// this long urgent, so that a method may let it through quiet hours
	// (ChannelPreferences.QuietHoursBypass); 0 leaves urgency to the
	// notification's own Urgent flag.
	UrgentWithin time.Duration
}

// The types a calendar server's scheduling messages are expected to carry
// once notifyd parses them; named as strings so that this package does not
// depend on when they are added.
const (
	typeInvitation          notifyd.NotificationType = "invitation"
	typeInvitationCancelled notifyd.NotificationType = "invitation-cancelled"
	typeCounterProposal     notifyd.NotificationType = "counter-proposal"
)

// DefaultPolicy is the policy of a system that configures none:
// invitations that need an answer (sharing invitations, meeting
// invitations and counter-proposals), cancellations of events starting
// within 24 hours (a cancelled invitation or a deleted event) and
// reminders are always immediate; an event starting within 2 hours makes
// its notification urgent.
func DefaultPolicy() Policy {
	return Policy{
		AlwaysImmediate: []Rule{
			{Type: notifyd.TypeShareInvite},
			{Type: typeInvitation},
			{Type: typeCounterProposal},
			{Type: typeInvitationCancelled, Within: 24 * time.Hour},
			{Type: notifyd.TypeEventDeleted, Within: 24 * time.Hour},
			{Type: notifyd.TypeReminder},
		},
		UrgentWithin: 2 * time.Hour,
	}
}

// immediate reports whether n is always immediate at now.
func (p *Policy) immediate(n Notification, now time.Time) bool {
	for _, r := range p.AlwaysImmediate {
		if r.Type == n.Type && (r.Within == 0 || startsWithin(n.EventStart, now, r.Within)) {
			return true
		}
	}
	return false
}

// urgent reports whether n is urgent at now.
func (p *Policy) urgent(n Notification, now time.Time) bool {
	return n.Urgent || p.UrgentWithin > 0 && startsWithin(n.EventStart, now, p.UrgentWithin)
}

// startsWithin reports whether start is known and in [now, now+d).
func startsWithin(start, now time.Time, d time.Duration) bool {
	return !start.IsZero() && !start.Before(now) && start.Before(now.Add(d))
}
