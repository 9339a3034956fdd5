package im

import (
	"fmt"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// reachability is what the channel knows of a recipient's presence when
// it is asked to send.
type reachability int

const (
	// online: the recipient has at least one available resource.
	online reachability = iota
	// offline: the recipient's presence is visible (notifyd is subscribed
	// to it) and no resource is available.
	offline
	// invisible: notifyd cannot see the recipient's presence: the
	// subscription request is not approved (yet), or was refused.
	invisible
)

// String names r for logs and test names.
func (r reachability) String() string {
	switch r {
	case online:
		return "online"
	case offline:
		return "offline"
	default:
		return "presence not visible"
	}
}

// ReasonOffline is the Result.Skipped reason of a message not sent
// because its recipient is offline and the delivery method's policy is
// online_only. A recipient whose presence notifyd cannot see (the
// subscription request is not approved) counts as offline; the reason
// then says so after this text.
const ReasonOffline = "recipient offline (online_only)"

// policy returns the delivery method's presence policy, online_only when
// unset or unknown.
func policy(m notifyd.DeliveryMethod) string {
	switch m.Presence {
	case notifyd.PresenceStore, notifyd.PresenceFallback:
		return m.Presence
	default:
		return notifyd.PresenceOnlineOnly
	}
}

// decide applies a presence policy: send reports whether the message is
// to be sent; otherwise res (skipped) or err (fallback) is the outcome.
// detail explains an invisible presence.
func decide(pol string, r reachability, addr, detail string) (send bool, res delivery.Result, err error) {
	if r == online || pol == notifyd.PresenceStore {
		return true, delivery.Result{}, nil
	}
	why := "is offline"
	if r == invisible {
		why = "is offline as far as notifyd can tell (" + detail + ")"
	}
	if pol == notifyd.PresenceFallback {
		return false, delivery.Result{}, fmt.Errorf("im: %s %s: %w", addr, why, delivery.ErrFallback)
	}
	reason := ReasonOffline
	if r == invisible {
		reason += ": " + detail
	}
	return false, delivery.Result{Skipped: reason}, nil
}
